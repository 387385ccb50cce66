"""Two rendered trees → what happened to each model.   (pure)

Models are told apart by their index.json entries: a model in the new index
only was *added*, in the old only *removed*; one in both *changed* when any file
it owns (in either tree) or its entry differs, and is *kept-on-error* when the
new index keeps it because its repository failed. A repository the new index names
as *rejected* (its new model has errors and is deployed nowhere) is one too, named
after the repository, with its errors. Files no model owns (the kustomizations that
list namespaces, and index.json) are *shared*.

Per environment, a model's change says which state (commit, version) ran there before
and runs after, and whether a promoted environment is behind the one it is promoted
from (runs another state than it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from generator import index, planned_tree
from generator.index import (
    STATE_KEPT,
    STATE_REJECTED,
    Damaged,
    EnvironmentEntry,
    IndexEntry,
    Promotion,
    Rejected,
    SpecKey,
)
from generator.mlproject import Canary

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"
KEPT = STATE_KEPT
UNCHANGED = "unchanged"
REJECTED = STATE_REJECTED
KINDS = (ADDED, CHANGED, REMOVED, KEPT, UNCHANGED, REJECTED)


@dataclass(frozen=True)
class FileChange:
    path: str
    old: bytes | None  # None: the file is added
    new: bytes | None  # None: the file is removed


@dataclass(frozen=True)
class Running:
    """What runs of a model in one environment."""

    commit: str
    version: str
    state: str
    key: SpecKey
    promotion: Promotion | None = None
    canary: Canary | None = None  # a second version beside it, with its share of requests
    entry: EnvironmentEntry | None = None  # all index.json says runs there (instances, ...)

    @classmethod
    def of(cls, entry: EnvironmentEntry) -> Running:
        model = entry.model
        return cls(
            model.provenance.commit,
            model.spec.version,
            entry.state,
            entry.key,
            entry.promotion,
            canary=model.spec.canary,
            entry=entry,
        )


@dataclass(frozen=True)
class EnvironmentChange:
    environment: str
    before: Running | None  # None: it did not run there
    after: Running | None  # None: it does not run there any more
    source: str | None = None  # the environment this one is promoted from
    source_after: Running | None = None  # what runs there after
    waiting: tuple[str, ...] = ()  # the images a new state waits for here (registry gate)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def behind(self) -> bool:
        """Whether this promoted environment runs another state than its source."""
        return (
            self.source is not None
            and self.after is not None
            and self.source_after is not None
            and self.after.key != self.source_after.key
        )


@dataclass(frozen=True)
class ModelChange:
    id: str
    kind: str
    repo: str
    commit: str
    team: str
    files: tuple[FileChange, ...]
    errors: tuple[str, ...] = ()
    environments: tuple[EnvironmentChange, ...] = ()

    @property
    def source(self) -> str:
        return f"{self.repo}@{self.commit[:7]}"


@dataclass(frozen=True)
class ChangeSet:
    models: tuple[ModelChange, ...]  # every model of either tree, sorted by id
    shared: tuple[FileChange, ...]  # changed files no model owns, index.json included

    def count(self, kind: str) -> int:
        return sum(1 for model in self.models if model.kind == kind)

    @property
    def changed_models(self) -> tuple[ModelChange, ...]:
        """Every model a reviewer must look at: all but the unchanged ones."""
        return tuple(model for model in self.models if model.kind != UNCHANGED)

    @property
    def files(self) -> tuple[FileChange, ...]:
        every = [*self.shared, *(f for model in self.models for f in model.files)]
        return tuple(sorted(every, key=lambda change: change.path))

    @property
    def empty(self) -> bool:
        return not self.shared and all(not model.files for model in self.models)

    def summary(self) -> str:
        """``1 added, 0 changed, 0 removed, 0 kept-on-error, 5 unchanged``, and ``, 1
        rejected`` when a repository's new model is."""
        shown = [kind for kind in KINDS if kind != REJECTED or self.count(kind)]
        return ", ".join(f"{self.count(kind)} {kind}" for kind in shown)


def classify(
    old: Mapping[str, bytes],
    new: Mapping[str, bytes],
    promoted_from: Mapping[str, str] | None = None,
) -> ChangeSet:
    """``promoted_from``: each promoted environment → the one it is promoted from."""
    old_index = index.tree_index(old, "the rendered tree")
    new_index = index.tree_index(new, "the rendered tree")
    owned: set[str] = set()
    models: list[ModelChange] = []
    kept = planned_tree.unchanged(new, old)
    ids = {*old_index.models, *old_index.damaged, *new_index.models, *new_index.damaged}
    for model_id in sorted(ids):
        before = old_index.models.get(model_id) or old_index.damaged.get(model_id)
        after = new_index.models.get(model_id) or new_index.damaged.get(model_id)
        paths = sorted({*_files(before), *_files(after)})
        owned.update(paths)
        files = tuple(_changes(paths, old, new, kept))
        change = _model_change(model_id, before, after, files)
        places = _environment_changes(before, after, promoted_from or {})
        models.append(replace(change, environments=places))
    models.extend(_rejected_change(item) for item in new_index.rejected.values())
    shared = tuple(_changes(sorted((old.keys() | new.keys()) - owned), old, new, kept))
    return ChangeSet(tuple(sorted(models, key=lambda change: change.id)), shared)


