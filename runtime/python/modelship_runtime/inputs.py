"""The request body of POST /predict, checked against the model's input_type.

The body is a JSON object with one key, ``input``: a non-empty list whose items are

========== =====================================================================================
integers   JSON integers between -2**63 and 2**63 - 1 (no fraction, no exponent, no booleans)
floats     JSON numbers within 32-bit float range (about ±3.4e38); integers are taken as floats
doubles    JSON numbers within 64-bit float range; integers are taken as floats
bytes      strings of standard, padded base64 (RFC 4648 section 4), each decoded to bytes
strings    JSON strings
========== =====================================================================================

That list is one row, what the model's ``predict`` gets as ``[row]``. Anything else is an
``InvalidInput`` whose message names the item, e.g. ``input[2]: must be a number (doubles), got
"x"``. ``NaN`` and ``Infinity``, which Python's JSON reader would otherwise accept, are refused:
they are not JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT32_MAX = 3.4028234663852886e38
SHOWN_CHARACTERS = 40


class InvalidInput(ValueError):
    """The body does not follow the contract; the message is for the caller."""


def _refuse_constant(name: str) -> float:
    raise InvalidInput(f"{name} is not JSON; send numbers only")


def _shown(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 3] + "..."


def _integer(value: object) -> int:
    if type(value) is not int:
        raise TypeError("must be an integer")
    if not INT64_MIN <= value <= INT64_MAX:
        raise TypeError("must be an integer within 64 bits")
    return value


def _number(limit: float) -> Callable[[object], float]:
    def check(value: object) -> float:
        if type(value) not in {int, float}:
            raise TypeError("must be a number")
        try:
            number = float(value)  # type: ignore[arg-type]
        except OverflowError:
            number = math.inf
        if math.isinf(number) or abs(number) > limit:
            raise TypeError("must be a number within range")
        return number

    return check


def _bytes(value: object) -> bytes:
    if type(value) is not str:
        raise TypeError("must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise TypeError("must be standard, padded base64") from None


def _string(value: object) -> str:
    if type(value) is not str:
        raise TypeError("must be a string")
    return value


CHECKS: dict[str, Callable[[object], object]] = {
    "integers": _integer,
    "floats": _number(FLOAT32_MAX),
    "doubles": _number(float("inf")),
    "bytes": _bytes,
    "strings": _string,
}


def parse(body: bytes, input_type: str) -> list[object]:
    """The row in ``body``, each item converted for ``input_type``; InvalidInput otherwise."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except InvalidInput:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"the body is not JSON: {error}") from None
    except RecursionError:
        raise InvalidInput("the body is nested too deeply") from None
    if not isinstance(payload, dict) or "input" not in payload:
        raise InvalidInput('the body must be a JSON object such as {"input": [1.1, 5.1]}')
    unknown = sorted(set(payload) - {"input"})
    if unknown:
        raise InvalidInput(f'unknown key {_shown(unknown[0])}; the body holds only "input"')
    row = payload["input"]
    if not isinstance(row, list) or not row:
        raise InvalidInput(f"input must be a non-empty list of {input_type}, got {_shown(row)}")
    check = CHECKS[input_type]
    converted = []
    for position, value in enumerate(row):
        try:
            converted.append(check(value))
        except TypeError as error:
            raise InvalidInput(
                f"input[{position}]: {error} ({input_type}), got {_shown(value)}"
            ) from None
    return converted
