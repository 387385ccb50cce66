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
    scan: Scan

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)


def evaluate(platform: Platform, scan: Scan, previous: Index) -> Evaluation:
    findings: list[Finding] = []
    candidates: list[policy.Candidate] = []
    for snapshot in scan.snapshots:
        if snapshot.mlproject is None:
            continue
        result = mlproject.parse(
            snapshot.mlproject, snapshot.mlproject_location, snapshot.full_name
        )
        findings.extend(result.findings)
        if result.spec is not None:
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
            message=f"cannot read the repository: {failure.message}",
            rule="source/fetch-failed",
            severity=Severity.ERROR,
            repo=failure.full_name,
        )
        for failure in scan.failures
    )
    decision = policy.decide(platform, candidates, incumbents(scan, previous))
    findings.extend(decision.findings)
    findings.extend(_single_read_findings(scan, previous, decision.accepted))
    failed = {f.repo for f in findings if f.is_error}
    return Evaluation(
        models=decision.accepted,
        findings=tuple(sorted(findings)),
        failed_repos=tuple(sorted(failed)),
        scan=scan,
    )


def incumbents(scan: Scan, previous: Index) -> policy.Owners:
    """Each id and name of index.json and the repository that holds it. After a complete
    scan of every repository, a holder the scan did not find at all (deleted, renamed,
    archived) holds nothing any more: a renamed repository keeps its model in one run
    instead of being refused the id its old name held."""
    owners = policy.Owners.of(previous)
    if scan.partial:
        return owners
    seen = {s.full_name.lower() for s in scan.snapshots}
    seen.update(failure.full_name.lower() for failure in scan.failures)
    return policy.Owners(
        ids={key: repo for key, repo in owners.ids.items() if repo.lower() in seen},
        names={key: repo for key, repo in owners.names.items() if repo.lower() in seen},
    )


SINGLE_READ_RULE = "source/single-repository"


def _single_read_findings(
    scan: Scan, previous: Index, accepted: tuple[Model, ...]
) -> list[Finding]:
    """Warnings for a single-repository read that leaves a model of that repository in
    place although the repository no longer provides it: such a run removes nothing."""
    single = scan.single
    if single is None or not scan.complete:
        return []
    repo = single.repository
    accepted_ids = sorted(m.id for m in accepted if m.provenance.repo.lower() == repo.lower())
    staying = sorted(
        entry.id
        for entry in previous.models.values()
        if entry.repo.lower() == repo.lower() and entry.id not in accepted_ids
    )
    snapshot = next((s for s in scan.snapshots if s.full_name.lower() == repo.lower()), None)
    if single.missing:
        what = f"{repo} {single.missing}"
    elif snapshot is not None and snapshot.mlproject is None:
        what = f"{repo} has no MLproject at the head of {snapshot.default_branch}"
    elif accepted_ids and staying:
        what = f"{repo} now declares the id {_quoted(accepted_ids)}"
    else:
        return []
    if staying:
        models = (
            f"model {_quoted(staying)} stays"
            if len(staying) == 1
            else (f"models {_quoted(staying)} stay")
        )
        consequence = (
            f"its {models} as deployed; a run that reads only one repository removes "
            "nothing, a full run (without --repository, e.g. the scheduled one) does"
        )
    else:
        consequence = "nothing to render"
    return [
        Finding(
            path=repo,
            line=1,
            column=1,
            key="",
            message=f"{what}: {consequence}",
            rule=SINGLE_READ_RULE,
            severity=Severity.WARNING,
            repo=repo,
        )
    ]


def _quoted(ids: list[str]) -> str:
    return ", ".join(repr(model_id) for model_id in ids)
