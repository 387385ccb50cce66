"""Rules over the whole set of models: who may use which id and team.   (pure)

- a model's team must be one the platform lists;
- with the github source, one of that team's GitHub teams must have push
  access to the repository (otherwise any repo could deploy as any team);
- an ``id`` belongs to one repository: the one already in index.json keeps it
  and a newcomer claiming it is rejected; when no claimant is known, all are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from generator.config import Platform
from generator.findings import Finding
from generator.mlproject import ModelSpec
from generator.model import Model, Provenance
from generator.yamlpos import Position


@dataclass(frozen=True)
class Candidate:
    """A repository whose MLproject validated, before the cross-repo rules."""

    spec: ModelSpec
    provenance: Provenance
    location: str  # where the MLproject is, for findings
    positions: Mapping[str, Position] = field(default_factory=dict)
    push_teams: tuple[str, ...] | None = None  # None: the source cannot tell


@dataclass(frozen=True)
class Decision:
    accepted: tuple[Model, ...]
    findings: tuple[Finding, ...]

    @property
    def rejected_repos(self) -> frozenset[str]:
        return frozenset(f.repo for f in self.findings if f.is_error)


def decide(
    platform: Platform,
    candidates: Sequence[Candidate],
    owners: Mapping[str, str],
) -> Decision:
    """Accept or reject every candidate.

    ``owners`` maps each id already in index.json to the repository that holds it.
    """
    findings: list[Finding] = []
    eligible: list[Candidate] = []
    for candidate in candidates:
        problems = _team_findings(platform, candidate)
        findings.extend(problems)
        if not problems:
            eligible.append(candidate)

    claims: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in eligible:
        claims[candidate.spec.id].append(candidate)
    accepted: list[Model] = []
    for model_id, claimants in sorted(claims.items()):
        winner = _owner(model_id, claimants, owners)
        for candidate in claimants:
            if candidate is winner:
                accepted.append(Model(candidate.spec, candidate.provenance))
            else:
                findings.append(_id_finding(model_id, candidate, claimants, owners))
    return Decision(tuple(accepted), tuple(sorted(findings)))


def _owner(
    model_id: str, claimants: list[Candidate], owners: Mapping[str, str]
) -> Candidate | None:
    incumbent = owners.get(model_id)
    if incumbent is not None:
        return next((c for c in claimants if c.provenance.repo == incumbent), None)
    return claimants[0] if len(claimants) == 1 else None


def _id_finding(
    model_id: str, candidate: Candidate, claimants: list[Candidate], owners: Mapping[str, str]
) -> Finding:
    incumbent = owners.get(model_id)
    if incumbent is not None:
        message = f"id {model_id!r} already belongs to {incumbent}; choose another id"
    else:
        others = sorted(c.provenance.repo for c in claimants if c is not candidate)
        message = f"id {model_id!r} is also claimed by {', '.join(others)}; ids must be unique"
    return _finding(candidate, "id", message, "policy/duplicate-id")


def _team_findings(platform: Platform, candidate: Candidate) -> list[Finding]:
    team = platform.teams.get(candidate.spec.team)
    if team is None:
        known = ", ".join(sorted(platform.teams))
        message = f"team {candidate.spec.team!r} is not a team of this platform ({known})"
        return [_finding(candidate, "team", message, "policy/unknown-team")]
    if candidate.push_teams is not None and not set(team.github_teams) & set(candidate.push_teams):
        github_teams = ", ".join(team.github_teams) or "none configured"
        message = (
            f"team {team.name!r} does not own {candidate.provenance.repo}: none of its GitHub "
            f"teams ({github_teams}) has push access to the repository"
        )
        return [_finding(candidate, "team", message, "policy/team-not-owner")]
    return []


def _finding(candidate: Candidate, key: str, message: str, rule: str) -> Finding:
    position = candidate.positions.get(key, Position(1, 1))
    return Finding(
        path=candidate.location,
        line=position.line,
        column=position.column,
        key=key,
        message=message,
        rule=rule,
        repo=candidate.provenance.repo,
    )
