"""Counts with their nouns, for messages.   (pure)"""


def plural(count: int, word: str) -> str:
    """``1 model``, ``2 models``, ``3 repositories``."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def too_large(name: str, size: int, limit: int, what: str) -> str:
    """``MLproject is 300,000 bytes, more than the 262,144 bytes an MLproject may have``."""
    return f"{name} is {size:,} bytes, more than the {limit:,} bytes {what} may have"
