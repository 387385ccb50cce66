"""GitHub-flavoured Markdown built from untrusted text: every value stays inert text.   (pure)

MLproject values reach step summaries (and pull-request comments) through messages
such as ``(got "fast")``; a value must not become a link, a table column, an HTML
tag or an emphasis. ``text`` escapes every ASCII punctuation character, which
CommonMark and GFM allow for any of them; ``code`` picks a fence longer than any
backtick run in the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from generator.findings import printable

_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def _one_line(value: str) -> str:
    """On one line, and with every character that could act on a terminal escaped."""
    return printable(_LINE_BREAKS.sub(" ", value))


def text(value: str) -> str:
    """``value`` as literal Markdown text on one line (safe inside a table cell)."""
    return _ASCII_PUNCTUATION.sub(r"\\\1", _one_line(value))


def code(value: str, in_table: bool = False) -> str:
    """``value`` as an inline code span on one line, whatever backticks it holds.

    In a table cell a ``|`` ends the cell even inside a code span unless escaped
    (GFM's table rule); the table parser removes that backslash again.
    """
    value = _one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith("`") or value.endswith("`"):
        value = f" {value} "
    if in_table:
        value = value.replace("|", "\\|")
    return f"{fence}{value}{fence}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GFM table; headers and cells must already be Markdown (use ``text``/``code``)."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines) + "\n"
