"""Rules over the whole set of models: who may use which id and team.   (pure)

- a model's team must be one the platform lists, its runtime (main-language, and
  MLflow or pickle) one the platform has a base image for (``jenkins.base_images``), and
  the environments it skips ones the platform has;
- with the github source, one of that team's GitHub teams must have push
  access to the repository (otherwise any repo could deploy as any team);
- an ``id`` (and a ``name``) belongs to one repository: the one already in
  index.json keeps it and a newcomer claiming it is rejected; when no claimant
  is known, all are. A repository whose model this run removes for certain
  (``departed``: a complete scan did not see it) holds nothing, so a renamed
  repository keeps its model. Repository names compare without letter case, as
  GitHub's do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from generator.config.settings import Platform
from generator.findings import Finding
from generator.index import Index
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


@dataclass(frozen=True)
class Owners:
    """Which repository holds each id and each name already in index.json.

    Both must be unique: the id names the Kubernetes objects, the route and the
    Consul keys; the name names the Jenkins job and the artifact path.
    """

    ids: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, previous: Index, departed: Collection[str] = ()) -> Owners:
        """The holders in ``previous``, except the repositories in ``departed``."""
        gone = {same_repo(repo) for repo in departed}
        entries = [e for e in previous.models.values() if same_repo(e.repo) not in gone]
        # A damaged entry still holds its id for its repository (when that can be read).
        damaged = {
            item.id: item.repo
            for item in previous.damaged.values()
            if item.repo is not None and same_repo(item.repo) not in gone
        }
        return cls(
            ids={**damaged, **{entry.id: entry.repo for entry in entries}},
            names={entry.model.spec.name: entry.repo for entry in entries},
        )


def same_repo(full_name: str) -> str:
    """A repository's name as GitHub compares it: without letter case."""
    return full_name.lower()


def decide(
    platform: Platform,
    candidates: Sequence[Candidate],
    owners: Owners,
) -> Decision:
    """Accept or reject every candidate."""
    findings: list[Finding] = []
    eligible: list[Candidate] = []
    for candidate in candidates:
        problems = (
            _team_findings(platform, candidate)
            + _language_findings(platform, candidate)
            + _environment_findings(platform, candidate)
        )
        findings.extend(problems)
        if not problems:
            eligible.append(candidate)
    for key, holders in (("id", owners.ids), ("name", owners.names)):
        eligible = _unique(key, eligible, holders, findings)
    accepted = [Model(candidate.spec, candidate.provenance) for candidate in eligible]
    return Decision(tuple(sorted(accepted, key=lambda m: m.id)), tuple(sorted(findings)))


def _unique(
    key: str, candidates: list[Candidate], holders: Mapping[str, str], findings: list[Finding]
) -> list[Candidate]:
    """The candidates that may keep their ``key`` (id or name); a finding for each other."""
    claims: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        claims[getattr(candidate.spec, key)].append(candidate)
    kept: list[Candidate] = []
    for value, claimants in sorted(claims.items()):
        incumbent = holders.get(value)
        if incumbent is not None:
            holder = same_repo(incumbent)
            winner = next((c for c in claimants if same_repo(c.provenance.repo) == holder), None)
        else:
            winner = claimants[0] if len(claimants) == 1 else None
        for candidate in claimants:
            if candidate is winner:
                kept.append(candidate)
            elif incumbent is not None:
                message = f"{key} {value!r} already belongs to {incumbent}; choose another {key}"
                findings.append(_finding(candidate, key, message, f"policy/duplicate-{key}"))
            else:
                others = ", ".join(
                    sorted(c.provenance.repo or c.location for c in claimants if c is not candidate)
                )
                message = f"{key} {value!r} is also claimed by {others}; {key}s must be unique"
                findings.append(_finding(candidate, key, message, f"policy/duplicate-{key}"))
    return kept


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


def _language_findings(platform: Platform, candidate: Candidate) -> list[Finding]:
    runtime = candidate.spec.runtime
    if runtime in platform.jenkins.base_images:
        return []
    spec = candidate.spec
    key = "main-language" if spec.pickle else "pickle"
    message = (
        f"the platform has no runtime image {runtime!r} for this model (main-language "
        f"{spec.main_language}, pickle {'true' if spec.pickle else 'false'}): add it to "
        "jenkins.base_images in platform.yaml"
    )
    return [_finding(candidate, key, message, "policy/no-base-image")]


def _environment_findings(platform: Platform, candidate: Candidate) -> list[Finding]:
    """A model opts out of environments by name: a misspelt one would run it there."""
    known = [env.name for env in platform.environments]
    unknown = [name for name in candidate.spec.skip_environments if name not in known]
    if not unknown:
        return []
    names = ", ".join(repr(name) for name in unknown)
    message = f"{names}: not an environment of this platform ({', '.join(known)})"
    return [_finding(candidate, "skip_environments", message, "policy/unknown-environment")]


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
