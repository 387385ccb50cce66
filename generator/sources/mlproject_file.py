"""Reading an MLproject file from disk: one regular UTF-8 file, never more than it may hold
(``regular_file``)."""

from __future__ import annotations

from pathlib import Path

from generator import regular_file
from generator.mlproject import MAX_BYTES
from generator.regular_file import Unreadable

__all__ = ["Unreadable", "read"]


def read(path: Path) -> str:
    """The text of the MLproject at ``path``; :class:`Unreadable` when it is not a regular
    UTF-8 file of at most MAX_BYTES, OSError when the system cannot read it."""
    return regular_file.read_text(path, MAX_BYTES, "an MLproject")
