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


def _encoder(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - a Python built without the C accelerator
        encoder = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=default)
        return encoder.encode
    chunks = make(
        None, default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    return lambda value: "".join(chunks(value, 0))


dumps = _encoder(_refuse)
"""``json.dumps(value, ensure_ascii=False)``."""

dumps_any = _encoder(str)
"""``json.dumps(value, ensure_ascii=False, default=str)``: what JSON cannot hold as its
``str``."""
