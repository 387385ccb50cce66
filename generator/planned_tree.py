"""A planned rendered tree: the files a render made, and the files it keeps as the tree has
them.   (pure)

A re-run keeps most models' files as they are: their digests match index.json's, so their
bytes are the tree's own. ``PlannedTree`` holds those as "the tree's", not as bytes: a
comparison with that very tree knows them unchanged without reading them twice
(``kept_from``), and a write over it links them. Any other consumer reads their bytes, one
at a time, when it asks: a comparison with or a write over another tree (``publish`` decides
against HEAD's tree and writes the working tree), a commit, a write whose link fails. A
re-run of 10,000 models so holds no copy of the 400 MB it checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping


class TreeFiles(Mapping[str, bytes]):
    """Some files of ``tree``, read from it when asked for."""

    def __init__(self, tree: Mapping[str, bytes], paths: tuple[str, ...]) -> None:
        self.tree = tree
        self._paths = paths

    def __getitem__(self, path: str) -> bytes:
        if path not in self._paths:
            raise KeyError(path)
        return self.tree[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


class PlannedTree(Mapping[str, bytes]):
    """Every file of a planned tree, by path in sorted order: ``made`` (this render's bytes)
    and ``kept`` (path → where its bytes are: the tree it is kept from, or ``TreeFiles`` of
    it). The two hold no path in common."""

    def __init__(self, made: Mapping[str, bytes], kept: Mapping[str, Mapping[str, bytes]]) -> None:
        self._made = dict(made)
        self._kept = dict(kept)
        if both := self._made.keys() & self._kept.keys():
            raise ValueError(f"made and kept both hold {sorted(both)[:3]}")
        self._paths = sorted([*self._made, *self._kept])

    def __getitem__(self, path: str) -> bytes:
        content = self._made.get(path)
        if content is not None:
            return content
        return self._kept[path][path]

    def __contains__(self, path: object) -> bool:
        return path in self._made or path in self._kept

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def kept_from(self, tree: Mapping[str, bytes]) -> frozenset[str]:
        """The paths whose bytes are ``tree``'s own, by construction: kept from it."""
        return frozenset(
            path
            for path, source in self._kept.items()
            if source is tree or (isinstance(source, TreeFiles) and source.tree is tree)
        )


def unchanged(new: Mapping[str, bytes], old: Mapping[str, bytes]) -> frozenset[str]:
    """Paths of ``new`` that hold ``old``'s bytes by construction (none unless ``new`` is a
    ``PlannedTree`` that keeps files from ``old``): equal, and not read to know it."""
    return new.kept_from(old) if isinstance(new, PlannedTree) else frozenset()
