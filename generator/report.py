"""How findings and results are shown: text for people, JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from generator.findings import Finding, Severity


def counts(findings: Sequence[Finding]) -> tuple[int, int]:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return errors, len(findings) - errors


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


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
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
