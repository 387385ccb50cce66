"""Two rendered trees → what happened to each model.   (pure)

Models are told apart by their index.json entries: a model in the new index
only was *added*, in the old only *removed*; one in both *changed* when any file
it owns (in either tree) or its entry differs, and is *kept-on-error* when the
new index keeps it because its repository failed. Files no model owns (the
kustomizations that list namespaces, and index.json) are *shared*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator import index
from generator.index import STATE_KEPT, Damaged, IndexEntry

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"
KEPT = STATE_KEPT
UNCHANGED = "unchanged"
KINDS = (ADDED, CHANGED, REMOVED, KEPT, UNCHANGED)


@dataclass(frozen=True)
class FileChange:
    path: str
    old: bytes | None  # None: the file is added
    new: bytes | None  # None: the file is removed


@dataclass(frozen=True)
class ModelChange:
    id: str
    kind: str
    repo: str
    commit: str
    team: str
    files: tuple[FileChange, ...]
    errors: tuple[str, ...] = ()

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
        return ", ".join(f"{self.count(kind)} {kind}" for kind in KINDS)


def classify(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> ChangeSet:
    old_index = index.tree_index(old, "the rendered tree")
    new_index = index.tree_index(new, "the rendered tree")
    owned: set[str] = set()
    models: list[ModelChange] = []
    ids = {*old_index.models, *old_index.damaged, *new_index.models, *new_index.damaged}
    for model_id in sorted(ids):
        before = old_index.models.get(model_id) or old_index.damaged.get(model_id)
        after = new_index.models.get(model_id) or new_index.damaged.get(model_id)
        paths = sorted({*_files(before), *_files(after)})
        owned.update(paths)
        files = tuple(_changes(paths, old, new))
        models.append(_model_change(model_id, before, after, files))
    shared = tuple(_changes(sorted((old.keys() | new.keys()) - owned), old, new))
    return ChangeSet(tuple(models), shared)


def _changes(paths: list[str], old: Mapping[str, bytes], new: Mapping[str, bytes]):
    for path in paths:
        before, after = old.get(path), new.get(path)
        if before != after:
            yield FileChange(path, before, after)


def _files(item: IndexEntry | Damaged | None) -> tuple[str, ...]:
    if item is None:
        return ()
    return item.files if isinstance(item, IndexEntry) else item.files or ()


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
    elif files or before != after:
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
        errors=after.errors if isinstance(after, IndexEntry) else (),
    )


def _damaged_change(
    model_id: str, kind: str, entry: Damaged, files: tuple[FileChange, ...]
) -> ModelChange:
    """A model whose index.json entry is damaged: what can be read of it, and its problems."""
    record = entry.record if isinstance(entry.record, dict) else {}
    source = record.get("source") if isinstance(record.get("source"), dict) else {}
    spec = record.get("spec") if isinstance(record.get("spec"), dict) else {}
    commit, team = source.get("commit"), spec.get("team")
    return ModelChange(
        id=model_id,
        kind=kind,
        repo=entry.repo or "?",
        commit=commit if isinstance(commit, str) else "",
        team=team if isinstance(team, str) else "?",
        files=files,
        errors=tuple(str(problem) for problem in entry.problems),
    )
