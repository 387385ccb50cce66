"""How a source tells of its progress: a module of its own, so that the console, which draws
the bar, needs nothing else of the sources (and ``--help`` none of the core they import)."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, int | None], None]
"""Called as (repositories done, total or None when unknown)."""
