"""index.json's text: JSON indented by two spaces, keys sorted, ASCII only.   (pure)

Written by orjson, thirty times faster than the standard library, whose encoder is written
in C only for compact output (with an indent it falls back to Python): index.json — 10,000
models, half a million values — is written on every render. The text is the standard
library's ``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True)`` but for
floats, which orjson spells in the shortest form that reads back the same (``0.00001``,
not ``1e-05``). What orjson cannot write as it was read — a number past 64 bits, text
holding a lone surrogate, NaN or infinity (which it would write as null) — is written by
the standard library, so a damaged entry is written back exactly as it was read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

import orjson

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_NOT_ASCII = re.compile(r"[^\x00-\x7e]")  # DEL too, as ensure_ascii escapes it


def dumps(value: Any, *, as_read: Iterable[Any] = ()) -> str:
    """``value`` as JSON text; ``as_read``: parts of it written back as they were read
    (they may hold NaN or infinity, which only the standard library writes as read)."""
    if not any(_holds_non_finite(part) for part in as_read):
        try:
            text = orjson.dumps(value, option=_OPTIONS).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
        else:
            return _NOT_ASCII.sub(_escaped, text)
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True)


def _escaped(match: re.Match[str]) -> str:
    """A character past printable ASCII as JSON's escape, as ``ensure_ascii`` spells it (a pair of
    surrogates past the Basic Multilingual Plane)."""
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"


def _holds_non_finite(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif kind is float and not math.isfinite(item):
            return True
    return False
