"""modelship discover: the model repositories the source finds, and what finding them cost."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from generator import wording
from generator.commands import options
from generator.errors import ExitCode
from generator.findings import printable
from generator.present import console, json_output
from generator.sources.base import RepoSnapshot, Scan
from generator.sources.report import ScanReport, Skipped

PIPE_WIDTH = 1000

DESCRIPTION = """\
Scan the platform's source and list the model repositories it selects: why each
was selected (name suffix or topic), its head commit, whether it has an MLproject
and, with the github source, which of the platform's GitHub teams can push to it.
Candidates left out (archived, forks, topic or name filters) are listed with the
reason. With the github source, also print the API requests used and the rate
limit left.

Exit status: 0 the scan completed, 2 bad usage or configuration, 3 the scan is
incomplete (GitHub failed, or a rate limit outlasted the wait budget): the list
holds only what was read.
"""
EXAMPLES = """\
examples:
  modelship discover
  GITHUB_TOKEN=... modelship discover --source github --format json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_format(parser, "text", "json")
    options.add_source(parser)


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    source = options.open_source(platform, args)
    scanned = options.scan(source)
    github_report = source.report
    if args.format == "json":
        document = json_output.versioned("discover", _as_json(scanned, github_report))
        sys.stdout.write(json_output.to_json(document))
    else:
        _print_tables(scanned, github_report)
        _print_summary(scanned, github_report)
    if not scanned.complete:
        console.error(
            printable(
                f"the scan is incomplete: {scanned.incomplete_reason}; "
                "the list holds only what was read"
            )
        )
        return ExitCode.EXTERNAL
    return ExitCode.OK


def _teams(snapshot: RepoSnapshot) -> str:
    if snapshot.push_teams_unknown:
        return "unknown"
    if snapshot.push_teams is None:
        return "n/a"
    return ", ".join(snapshot.push_teams) or "none"


def _reason(item: Skipped) -> str:
    return f"{item.reason}: {item.detail}" if item.detail else item.reason


def _print_tables(scanned: Scan, github_report: ScanReport | None) -> None:
    out = console.stdout(pipe_width=PIPE_WIDTH)
    if not scanned.snapshots and not scanned.failures:
        out.print("no model repositories found", markup=False)
    else:
        rows = [
            (
                snapshot.full_name,
                snapshot.selected_by,
                snapshot.head_sha[:7] or "(empty)",
                snapshot.mlproject_path if snapshot.mlproject is not None else "none",
                _teams(snapshot),
            )
            for snapshot in scanned.snapshots
        ]
        rows += [(failure.full_name, "", "", "unreadable", "") for failure in scanned.failures]
        columns = ("REPOSITORY", "SELECTED BY", "HEAD", "MLPROJECT", "PUSH TEAMS")
        out.print(console.table(columns, rows))
    if github_report and github_report.skipped:
        skipped = console.table(
            ("SKIPPED", "SELECTED BY", "REASON"),
            (
                (item.full_name, item.selected_by, _reason(item))
                for item in sorted(github_report.skipped, key=lambda s: s.full_name)
            ),
        )
        out.print()
        out.print(skipped)


def _print_summary(scanned: Scan, github_report: ScanReport | None) -> None:
    for failure in scanned.failures:
        console.note(printable(f"{failure.full_name}: {failure.shown}"))
    with_file = sum(1 for s in scanned.snapshots if s.mlproject is not None)
    selected = len(scanned.snapshots) + len(scanned.failures)
    found = f"{_count(selected, 'model repository', 'model repositories')} "
    found += f"({with_file} with an MLproject"
    found += f", {len(scanned.failures)} unreadable)" if scanned.failures else ")"
    if github_report is None:
        console.info(f"found {found}")
        return
    total = "?" if github_report.total_count is None else f"{github_report.total_count:,}"
    line = f"{github_report.organization}: {total} repositories on GitHub, {found}"
    if github_report.skipped:
        counts = ", ".join(f"{reason} {n}" for reason, n in github_report.skip_counts.items())
        line += f"; {len(github_report.skipped)} skipped ({counts})"
    console.info(line)
    console.info(_requests_line(github_report))
    if github_report.rate_limits:
        left = ", ".join(
            f"{limit.resource} {limit.remaining:,}/{limit.limit:,} (resets {_clock(limit.reset)})"
            for limit in sorted(github_report.rate_limits.values(), key=lambda r: r.resource)
        )
        console.info(f"rate limit left: {left}")
    for warning in github_report.warnings:
        console.note(printable(f"warning: {warning}"))


def _requests_line(github_report: ScanReport) -> str:
    budget = github_report.request_budget
    ceiling = ""
    if budget is not None:
        ceiling = f" (at most {budget} = ⌈{github_report.total_count}/100⌉+2)"
    line = (
        f"GitHub API: {wording.plural(github_report.requests, 'request')}: "
        f"scan {github_report.scan_requests}{ceiling}, "
        f"MLproject fallbacks {github_report.file_requests}, "
        f"team ownership {github_report.ownership_requests}"
    )
    if github_report.retries:
        line += f"; {_count(github_report.retries, 'retry', 'retries')}"
    if github_report.rate_limit_waited:
        line += f"; waited {github_report.rate_limit_waited:.0f} s for rate limits"
    return line


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number:,} {singular if number == 1 else plural}"


def _clock(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


def _as_json(scanned: Scan, github_report: ScanReport | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "complete": scanned.complete,
        "incomplete_reason": scanned.incomplete_reason,
        "repositories": [
            {
                "full_name": s.full_name,
                "clone_url": s.clone_url,
                "selected_by": s.selected_by,
                "default_branch": s.default_branch,
                "head_sha": s.head_sha,
                "has_mlproject": s.mlproject is not None,
                "mlproject_path": s.mlproject_path if s.mlproject is not None else None,
                "topics": list(s.topics),
                "push_teams": (
                    None if s.push_teams is None or s.push_teams_unknown else list(s.push_teams)
                ),
            }
            for s in scanned.snapshots
        ],
        "failures": [{"full_name": f.full_name, "message": f.message} for f in scanned.failures],
        "github": None,
    }
    if github_report is not None:
        document["github"] = {
            "organization": github_report.organization,
            "total_repositories": github_report.total_count,
            "pages": github_report.pages,
            "skipped": [
                {
                    "full_name": s.full_name,
                    "selected_by": s.selected_by,
                    "reason": s.reason,
                    "detail": s.detail,
                }
                for s in sorted(github_report.skipped, key=lambda s: s.full_name)
            ],
            "requests": {
                "total": github_report.requests,
                "scan": github_report.scan_requests,
                "scan_budget": github_report.request_budget,
                "mlproject_fallbacks": github_report.file_requests,
                "ownership": github_report.ownership_requests,
                "retries": github_report.retries,
            },
            "rate_limit_waited_seconds": round(github_report.rate_limit_waited, 3),
            "rate_limits": {
                name: {"remaining": r.remaining, "limit": r.limit, "reset": r.reset}
                for name, r in sorted(github_report.rate_limits.items())
            },
            "warnings": list(github_report.warnings),
        }
    return document
