"""Terminal output: a rich console on stderr for progress, tables on stdout."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from generator.findings import printable
from generator.sources.base import ProgressCallback


def _color() -> bool:
    return "NO_COLOR" not in os.environ


def stdout(pipe_width: int | None = None) -> Console:
    """``pipe_width``: the width when stdout is not a terminal (rich assumes 80 columns and
    cuts table cells; a pipe or a file wants whole names)."""
    console = Console(file=sys.stdout, no_color=not _color(), highlight=False, soft_wrap=True)
    if pipe_width is not None and not console.is_terminal:
        console.width = pipe_width
    return console


def stderr() -> Console:
    return Console(file=sys.stderr, no_color=not _color(), highlight=False, soft_wrap=True)


def table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A plain table; cells are text, never rich markup (a repository may be named ``[red]x``)."""
    result = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        result.add_column(column, no_wrap=True)
    for row in rows:
        result.add_row(*(Text(printable(cell)) for cell in row))
    return result


@contextmanager
def progress(description: str) -> Iterator[ProgressCallback | None]:
    """A progress bar on an interactive stderr; nothing otherwise (CI logs stay clean)."""
    console = stderr()
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def shown_path(path: Path) -> str:
    """``path`` as a person at this prompt names it: relative when it is below the cwd."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()
