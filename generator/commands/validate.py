"""modelship validate: check MLproject files against the platform contract."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from generator import actions, mlproject, mlproject_file, pipeline, policy, report, ui
from generator.commands import common
from generator.config import Platform
from generator.errors import ConfigError, ExitCode
from generator.findings import Finding, Severity
from generator.model import Provenance

HELP = "check MLproject files (exit 1 on errors)"
DESCRIPTION = """\
Check MLproject files against the platform contract and print every problem as
path:line:col: key: message.

With PATHs, check those MLproject files, or the MLproject inside each folder
(a model repository). When a platform.yaml is found (--platform, $MODELSHIP_PLATFORM
or ./platform.yaml) the platform's rules apply too: the team must be one it lists.

Without PATHs: in a platform repository, check every model repository of the
platform's source; elsewhere, check the MLproject in the current folder.

In GitHub Actions (GITHUB_ACTIONS=true) every finding is also an annotation on
its line, the step summary gets a table of findings, and the step outputs
`errors` and `warnings` hold the counts.

Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 bad usage,
3 the scan of the platform's repositories did not complete.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="an MLproject file or a folder holding one"
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    common.add_format(parser, "text", "json")


def run(args: argparse.Namespace) -> int:
    platform = _optional_platform(args)
    if args.paths or platform is None:
        findings, checked = _check_paths(args.paths or ["."], platform)
        scanned = None
    else:
        scanned = common.scan(common.open_source(platform))
        evaluation = pipeline.evaluate(platform, scanned, common.previous_index(platform))
        findings, checked = list(evaluation.findings), len(scanned.snapshots)
    _print(findings, checked, args.format)
    if scanned is not None and not scanned.complete:
        ui.stderr().print(
            f"modelship: the scan did not complete ({scanned.incomplete_reason}); "
            "only the repositories read were checked",
            markup=False,
        )
        return ExitCode.EXTERNAL
    failing = Severity.WARNING if args.strict else Severity.ERROR
    worst = {f.severity for f in findings}
    if Severity.ERROR in worst or failing in worst:
        return ExitCode.FINDINGS
    return ExitCode.OK


def _optional_platform(args: argparse.Namespace) -> Platform | None:
    path = common.platform_path(args)
    explicit = bool(args.platform) or common.PLATFORM_ENV in os.environ
    if not explicit and not path.exists():
        return None
    return common.load_platform(args)


def _locate(argument: str) -> tuple[Path, str, str | None]:
    """The MLproject file for a PATH argument, the repository name it implies, and why the
    folder's MLproject is ambiguous (None when it is not)."""
    path = Path(argument)
    try:
        if path.is_dir():
            names = sorted(
                p.name for p in path.iterdir() if mlproject.is_mlproject_filename(p.name)
            )
            if not names:
                raise ConfigError(f"{argument}: no MLproject file in this folder")
            return path / names[0], path.resolve().name, mlproject.several_files(names)
        if not os.path.lexists(path):
            raise ConfigError(f"{argument}: no such file or folder")
    except OSError as error:
        raise ConfigError(f"{argument}: cannot read: {error.strerror}") from None
    repo = path.resolve().parent.name if mlproject.is_mlproject_filename(path.name) else ""
    return path, repo, None


def _check_paths(arguments: list[str], platform: Platform | None) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    candidates: list[policy.Candidate] = []
    for argument in arguments:
        path, repo, ambiguous = _locate(argument)
        shown = path.as_posix()
        if ambiguous is not None:
            findings.append(Finding(shown, 1, 1, "", ambiguous, "mlproject/several-files"))
            continue
        try:
            text = mlproject_file.read(path)
        except mlproject_file.Unreadable as problem:
            findings.append(Finding(shown, 1, 1, "", problem.message, problem.rule))
            continue
        except OSError as error:
            raise ConfigError(f"{shown}: cannot read: {error.strerror}") from None
        if platform is not None and repo:
            repo = f"{platform.github.organization}/{repo}"
        result = mlproject.parse(text, shown, repo)
        findings.extend(result.findings)
        if result.spec is not None and platform is not None:
            candidates.append(
                policy.Candidate(
                    spec=result.spec,
                    provenance=Provenance(repo or shown, "", "", ""),
                    location=shown,
                    positions=result.positions,
                )
            )
    if platform is not None and candidates:
        owners = policy.Owners.of(common.previous_index(platform))
        findings.extend(policy.decide(platform, candidates, owners).findings)
    return sorted(findings), len(arguments)


def _print(findings: list[Finding], checked: int, fmt: str) -> None:
    errors, warnings = report.counts(findings)
    actions.step_result(
        "Modelship validate",
        report.findings_markdown(findings, checked),
        {"errors": errors, "warnings": warnings},
    )
    if fmt == "json":
        report.annotate(findings, sys.stderr)
        document = {
            "checked": checked,
            "errors": errors,
            "warnings": warnings,
            "findings": [report.finding_dict(f) for f in findings],
        }
        sys.stdout.write(report.to_json(document))
        return
    report.write_findings(findings, sys.stdout)
    sys.stdout.write(report.findings_summary(findings, checked) + "\n")
