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
from generator.index import STATE_KEPT, IndexEntry

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
    for model_id in sorted(old_index.models.keys() | new_index.models.keys()):
        before = old_index.models.get(model_id)
        after = new_index.models.get(model_id)
        paths = sorted({*(before.files if before else ()), *(after.files if after else ())})
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


def _model_change(
    model_id: str,
    before: IndexEntry | None,
    after: IndexEntry | None,
    files: tuple[FileChange, ...],
) -> ModelChange:
    if after is None:
        kind = REMOVED
    elif before is None:
        kind = ADDED
    elif after.state == STATE_KEPT:
        kind = KEPT
    elif files or before != after:
        kind = CHANGED
    else:
        kind = UNCHANGED
    entry = after or before
    assert entry is not None
    return ModelChange(
        id=model_id,
        kind=kind,
        repo=entry.repo,
        commit=entry.model.provenance.commit,
        team=entry.model.spec.team,
        files=files,
        errors=after.errors if after else (),
    )
