"""A student's variant as a plain rubric file (what ``grader variant`` prints)."""

from __future__ import annotations

import yaml

from grader.variants.variant import Variant


def render_variant_yaml(variant: Variant, *, seed: str | int) -> str:
    """The variant's rubric as YAML in the rubric format, with no ``variants`` block:
    every command (and any other tool) reads it as an ordinary rubric."""
    header = (
        f"# {variant.rubric.title}: the variant of student '{variant.student}' "
        f"(seed {seed!r}, attempt {variant.attempt}), written by grader variant.\n"
    )
    body = yaml.safe_dump(
        variant.data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
    return header + body
