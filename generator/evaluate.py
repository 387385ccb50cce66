"""Scan → parse + validate → policy: which models a run renders, and why not the rest.   (pure)"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from generator import digests, mlproject, policy
from generator.config.settings import Platform
from generator.findings import Finding, Severity
from generator.index import Index
from generator.model import Model
from generator.sources.base import RepoSnapshot, Scan


@dataclass(frozen=True)
class Evaluation:
    models: tuple[Model, ...]
    findings: tuple[Finding, ...]
    failed_repos: tuple[str, ...]  # found but not rendered: fetch failed, or errors
    scan: Scan
    # Model id → its MLproject's digest, for the accepted models whose MLproject had no
    # finding (parsed now, or known unchanged): what index.json records (digests.py).
    parsed: Mapping[str, str] = field(default_factory=dict)
    code: str = ""  # the digest of the Modelship that evaluated (resources.code_digest)

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)


# How evaluate() has the MLprojects of the snapshots parsed, a result for each in their
# order: ``parse_each``, or a way that gives the same results, such as spreading them over
# processes (``generator/spread.py``).
ParseAll = Callable[[Sequence[RepoSnapshot]], list[mlproject.ParseResult]]


def parse_each(snapshots: Sequence[RepoSnapshot]) -> list[mlproject.ParseResult]:
    """The MLproject of each snapshot checked, in their order."""
    return [_parse(snapshot) for snapshot in snapshots]


def evaluate(
    platform: Platform | None,
    scan: Scan,
    previous: Index,
    code: str = "",
    trust_digests: bool = True,
    parse_all: ParseAll = parse_each,
) -> Evaluation:
    """Every snapshot's MLproject parsed and validated, then the platform's rules over the
    whole set (``policy``); without a platform (``validate PATH`` outside a platform
    repository) the MLproject rules alone.

    With ``code`` (the digest of this Modelship) an MLproject whose digest is the one
    ``previous`` records for its model is not parsed again: the model's spec is the one
    recorded (index.json checked it on load). Should a platform rule find a problem with
    such a model, its MLproject is parsed after all, for the lines the finding names.
    ``trust_digests=False`` parses every MLproject (the digests are still recorded).
    ``parse_all`` parses the MLprojects (``ParseAll``)."""
    same_code = trust_digests and code and previous.code == code
    known = _known_parses(previous) if same_code and platform is not None else {}
    evaluation = _evaluate(platform, scan, previous, code, known, parse_all)
    trusted = {repo for repo, _ in known.values()}
    doubted = {f.repo for f in evaluation.findings if f.repo in trusted}
    if doubted:
        known = {digest: item for digest, item in known.items() if item[0] not in doubted}
        evaluation = _evaluate(platform, scan, previous, code, known, parse_all)
    return evaluation


def _known_parses(previous: Index) -> dict[str, tuple[str, mlproject.ModelSpec]]:
    """MLproject digest → (the repository, the spec) of each model whose entry records one."""
    return {
        entry.digests.mlproject: (entry.repo, entry.model.spec)
        for entry in previous.models.values()
        if entry.digests.mlproject
    }


def _evaluate(
    platform: Platform | None,
    scan: Scan,
    previous: Index,
    code: str,
    known: Mapping[str, tuple[str, mlproject.ModelSpec]],
    parse_all: ParseAll,
) -> Evaluation:
    findings: list[Finding] = []
    candidates: list[policy.Candidate] = []
    clean: dict[str, str] = {}  # repository → the digest of its MLproject, parsed without finding
    # Each snapshot on its own: two may share a name (``validate`` of two folders alike).
    with_text = [snapshot for snapshot in scan.snapshots if snapshot.mlproject is not None]
    made = [digests.mlproject(s.mlproject or "", s.full_name) if code else "" for s in with_text]
    specs = [_recorded_spec(known, s, digest) for s, digest in zip(with_text, made, strict=True)]
    fresh = iter(parse_all([s for s, spec in zip(with_text, specs, strict=True) if spec is None]))
    for snapshot, digest, spec in zip(with_text, made, specs, strict=True):
        result = mlproject.ParseResult(spec) if spec is not None else next(fresh)
        if digest and result.spec is not None and not result.findings:
            clean[snapshot.full_name] = digest
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
            path=failure.location or failure.full_name,
            line=1,
            column=1,
            key="",
            message=fetch_failed(failure.shown),
            rule=FETCH_FAILED_RULE,
            severity=Severity.ERROR,
            repo=failure.full_name,
        )
        for failure in scan.failures
    )
    if platform is None:
        accepted = tuple(Model(c.spec, c.provenance) for c in candidates)
        decision = policy.Decision(tuple(sorted(accepted, key=lambda m: m.id)), ())
    else:
        owners = policy.Owners.of(previous, departed(scan, previous))
        decision = policy.decide(platform, candidates, owners)
    findings.extend(decision.findings)
    findings.extend(_single_read_findings(scan, previous, decision.accepted))
    failed = {f.repo for f in findings if f.is_error}
    parsed = {
        model.id: clean[model.provenance.repo]
        for model in decision.accepted
        if model.provenance.repo in clean
    }
    return Evaluation(
        models=decision.accepted,
        findings=tuple(sorted(findings)),
        failed_repos=tuple(sorted(failed)),
        scan=scan,
        parsed=parsed,
        code=code,
    )


INTERNAL_RULE = "internal/repository"


def _recorded_spec(
    known: Mapping[str, tuple[str, mlproject.ModelSpec]], snapshot: RepoSnapshot, digest: str
) -> mlproject.ModelSpec | None:
    """The spec index.json records for this very MLproject text of this repository, if any."""
    recorded = known.get(digest)
    return recorded[1] if recorded is not None and recorded[0] == snapshot.full_name else None


def _parse(snapshot: RepoSnapshot) -> mlproject.ParseResult:
    """The MLproject checked; an exception while checking it — a bug in Modelship, since
    every bad input has a finding of its own — fails this repository alone (its model is
    kept on error), never the run."""
    assert snapshot.mlproject is not None
    try:
        return mlproject.parse(snapshot.mlproject, snapshot.mlproject_location, snapshot.full_name)
    except Exception as error:
        message = (
            f"Modelship failed while checking this MLproject (internal error: "
            f"{type(error).__name__}); the repository is treated as failing and its model "
            "stays as it was. This is a bug in Modelship: please report it with the file"
        )
        finding = Finding(
            snapshot.mlproject_location, 1, 1, "", message, INTERNAL_RULE, repo=snapshot.full_name
        )
        return mlproject.ParseResult(None, (finding,))


def departed(scan: Scan, previous: Index) -> frozenset[str]:
    """The repositories of ``previous`` whose models this run removes for certain: a complete
    scan did not see them, or saw them without an MLproject. They hold no id and no name
    any more — a renamed repository takes its model along. While a scan is incomplete, or
    read one repository only, no repository has departed."""
    if scan.partial:
        return frozenset()
    present = {policy.same_repo(s.full_name) for s in scan.snapshots if s.mlproject is not None}
    present |= {policy.same_repo(failure.full_name) for failure in scan.failures}
    repos = [entry.repo for entry in previous.models.values()]
    repos += [item.repo for item in previous.damaged.values() if item.repo is not None]
    return frozenset(repo for repo in repos if policy.same_repo(repo) not in present)


FETCH_FAILED_RULE = "source/fetch-failed"


def fetch_failed(message: str) -> str:
    return f"cannot read the repository: {message}"


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
