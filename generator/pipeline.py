"""Scan → parse + validate → policy: which models a run renders, and why not the rest.   (pure)"""

from __future__ import annotations

from dataclasses import dataclass

from generator import mlproject, policy
from generator.config import Platform
from generator.findings import Finding, Severity
from generator.index import Index
from generator.model import Model
from generator.sources.base import Scan


@dataclass(frozen=True)
class Evaluation:
    models: tuple[Model, ...]
    findings: tuple[Finding, ...]
    failed_repos: tuple[str, ...]  # found but not rendered: fetch failed, or errors
    without_mlproject: tuple[str, ...]
    scan: Scan

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)


def evaluate(platform: Platform, scan: Scan, previous: Index) -> Evaluation:
    findings: list[Finding] = []
    candidates: list[policy.Candidate] = []
    without: list[str] = []
    for snapshot in scan.snapshots:
        if snapshot.mlproject is None:
            without.append(snapshot.full_name)
            continue
        result = mlproject.parse(
            snapshot.mlproject, snapshot.mlproject_location, snapshot.full_name
        )
        findings.extend(result.findings)
        if result.spec is not None and not snapshot.push_teams_unknown:
            candidates.append(
                policy.Candidate(
                    spec=result.spec,
                    provenance=snapshot.provenance,
                    location=snapshot.mlproject_location,
                    positions=result.positions,
                    push_teams=snapshot.push_teams,
                )
            )
    findings.extend(
        Finding(
            path=failure.full_name,
            line=1,
            column=1,
            key="",
            message=fetch_failed(failure.shown),
            rule="source/fetch-failed",
            severity=Severity.ERROR,
            repo=failure.full_name,
        )
        for failure in scan.failures
    )
    owners = policy.Owners.of(previous, departed(scan, previous))
    decision = policy.decide(platform, candidates, owners)
    findings.extend(decision.findings)
    failed = {f.repo for f in findings if f.is_error}
    return Evaluation(
        models=decision.accepted,
        findings=tuple(sorted(findings)),
        failed_repos=tuple(sorted(failed)),
        without_mlproject=tuple(sorted(without)),
        scan=scan,
    )


def departed(scan: Scan, previous: Index) -> frozenset[str]:
    """The repositories of ``previous`` whose models this run removes for certain: a complete
    scan did not see them, or saw them without an MLproject. They hold no id and no name
    any more — a renamed repository takes its model along. While a scan is incomplete no
    repository has departed."""
    if not scan.complete:
        return frozenset()
    present = {policy.same_repo(s.full_name) for s in scan.snapshots if s.mlproject is not None}
    present |= {policy.same_repo(failure.full_name) for failure in scan.failures}
    return frozenset(
        entry.repo
        for entry in previous.models.values()
        if policy.same_repo(entry.repo) not in present
    )


def fetch_failed(message: str) -> str:
    return f"cannot read the repository: {message}"
