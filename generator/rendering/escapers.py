"""Escapers: how a value is written into each output format.   (pure)

The render engine passes every ``{{ value }}`` of a template through the
escaper of the template's format, the way HTML templates autoescape: a value
becomes one complete, inert token of that format (a YAML scalar, a JSON value,
an nginx token, ...), so no MLproject field can break out of its quotes. A
template that must emit structure uses a filter returning :class:`Raw`.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any


class Raw(str):
    """Text that is already valid in the output format; escapers pass it through."""


_YAML_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*\Z")
# Words some YAML parser (1.1 or 1.2) reads as something other than a string.
_YAML_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _scalar(value: Any, fmt: str) -> str | None:
    """The JSON/YAML spelling of None, booleans and numbers; None for anything else."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} into {fmt}")
        mantissa, _, exponent = repr(value).partition("e")
        if exponent and "." not in mantissa:
            mantissa += ".0"  # YAML 1.1 reads 1e-05 as a string, 1.0e-05 as a float
        return f"{mantissa}e{exponent}" if exponent else mantissa
    return None


def _yaml_double_quoted(value: str) -> str:
    """A double-quoted YAML scalar holding only printable ASCII.

    JSON would do for ASCII text, but JSON spells a character outside the
    Basic Multilingual Plane as a surrogate pair, which YAML reads as two
    characters; YAML's own escape for it is \\UXXXXXXXX.
    """
    if value.isascii():
        return json.dumps(value)
    out = []
    for char in value:
        code = ord(char)
        if code < 0x80:
            out.append(json.dumps(char)[1:-1])
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


@lru_cache(maxsize=65536)
def _yaml_string(value: str) -> str:
    if _YAML_PLAIN.match(value) and value.lower() not in _YAML_RESERVED:
        return value
    return _yaml_double_quoted(value)


def yaml_scalar(value: Any) -> str:
    """One YAML scalar on one line: plain when unambiguous, else double-quoted."""
    if type(value) is str:  # the common case, and the same strings recur in every file
        return _yaml_string(value)
    if isinstance(value, Raw):
        return value
    scalar = _scalar(value, "YAML")
    if scalar is not None:
        return scalar
    if isinstance(value, str):
        return _yaml_string(value)
    raise TypeError(f"cannot write a {type(value).__name__} as a YAML scalar; use |to_json")


def json_value(value: Any) -> str:
    if isinstance(value, Raw):
        return value
    return json.dumps(value, ensure_ascii=True, sort_keys=True, allow_nan=False)


# nginx expands $name and ${name} in most string arguments (return, set, add_header, ...)
# and has no escape for '$'; the gateway's nginx.conf defines this variable as a literal
# '$' (a geo value is never interpolated), and the escaper spells every '$' with it.
NGINX_DOLLAR_VARIABLE = "modelship_dollar"
_NGINX_PLAIN = re.compile(r"[A-Za-z0-9_/@][A-Za-z0-9_.:/@-]*\Z")
_NGINX_VARIABLE = re.compile(r"[a-z_][a-z0-9_]*\Z")
# Inside a double-quoted nginx string a backslash escapes '"', "'" and itself and spells
# tab, CR and LF as \t, \r and \n; every other character stands for itself.
_NGINX_QUOTED = str.maketrans(
    {
        "\\": "\\\\",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "$": "${" + NGINX_DOLLAR_VARIABLE + "}",
    }
)


def nginx_token(value: Any) -> str:
    """One nginx directive argument whose text, after nginx's variable expansion, is ``value``.

    Plain when it holds only characters nginx gives no meaning, double-quoted
    otherwise. The '$' spelling is right wherever nginx expands variables
    (``return``, ``set``, ``add_header``, ``log_format``); templates print a value
    that may hold '$' only there, and validated names (hosts, ids, sizes) elsewhere.
    """
    if isinstance(value, Raw):
        return value
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write a {type(value).__name__} as an nginx token")
    if "\0" in value:
        raise ValueError("an nginx configuration cannot hold a NUL character")
    if _NGINX_PLAIN.match(value):
        return value
    return '"' + value.translate(_NGINX_QUOTED) + '"'


# nginx reads each configuration token into a buffer of 4096 bytes (NGX_CONF_BUFFER): a
# longer argument makes `nginx -t` fail ("too long parameter") for the whole configuration.
NGINX_TOKEN_BYTES = 4096


def nginx_appends(variable: str, value: str, limit: int = NGINX_TOKEN_BYTES // 2) -> list[Raw]:
    """The arguments of ``set $variable ...;`` directives that build ``value`` piece by piece,
    each at most ``limit`` bytes: the first holds the first piece, each later one
    ``${variable}`` followed by the next. A value too long for one token, escaped (a '$'
    takes nineteen bytes), gets in this way; nginx expands a variable's value once, so
    text from earlier pieces stays text."""
    if not _NGINX_VARIABLE.match(variable):
        raise ValueError(f"not an nginx variable name: {variable!r}")
    prefix = "${" + variable + "}"
    tokens: list[Raw] = []
    current: list[str] = []
    size = 2  # the quotes
    for char in value:
        grown = len(char.translate(_NGINX_QUOTED).encode("utf-8"))
        if current and size + grown > limit:
            tokens.append(_appended(tokens, prefix, current))
            current, size = [], 2 + len(prefix)
        current.append(char)
        size += grown
    tokens.append(_appended(tokens, prefix, current))
    return tokens


def _appended(tokens: list[Raw], prefix: str, chars: list[str]) -> Raw:
    text = "".join(chars).translate(_NGINX_QUOTED)
    return Raw(f'"{prefix}{text}"' if tokens else f'"{text}"')


def to_json(value: Any) -> Raw:
    """Compact, sorted JSON: valid wherever a JSON value or a YAML flow value may stand."""
    return Raw(json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(", ", ": ")))


def _jjb_literal(text: str) -> str:
    """Jenkins Job Builder formats every string of a job with ``str.format``; a doubled
    brace is its literal brace, so doubling each one makes any text arrive unchanged."""
    return text.replace("{", "{{").replace("}", "}}")


def jjb_scalar(value: Any) -> str:
    """One YAML scalar of a Jenkins Job Builder file; the value reaches the job's XML unchanged."""
    if isinstance(value, str) and not isinstance(value, Raw):
        return yaml_scalar(_jjb_literal(value))
    return yaml_scalar(value)
