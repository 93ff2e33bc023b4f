"""The student id a variant is drawn for: one small function, so every command agrees."""

from __future__ import annotations

import unicodedata


def normalise_student_id(
    student_id: str, *, strip_domain: bool = True, strip_prefix: str = ""
) -> str:
    """The id as variants see it: Unicode NFC, surrounding white space removed, case
    folded (``Alice`` is ``alice``); with ``strip_domain``, everything from the last
    ``@`` on dropped when something comes before it (``alice@uni.edu`` is ``alice``);
    then ``strip_prefix`` (case folded) dropped from the start when something follows it
    (``hw1-alice`` is ``alice`` with the prefix ``hw1-``).

    So ``" Alice@Uni.edu "``, ``"alice"`` and ``"ALICE"`` get the same variant, on
    every machine: no locale, no hash randomisation."""
    text = unicodedata.normalize("NFC", student_id).strip().casefold()
    if strip_domain:
        local, at, _domain = text.rpartition("@")
        if at and local.strip():
            text = local.strip()
    prefix = unicodedata.normalize("NFC", strip_prefix).casefold()
    if prefix and text.startswith(prefix) and text[len(prefix) :].strip():
        text = text[len(prefix) :].strip()
    return text
