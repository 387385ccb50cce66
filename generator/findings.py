"""A Finding is one problem found in one input file, with its position."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# Characters that would act on a terminal or hide text rather than show: C0 and C1
# controls (ANSI escapes), zero-width and bidirectional controls, line separators.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def printable(text: str) -> str:
    """``text`` on one line with every unprintable character spelled as an escape."""
    return _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, located at ``path:line:column`` (both 1-based).

    ``key`` is the dotted path of the offending key (``entry_points.main.command``),
    empty when the problem has no key, e.g. a YAML syntax error. ``rule`` is a
    stable identifier (``mlproject/type``) for tooling; ``message`` is for people.
    """

    path: str
    line: int
    column: int
    key: str
    message: str
    rule: str
    severity: Severity = Severity.ERROR
    repo: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        prefix = "" if self.severity is Severity.ERROR else f"{self.severity.value}: "
        key = f"{self.key}: " if self.key else ""
        return printable(f"{where}: {prefix}{key}{self.message}")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.is_error for f in findings)
