"""Compare two rendered trees ({path: bytes}) and spell out the difference.   (pure)"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from generator import planned_tree


@dataclass(frozen=True)
class TreeChanges:
    added: tuple[str, ...]
    modified: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.modified or self.removed)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(sorted((*self.added, *self.modified, *self.removed)))

    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.modified)} changed, {len(self.removed)} removed"


def compare(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> TreeChanges:
    """Each path of both trees read at most once from each; none read that ``new`` keeps
    from ``old`` (the same bytes by construction)."""
    # Plain sets: a Mapping's key views would test 10^5 paths one `in` at a time.
    new_paths, old_paths = set(new), set(old)
    compared = (new_paths & old_paths) - planned_tree.unchanged(new, old)
    return TreeChanges(
        added=tuple(sorted(new_paths - old_paths)),
        modified=tuple(sorted(p for p in compared if new[p] != old[p])),
        removed=tuple(sorted(old_paths - new_paths)),
    )


def _lines(content: bytes | None) -> list[str]:
    if content is None:
        return []
    try:
        return content.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return ["(binary content)\n"]


def file_diff(path: str, old: bytes | None, new: bytes | None, prefix: str = "") -> str:
    """A unified diff of one file, ``a/…`` → ``b/…`` like git; /dev/null for added/removed."""
    before = f"a/{prefix}{path}" if old is not None else "/dev/null"
    after = f"b/{prefix}{path}" if new is not None else "/dev/null"
    lines = list(difflib.unified_diff(_lines(old), _lines(new), before, after))
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def unified(
    old: Mapping[str, bytes], new: Mapping[str, bytes], changes: TreeChanges, prefix: str = ""
) -> Iterator[str]:
    for path in changes.paths:
        yield file_diff(path, old.get(path), new.get(path), prefix)
