"""How findings and results are shown: text for people, JSON for tools, GitHub Actions
annotations and step-summary Markdown in Actions mode."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, TextIO

from generator import actions, markdown
from generator.changeset import KINDS, ChangeSet
from generator.findings import Finding, Severity, printable_lines
from generator.treediff import TreeChanges
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


def to_json(document: Any) -> str:
    """JSON for tools: readable unicode, and every character that could act on a terminal
    spelled as JSON's own escape (the document decodes to the same values)."""
    return (
        printable_lines(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
    )


def write_findings(findings: Sequence[Finding], stream: TextIO) -> None:
    """Each finding as a ``path:line:col`` line or, in GitHub Actions mode, as the workflow
    command that makes it an annotation on that line (its message is the same line)."""
    github = actions.current()
    stream.write(github.annotations(findings) if github else findings_text(findings))


def annotate(findings: Sequence[Finding], stream: TextIO) -> None:
    """The annotations alone, in GitHub Actions mode (beside machine-readable output)."""
    github = actions.current()
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
    return f"{text}\n{table}{_more(len(findings), 'finding')}"


def render_markdown(
    headline: str, changes: TreeChanges, findings: Sequence[Finding], repositories: int
) -> str:
    """A render's outcome: ``headline``, the changed files (at most SUMMARY_ROWS), and the
    findings in the repositories it read."""
    text = f"{markdown.text(headline)}\n"
    kinds = {
        **dict.fromkeys(changes.added, "added"),
        **dict.fromkeys(changes.modified, "changed"),
        **dict.fromkeys(changes.removed, "removed"),
    }
    if kinds:
        rows = [
            (markdown.code(path, in_table=True), kinds[path])
            for path in changes.paths[:SUMMARY_ROWS]
        ]
        table = markdown.table(("File", "Change"), rows)
        text += f"\n{table}{_more(len(kinds), 'file')}"
    if findings:
        text += "\n" + findings_markdown(findings, repositories, "repository")
    return text


def render_outputs(
    models: int, changes: TreeChanges, findings: Sequence[Finding]
) -> dict[str, actions.OutputValue]:
    errors, warnings = counts(findings)
    return {
        "models": models,
        "files-added": len(changes.added),
        "files-changed": len(changes.modified),
        "files-removed": len(changes.removed),
        "changed": not changes.empty,
        "errors": errors,
        "warnings": warnings,
    }


def change_outputs(
    changes: ChangeSet, findings: Sequence[Finding]
) -> dict[str, actions.OutputValue]:
    """Step outputs of a run that compares two trees model by model (diff, publish): the
    count of each kind of change (``models-added``, ...), the ids of the models that
    change, whether any file changes, and the findings."""
    errors, warnings = counts(findings)
    return {
        **{f"models-{kind}": changes.count(kind) for kind in KINDS},
        "changed-models": [model.id for model in changes.changed_models],
        "changed": not changes.empty,
        "errors": errors,
        "warnings": warnings,
    }


def changes_markdown(
    said: Sequence[str],
    changes: ChangeSet,
    findings: Sequence[Finding],
    repositories: int,
    notes: Sequence[str] = (),
) -> str:
    """A step summary of such a run: what it did (``said``, one line each), the model
    counts, a table of the models that change (at most SUMMARY_ROWS), notes, findings."""
    text = "".join(f"{markdown.text(line)}  \n" for line in said)
    text = (text.removesuffix("  \n") + "\n\n") if said else ""
    text += f"**Models:** {markdown.text(changes.summary())}\n"
    shown = changes.changed_models
    if shown:
        rows = [
            (
                model.kind,
                markdown.code(model.id, in_table=True),
                markdown.code(model.source, in_table=True),
                markdown.text(model.team),
            )
            for model in shown[:SUMMARY_ROWS]
        ]
        table = markdown.table(("Change", "Model", "Source", "Team"), rows)
        text += f"\n{table}{_more(len(shown), 'model')}"
    for note in notes:
        text += f"\n> {markdown.text(note)}\n"
    if findings:
        text += "\n" + findings_markdown(findings, repositories, "repository")
    return text


def _more(total: int, what: str) -> str:
    hidden = total - SUMMARY_ROWS
    return f"\n…and {plural(hidden, what)} more; the step log lists all.\n" if hidden > 0 else ""