def _rejected_change(item: Rejected) -> ModelChange:
    return ModelChange(
        id=item.repo,
        kind=REJECTED,
        repo=item.repo,
        commit=item.commit,
        team="",
        files=(),
        errors=item.errors,
    )


def _environment_changes(
    before: IndexEntry | Damaged | None,
    after: IndexEntry | Damaged | None,
    promoted_from: Mapping[str, str],
) -> tuple[EnvironmentChange, ...]:
    """What ran and runs in each environment, as the sound entries say: a damaged entry's
    model runs as it was, which its entry cannot be trusted to tell."""
    if isinstance(after, Damaged):
        return ()
    sound_before = before if isinstance(before, IndexEntry) else None

    def running(entry: IndexEntry | None, environment: str | None) -> Running | None:
        placed = entry.environments.get(environment) if entry and environment else None
        return Running.of(placed) if placed is not None else None

    names = {
        *(sound_before.environments if sound_before else ()),
        *(after.environments if after else ()),
        *(after.waiting if after else ()),
    }
    return tuple(
        EnvironmentChange(
            name,
            running(sound_before, name),
            running(after, name),
            promoted_from.get(name),
            running(after, promoted_from.get(name)),
            after.waiting.get(name, ()) if after else (),
        )
        for name in sorted(names)
    )


def _changes(
    paths: list[str], old: Mapping[str, bytes], new: Mapping[str, bytes], kept: frozenset[str]
) -> Iterator[FileChange]:
    """The files of ``paths`` that differ; ``kept`` hold ``old``'s bytes, unread."""
    for path in paths:
        if path in kept:
            continue
        before, after = old.get(path), new.get(path)
        if before != after:
            yield FileChange(path, before, after)


def _files(item: IndexEntry | Damaged | None) -> tuple[str, ...]:
    if item is None:
        return ()
    return item.files if isinstance(item, IndexEntry) else item.files or ()


def _entry_differs(before: IndexEntry | Damaged, after: IndexEntry) -> bool:
    """Whether index.json says something new of the model. The digests of how it was made
    are left out: a platform setting or a template it does not read changes them alone."""
    if not isinstance(before, IndexEntry):
        return True
    return replace(before, digests=after.digests) != after


def _model_change(
    model_id: str,
    before: IndexEntry | Damaged | None,
    after: IndexEntry | Damaged | None,
    files: tuple[FileChange, ...],
) -> ModelChange:
    if after is None:
        kind = REMOVED
    elif before is None:
        kind = ADDED
    elif isinstance(after, Damaged) or after.state == STATE_KEPT:
        kind = KEPT
    elif files or _entry_differs(before, after):
        kind = CHANGED
    else:
        kind = UNCHANGED
    entry = after or before
    assert entry is not None
    if isinstance(entry, Damaged):
        return _damaged_change(model_id, kind, entry, files)
    return ModelChange(
        id=model_id,
        kind=kind,
        repo=entry.repo,
        commit=entry.model.provenance.commit,
        team=entry.model.spec.team,
        files=files,
        errors=_errors(after) if isinstance(after, IndexEntry) else (),
    )


def _damaged_change(
    model_id: str, kind: str, entry: Damaged, files: tuple[FileChange, ...]
) -> ModelChange:
    """A model whose index.json entry is damaged: what can be read of it, and its problems."""
    record = entry.record if isinstance(entry.record, dict) else {}
    source = record.get("source") if isinstance(record.get("source"), dict) else {}
    spec = record.get("spec")
    if not isinstance(spec, dict):  # format 2: the digest of one of the entry's specs
        specs = record.get("specs") if isinstance(record.get("specs"), dict) else {}
        spec = specs.get(spec) if isinstance(spec, str) else None
    commit = source.get("commit")
    team = spec.get("team") if isinstance(spec, dict) else None
    return ModelChange(
        id=model_id,
        kind=kind,
        repo=entry.repo or "?",
        commit=commit if isinstance(commit, str) else "",
        team=team if isinstance(team, str) else "?",
        files=files,
        errors=tuple(str(problem) for problem in entry.problems),
    )


def _errors(entry: IndexEntry) -> tuple[str, ...]:
    """The model's errors, then those of an environment that keeps it for a reason of its
    own (a pin that cannot be run), named after the environment."""
    found = list(entry.errors)
    for name, placed in sorted(entry.environments.items()):
        found.extend(f"{name}: {error}" for error in placed.errors if error not in entry.errors)
    return tuple(found)
