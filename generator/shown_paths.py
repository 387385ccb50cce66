"""How a message names a path: as a person at this prompt would (it reads the working
directory, so it is no part of the pure core). Below every stage that words a message, so
that the use case and the tree's edge need not import the console to name a path."""

from __future__ import annotations

import os
from pathlib import Path


def shown_path(path: Path) -> str:
    """``path`` as a person at this prompt names it: relative when it is below the cwd."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()
