"""Counts with their nouns, sizes, and JSON values' types, for messages.   (pure)"""

from typing import Any

_JSON_KINDS = {dict: "an object", list: "a list", str: "a string", type(None): "null"}


def plural(count: int, word: str) -> str:
    """``1 model``, ``2 models``, ``3 repositories``."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def too_large(name: str, size: int, limit: int, what: str) -> str:
    """``MLproject is 300,000 bytes, more than the 262,144 bytes an MLproject may have``."""
    return f"{name} is {size:,} bytes, more than the {limit:,} bytes {what} may have"


def json_kind(value: Any) -> str:
    """A decoded JSON value's type: ``an object``, ``a list``, ``a number``, ``null``..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _JSON_KINDS.get(type(value), type(value).__name__)
