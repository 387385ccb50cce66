"""index.json's text: JSON indented by two spaces, keys sorted, ASCII only, as bytes.   (pure)

Written by orjson, thirty times faster than the standard library, whose encoder is written
in C only for compact output (with an indent it falls back to Python): index.json — 10,000
models, half a million values — is written on every render. The text is the standard
library's ``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True)`` but for
floats, which orjson spells in the shortest form that reads back the same (``0.00001``,
not ``1e-05``). What orjson cannot write as it was read — a number past 64 bits, text
holding a lone surrogate, NaN or infinity (which it would write as null) — is written by
the standard library, so a damaged entry is written back exactly as it was read; the
whole text is then the standard library's, floats spelled as ``repr`` spells them. Like
the standard library, it refuses a value that is not JSON's (and, unlike it, a key that
is not text, which the standard library would turn into one).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

# Dataclasses and dates are not JSON: passed to ``default`` (none: refused), as the
# standard library refuses them.
_OPTIONS = (
    orjson.OPT_INDENT_2
    | orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_NOT_ASCII = re.compile(r"[^\x00-\x7e]")  # DEL too, as ensure_ascii escapes it


def dumps(value: Any, *, as_read: Iterable[Any] = ()) -> bytes:
    """``value`` as JSON text, in ASCII bytes; ``as_read``: parts of it written back as they
    were read (they may hold NaN or infinity, which only the standard library writes as
    read). orjson's bytes are the text when they are printable ASCII, as they mostly are:
    they are neither decoded nor searched for what to escape (a tenth of a second for 37 MB)."""
    if not any(_non_finite(item) for part in as_read for item in _values(part)):
        try:
            written = orjson.dumps(value, option=_OPTIONS)
        except orjson.JSONEncodeError:
            pass
        else:
            if written.isascii() and b"\x7f" not in written:  # DEL is escaped too
                return written
            return _NOT_ASCII.sub(_escaped, written.decode("utf-8")).encode("ascii")
    if any(
        isinstance(item, dict) and not all(type(k) is str for k in item) for item in _values(value)
    ):
        raise TypeError("index.json's keys must be text")
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True).encode("ascii")


def _values(value: Any) -> Iterator[Any]:
    """``value`` and every value within it, mappings and lists too (without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        yield item
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


def _non_finite(item: Any) -> bool:
    return type(item) is float and not math.isfinite(item)


def _escaped(match: re.Match[str]) -> str:
    """A character past printable ASCII as JSON's escape, as ``ensure_ascii`` spells it (a
    pair of surrogates past the Basic Multilingual Plane)."""
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"
