"""Previous index + this run's evaluation → what to render, keep and remove.   (pure)

The safety rules of a run live here, as decisions on data:

- a model whose repository failed to fetch, or now fails validation or policy,
  is *kept*: rendered again from its index.json entry (its last accepted spec
  and repo@sha) with the state ``kept-on-error`` and its repository's errors;
- when the scan is incomplete nothing unconfirmed is deleted: a model whose
  repository the scan did not see (or saw without an MLproject) stays exactly
  as it was; the same holds when only one repository was read (a model-changed
  dispatch) for every other model, and for that repository's own when it is gone;
  a repository accepted under a new id gives its old one up;
- otherwise a model is removed when its repository is gone or has no MLproject
  any more (or now declares another id), and the removals of one run may not
  exceed ``safety.max_delete_share`` of the models without ``allow_mass_delete``
  (unless they are at most ``safety.mass_delete_floor``, default 1).

Kept models are rendered again rather than copied byte for byte, so files that
list every model (kustomizations, gateway and Consul files) stay consistent
with the set of models, and a platform change (templates, defaults) reaches a
kept model like any other. Its spec and source commit stay those it had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from generator import wording
from generator.config.settings import Platform
from generator.evaluate import FETCH_FAILED_RULE, Evaluation, departed, fetch_failed
from generator.findings import Finding
from generator.index import (
    STATE_KEPT,
    Damaged,
    Index,
    IndexEntry,
    ModelState,
    Rejected,
    repository_problem,
)
from generator.model import Model
from generator.policy import same_repo


@dataclass(frozen=True)
class Kept:
    """A model of the previous index that stays although its repository failed."""

    entry: IndexEntry
    errors: tuple[str, ...]
    as_was: bool = False  # the scan did not complete: left exactly as it was


@dataclass(frozen=True)
class Outcome:
    models: tuple[Model, ...]  # everything the plan renders: accepted and kept
    states: Mapping[str, ModelState]  # index.json state of every model that is not plain deployed
    kept: tuple[Kept, ...]
    removed: tuple[IndexEntry, ...]
    findings: tuple[Finding, ...]  # problems of the decisions themselves
    incomplete_reason: str | None  # set when the scan did not complete
    refusal: str | None  # set when the mass-delete guard refuses this run
    # Damaged index.json entries: kept exactly as they were, rendered anew, or removed.
    preserved: tuple[Damaged, ...] = ()
    healed: tuple[Damaged, ...] = ()
    removed_damaged: tuple[Damaged, ...] = ()
    # Repositories with errors whose model is on the platform in no form: never deployed.
    rejected: tuple[Rejected, ...] = ()

    @property
    def incomplete(self) -> bool:
        return self.incomplete_reason is not None


def reconcile(
    platform: Platform, evaluation: Evaluation, previous: Index, allow_mass_delete: bool = False
) -> Outcome:
    scan = evaluation.scan
    accepted = {model.id: model for model in evaluation.models}
    # Repository names compare without letter case, as GitHub's do.
    accepted_repos = {same_repo(model.provenance.repo) for model in evaluation.models}
    failed = {same_repo(r) for r in evaluation.failed_repos}
    failed |= {same_repo(failure.full_name) for failure in scan.failures}
    errors = _errors_by_repo(evaluation)

    kept: list[Kept] = []
    removed: list[IndexEntry] = []
    findings: list[Finding] = []
    for model_id, entry in sorted(previous.models.items()):
        if model_id in accepted:
            continue
        repo = same_repo(entry.repo)
        keep: Kept | None = None
        if repo in failed and repo not in accepted_repos:
            keep = Kept(entry, errors.get(repo, ()))
        elif scan.partial and repo not in accepted_repos:
            # Unconfirmed (an incomplete scan, or one repository read): stays as it was.
            # A repository accepted under another id is confirmed: its old id goes, or
            # it would be rendered twice.
            keep = Kept(entry, entry.errors, as_was=True)
        if keep is None:
            removed.append(entry)
        elif entry.model.spec.team not in platform.teams:
            findings.append(_team_gone(entry))
            removed.append(entry)
        else:
            kept.append(keep)

    preserved, healed, removed_damaged = _damaged(evaluation, previous, accepted)
    findings.extend(problem for item in preserved for problem in item.problems)

    states: dict[str, ModelState] = {}
    for item in kept:
        if item.as_was:
            states[item.entry.id] = ModelState(item.entry.state, item.entry.errors)
        else:
            states[item.entry.id] = ModelState(STATE_KEPT, item.errors)
    models = tuple(sorted((*accepted.values(), *(k.entry.model for k in kept)), key=_model_id))
    refusal = None
    if not allow_mass_delete:
        removing = sorted([*(e.id for e in removed), *(d.id for d in removed_damaged)])
        refusal = mass_delete_refusal(removing, previous.size, platform)
    rejected = _rejected(evaluation, previous, errors, kept, preserved)
    return Outcome(
        models=models,
        states=states,
        kept=tuple(kept),
        removed=tuple(removed),
        rejected=rejected,
        findings=tuple(sorted(findings)),
        incomplete_reason=None if scan.complete else (scan.incomplete_reason or "unknown reason"),
        refusal=refusal,
        preserved=preserved,
        healed=healed,
        removed_damaged=removed_damaged,
    )


def keep_as_was(outcome: Outcome, problems: Mapping[str, Finding]) -> Outcome:
    """``outcome`` with the damaged entries it would render anew whose ids ``problems`` holds
    kept exactly as they were instead, each reported with its problem."""
    moved = tuple(item for item in outcome.healed if item.id in problems)
    if not moved:
        return outcome
    found = [*outcome.findings, *problems.values()]
    found.extend(problem for item in moved for problem in item.problems)
    return replace(
        outcome,
        models=tuple(model for model in outcome.models if model.id not in problems),
        findings=tuple(sorted(found)),
        preserved=tuple(sorted((*outcome.preserved, *moved), key=lambda item: item.id)),
        healed=tuple(item for item in outcome.healed if item.id not in problems),
    )


def _damaged(
    evaluation: Evaluation, previous: Index, accepted: Mapping[str, Model]
) -> tuple[tuple[Damaged, ...], tuple[Damaged, ...], tuple[Damaged, ...]]:
    """The damaged entries of ``previous``, split into those kept exactly as they were, those
    this run renders anew (their id is accepted again), and those removed: their repository
    is certainly gone (``departed``), or was accepted under another id."""
    gone = {same_repo(repo) for repo in departed(evaluation.scan, previous)}
    accepted_repos = {same_repo(model.provenance.repo) for model in accepted.values()}
    preserved: list[Damaged] = []
    healed: list[Damaged] = []
    removed: list[Damaged] = []
    for model_id, item in sorted(previous.damaged.items()):
        repo = same_repo(item.repo) if item.repo is not None else None
        if model_id in accepted:
            healed.append(item)
        elif repo is not None and (repo in gone or repo in accepted_repos):
            removed.append(item)
        else:
            preserved.append(item)
    return tuple(preserved), tuple(healed), tuple(removed)


NAMED_REMOVALS = 20  # models a refusal names; a longer list ends with "and N more"


def mass_delete_refusal(
    removing: list[str], total: int, platform: Platform, environment: str | None = None
) -> str | None:
    """Why a run that removes the models ``removing`` (ids) of ``total`` models (of
    ``environment``, or of the platform) may not, or None. A run that removes at most
    ``safety.mass_delete_floor`` models is never refused: on a small platform one removal
    is a large share, and no mass delete."""
    count = len(removing)
    limit = platform.max_delete_share
    floor = platform.mass_delete_floor
    if total == 0 or count <= floor or count / total <= limit:
        return None
    named = ", ".join(removing[:NAMED_REMOVALS])
    if count > NAMED_REMOVALS:
        named += f" and {count - NAMED_REMOVALS} more"
    where = f" from {environment}" if environment else ""
    return (
        f"refusing to remove {count} of {total} models{where} ({count / total:.0%}), more "
        f"than safety.max_delete_share allows ({limit:.0%}) and more than the "
        f"{wording.plural(floor, 'model')} safety.mass_delete_floor always allows: "
        f"{named}; nothing was written. "
        "If this is intended, run again with --allow-mass-delete"
    )


def _rejected(
    evaluation: Evaluation,
    previous: Index,
    errors: Mapping[str, tuple[str, ...]],
    kept: list[Kept],
    preserved: tuple[Damaged, ...],
) -> tuple[Rejected, ...]:
    """The repositories with errors whose model is neither accepted nor kept (nor preserved
    from a damaged entry), with their errors as index.json records them. A run that did not
    read every repository keeps the earlier rejections of the ones it did not read."""
    scan = evaluation.scan
    held = {same_repo(item.entry.repo) for item in kept}
    held |= {same_repo(item.repo) for item in preserved if item.repo}
    accepted = {same_repo(model.provenance.repo) for model in evaluation.models}
    commits = {same_repo(s.full_name): (s.full_name, s.provenance.commit) for s in scan.snapshots}
    commits.update((same_repo(f.full_name), (f.full_name, "")) for f in scan.failures)
    found: dict[str, Rejected] = {}
    if scan.partial:
        found = {
            same_repo(repo): item
            for repo, item in previous.rejected.items()
            if same_repo(repo) not in commits
        }
    for repo, texts in errors.items():
        if repo in held or repo in accepted or repo not in commits:
            continue
        name, commit = commits[repo]
        if repository_problem(name) is None:  # else index.json cannot hold it: its error says so
            found[repo] = Rejected(name, commit, texts)
    return tuple(sorted(found.values(), key=lambda item: same_repo(item.repo)))


def _model_id(model: Model) -> str:
    return model.id


def _errors_by_repo(evaluation: Evaluation) -> dict[str, tuple[str, ...]]:
    """Each repository's errors as index.json records them: positions relative to the
    repository (``MLproject:10:6: slo: ...``), never to where this run happened to be, and
    read failures without their machine-dependent detail."""
    names = {s.full_name: s.mlproject_path for s in evaluation.scan.snapshots}
    # The failure's own message, not the finding's: the console's detail may hold paths.
    failures = {f.full_name: fetch_failed(f.message) for f in evaluation.scan.failures}
    collected: dict[str, list[str]] = {}
    for finding in evaluation.findings:
        if not finding.is_error:
            continue
        if finding.rule == FETCH_FAILED_RULE:
            text = failures.get(finding.repo, finding.message)
        else:
            name = names.get(finding.repo) or PurePosixPath(finding.path).name
            key = f"{finding.key}: " if finding.key else ""
            text = f"{name}:{finding.line}:{finding.column}: {key}{finding.message}"
        collected.setdefault(same_repo(finding.repo), []).append(text)
    return {repo: tuple(texts) for repo, texts in collected.items()}


def _team_gone(entry: IndexEntry) -> Finding:
    team = entry.model.spec.team
    return Finding(
        path=entry.repo,
        line=1,
        column=1,
        key="team",
        message=(
            f"the model {entry.id!r} cannot be kept: its team {team!r} is no longer in "
            "platform.yaml, so it is removed"
        ),
        rule="safety/kept-team-gone",
        repo=entry.repo,
    )
