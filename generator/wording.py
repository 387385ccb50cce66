"""Counts with their nouns, for messages.   (pure)"""


def plural(count: int, word: str) -> str:
    """``1 model``, ``2 models``, ``3 repositories``."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"
