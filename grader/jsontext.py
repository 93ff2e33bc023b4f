"""JSON text as ``json.dumps(value, ensure_ascii=False)`` writes it, at C speed.

``json.dumps`` with any argument but the defaults builds a new encoder on every call,
which cost more than encoding an answer (profile of ``grade``: some 225,000 calls for a
class of 10,000). Here the C encoder of the standard library is built once. Values must
be acyclic (they come from parsed JSON and from the grader): there is no circular check.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encoder(
    default: Callable[[Any], Any], *, ascii_only: bool = False, compact: bool = False
) -> Callable[[Any], str]:
    separators = (":", ",") if compact else (": ", ", ")
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - a Python built without the C accelerator
        encoder = json.JSONEncoder(
            ensure_ascii=ascii_only,
            check_circular=False,
            default=default,
            separators=(separators[1], separators[0]),
        )
        return encoder.encode
    strings = json.encoder.encode_basestring_ascii if ascii_only else json.encoder.encode_basestring
    chunks = make(None, default, strings, None, *separators, False, False, True)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    # ``c_make_encoder``'s arguments are CPython's own: check them once against json's
    # encoder, and use that (slower) if a future Python changed them
    sample = {"a": [1, 2.5, -0.0, float("nan"), None, True, "∂\n"], "b": {"c": []}}
    reference = json.JSONEncoder(
        ensure_ascii=ascii_only,
        check_circular=False,
        default=default,
        separators=(separators[1], separators[0]),
    )
    try:
        if encode(sample) == reference.encode(sample):
            return encode
    except Exception:  # pragma: no cover - the signature changed
        pass
    return reference.encode  # pragma: no cover


dumps = _encoder(_refuse)
"""``json.dumps(value, ensure_ascii=False)``."""

dumps_any = _encoder(str)
"""``json.dumps(value, ensure_ascii=False, default=str)``: what JSON cannot hold as its
``str``."""

dumps_compact = _encoder(_refuse, ascii_only=True, compact=True)
"""``json.dumps(value, separators=(",", ":"))``: ASCII, no spaces."""
