"""A Finding is one problem found in one input file, with its position."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


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
        return f"{where}: {prefix}{key}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.is_error for f in findings)
