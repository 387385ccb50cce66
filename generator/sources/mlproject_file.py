"""Reading an MLproject file from disk: one regular file, never more than it may hold
(``regular_file``), and UTF-8 text."""

from __future__ import annotations

from pathlib import Path

from generator import regular_file
from generator.mlproject import MAX_BYTES
from generator.regular_file import Unreadable

__all__ = ["Unreadable", "read"]


def read(path: Path) -> str:
    """The text of the MLproject at ``path``; :class:`Unreadable` when it is not a regular
    UTF-8 file of at most MAX_BYTES, OSError when the system cannot read it."""
    data = regular_file.read(path, MAX_BYTES, "an MLproject")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"{path.name} is not UTF-8 text (byte {error.start})") from None
