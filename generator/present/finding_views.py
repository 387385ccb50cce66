"""Findings for people and tools: ``path:line:col`` text, JSON, GitHub Actions annotations,
and the step-summary Markdown table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, TextIO

from generator.findings import Finding, Severity
from generator.present import console, github_actions, markdown
from generator.wording import plural

SUMMARY_ROWS = 100  # table rows a step summary shows; the log has the rest


def counts(findings: Sequence[Finding]) -> tuple[int, int]:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return errors, len(findings) - errors


def findings_text(findings: Sequence[Finding]) -> str:
    return "".join(f"{finding}\n" for finding in findings)


def findings_summary(findings: Sequence[Finding], checked: int, what: str = "file") -> str:
    errors, warnings = counts(findings)
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in {plural(checked, what)}"


def finding_dict(finding: Finding) -> dict[str, Any]:
    data = asdict(finding)
    data["severity"] = finding.severity.value
    return data


def write_findings(findings: Sequence[Finding], stream: TextIO) -> None:
    """Each finding as a ``path:line:col`` line or, in GitHub Actions mode, as the workflow
    command that makes it an annotation on that line (its message is the same line)."""
    github = github_actions.current()
    if github is not None:
        stream.write(github.annotations(findings))
        return
    colours = console.styled(stream)
    if colours is None:
        stream.write(findings_text(findings))
        return
    for finding in findings:
        style = console.ERROR_STYLE if finding.is_error else console.WARNING_STYLE
        colours.print(str(finding), markup=False, style=style)


def annotate(findings: Sequence[Finding], stream: TextIO) -> None:
    """The annotations alone, in GitHub Actions mode (beside machine-readable output)."""
    github = github_actions.current()
    if github is not None:
        stream.write(github.annotations(findings))


def findings_markdown(findings: Sequence[Finding], checked: int, what: str = "file") -> str:
    """The counts, then a table of the findings (at most SUMMARY_ROWS of them)."""
    errors, _ = counts(findings)
    verdict = "Failed" if errors else "Passed"
    text = f"**{verdict}:** {findings_summary(findings, checked, what)}\n"
    if not findings:
        return text
    rows = [
        (
            finding.severity.value,
            markdown.code(f"{finding.path}:{finding.line}:{finding.column}", in_table=True),
            markdown.code(finding.key, in_table=True) if finding.key else "",
            markdown.text(finding.message),
        )
        for finding in findings[:SUMMARY_ROWS]
    ]
    table = markdown.table(("Severity", "Location", "Key", "Message"), rows)
    return f"{text}\n{table}{more(len(findings), 'finding')}"


def more(total: int, what: str) -> str:
    hidden = total - SUMMARY_ROWS
    return f"\n…and {plural(hidden, what)} more; the step log lists all.\n" if hidden > 0 else ""
