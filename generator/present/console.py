"""Terminal output: a rich console on stderr for progress and messages, tables on stdout.

Messages on stderr have three weights: ``info`` (what a run did; hidden by ``--quiet``),
``detail`` (shown only with ``--verbose``), and ``warning`` / ``error`` (always shown). On a
terminal warnings are yellow and errors red, unless ``NO_COLOR`` is set (no-color.org);
``FORCE_COLOR`` colours a pipe too."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from generator.findings import printable
from generator.sources.progress import ProgressCallback

QUIET, NORMAL, VERBOSE = -1, 0, 1
_verbosity = NORMAL

WARNING_STYLE = "yellow"
ERROR_STYLE = "bold red"


def set_verbosity(level: int) -> None:
    """``QUIET`` (``--quiet``), ``NORMAL`` or ``VERBOSE`` (``--verbose``), for this process."""
    global _verbosity  # noqa: PLW0603 - one setting per process, set once by the CLI
    _verbosity = level


def verbose() -> bool:
    return _verbosity >= VERBOSE


def _color() -> bool:
    return "NO_COLOR" not in os.environ


def stdout(pipe_width: int | None = None) -> Console:
    """``pipe_width``: the width when stdout is not a terminal (rich assumes 80 columns and
    cuts table cells; a pipe or a file wants whole names)."""
    console = Console(
        file=sys.stdout, no_color=not _color(), highlight=False, soft_wrap=True, emoji=False
    )
    if pipe_width is not None and not console.is_terminal:
        console.width = pipe_width
    return console


def stderr() -> Console:
    return Console(
        file=sys.stderr, no_color=not _color(), highlight=False, soft_wrap=True, emoji=False
    )


def info(text: str) -> None:
    """A line about what the run did (a headline, a commit, a push); not with ``--quiet``.
    ``text`` is shown as it is: callers pass text made printable where it quotes input."""
    if _verbosity > QUIET:
        stderr().print(text, markup=False)


def detail(text: str) -> None:
    """A line only ``--verbose`` shows."""
    if _verbosity >= VERBOSE:
        stderr().print(text, markup=False, style="dim")


def warning(text: str) -> None:
    """``modelship: warning: text``, yellow on a terminal; shown even with ``--quiet``."""
    stderr().print(f"modelship: warning: {text}", markup=False, style=WARNING_STYLE)


def note(text: str) -> None:
    """Something a person must read (an incomplete scan, a refusal, a model kept on error),
    as it is; shown even with ``--quiet``, yellow on a terminal."""
    stderr().print(text, markup=False, style=WARNING_STYLE)


def error(text: str) -> None:
    """``modelship: error: text``, red on a terminal."""
    stderr().print(f"modelship: error: {text}", markup=False, style=ERROR_STYLE)


def styled(stream: TextIO) -> Console | None:
    """A console that colours what goes to ``stream``, when ``stream`` is a terminal (or
    FORCE_COLOR is set) and NO_COLOR is not; None: write plain text."""
    console = Console(
        file=stream, no_color=not _color(), highlight=False, soft_wrap=True, emoji=False
    )
    return console if console.is_terminal and _color() else None


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
    if not console.is_terminal or _verbosity <= QUIET:
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
