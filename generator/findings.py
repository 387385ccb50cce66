"""A Finding is one problem found in one input file, with its position."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# Characters that would act on a terminal or hide text rather than show: C0 and C1
# controls (ANSI escapes), zero-width, invisible and bidirectional controls, line
# separators, the soft hyphen, lone surrogates (which cannot even be written as UTF-8) and
# the non-characters U+FFFE/U+FFFF.
_INVISIBLE = (
    "\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff"
)
_UNPRINTABLE = re.compile(f"[\x00-\x1f{_INVISIBLE}]")
# The same but for line breaks and tabs: for text that is many lines (a diff, JSON).
_UNPRINTABLE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_INVISIBLE}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: str) -> str:
    """``text`` on one line with every unprintable character spelled as an escape."""
    return _UNPRINTABLE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """``text`` with every unprintable character but line breaks and tabs spelled as an
    escape (``\\u001b``): safe on a terminal and in a CI log, its lines kept. In JSON text
    the escape is JSON's own, so the document still decodes to the same values."""
    return _UNPRINTABLE_IN_LINES.sub(_escape, text)


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
