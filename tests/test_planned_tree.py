"""A planned tree keeps a reused model's files as the tree has them: it reads as the mapping
of its bytes, and a comparison with, or a write over, that tree does not read them."""

import os
from collections.abc import Mapping

import pytest

from generator import changeset, rendered_tree, treediff
from generator.planned_tree import PlannedTree, TreeFiles

INDEX = b'{"format": 2, "models": {}, "shared_files": []}\n'


class CountedTree(Mapping):
    """A tree that counts the files read from it."""

    def __init__(self, files):
        self._files = dict(files)
        self.read = []

    @property
    def reads(self):
        return len(self.read)

    def __getitem__(self, path):
        content = self._files[path]
        self.read.append(path)
        return content

    def __contains__(self, path):
        return path in self._files

    def __iter__(self):
        return iter(self._files)

    def __len__(self):
        return len(self._files)


def test_a_planned_tree_reads_as_the_mapping_of_its_bytes():
    tree = {"b/kept.yaml": b"kept\n", "b/other.yaml": b"other\n"}
    planned = PlannedTree(
        {"a/made.yaml": b"made\n", "index.json": b"{}\n"},
        {"b/kept.yaml": TreeFiles(tree, ("b/kept.yaml",))},
    )
    assert planned == {"a/made.yaml": b"made\n", "b/kept.yaml": b"kept\n", "index.json": b"{}\n"}
    assert list(planned) == ["a/made.yaml", "b/kept.yaml", "index.json"]
    assert "b/other.yaml" not in planned
    assert planned.kept_from(tree) == {"b/kept.yaml"}
    assert planned.kept_from(dict(tree)) == frozenset()


def test_a_comparison_with_the_tree_files_are_kept_from_reads_none_of_them():
    tree = CountedTree({"m/deployment.yaml": b"old\n", "m/service.yaml": b"svc\n", "x": b"1\n"})
    planned = PlannedTree(
        {"x": b"2\n"}, dict.fromkeys(["m/deployment.yaml", "m/service.yaml"], tree)
    )
    changes = treediff.compare(tree, planned)
    assert (changes.added, changes.modified, changes.removed) == ((), ("x",), ())
    assert tree.reads == 1  # x, to compare it
    other = CountedTree(tree)
    assert treediff.compare(other, planned).modified == ("x",)
    assert other.reads == 3  # another tree: every common file is compared


def test_changes_by_model_read_no_kept_file():
    tree = CountedTree({"index.json": INDEX, "gateway/nginx.conf": b"events {}\n"})
    planned = PlannedTree({"index.json": INDEX}, {"gateway/nginx.conf": tree})
    assert changeset.classify(tree, planned).shared == ()
    assert tree.reads == 2  # index.json, for its entries and to compare it; not nginx.conf


FIRST = {"a/kept.yaml": b"kept\n", "b.yaml": b"old\n", "index.json": INDEX}


def test_a_write_links_the_files_kept_from_the_tree_it_replaces_unread(tmp_path):
    root = tmp_path / "rendered"
    rendered_tree.write_tree(root, FIRST, {})
    before = os.stat(root / "a" / "kept.yaml").st_ino
    current = CountedTree(FIRST)  # the tree as read: counts what the write reads of it
    planned = PlannedTree({"b.yaml": b"new\n", "index.json": INDEX}, {"a/kept.yaml": current})
    changes = rendered_tree.write_tree(root, planned, current)
    assert changes.modified == ("b.yaml",)
    assert os.stat(root / "a" / "kept.yaml").st_ino == before
    assert (root / "b.yaml").read_bytes() == b"new\n"
    assert current.read
    assert "a/kept.yaml" not in current.read


def test_files_kept_from_another_tree_are_written_as_that_tree_has_them(tmp_path):
    """As publish does: decided against HEAD's tree, written over a working tree that a
    hand edit made differ."""
    root = tmp_path / "rendered"
    rendered_tree.write_tree(root, {**FIRST, "a/kept.yaml": b"edited by hand\n"}, {})
    head = dict(FIRST)
    planned = PlannedTree({"b.yaml": b"old\n", "index.json": INDEX}, {"a/kept.yaml": head})
    changes = rendered_tree.write_tree(root, planned, rendered_tree.read_tree(root))
    assert changes.modified == ("a/kept.yaml",)
    assert (root / "a" / "kept.yaml").read_bytes() == b"kept\n"


def test_a_path_both_made_and_kept_is_refused():
    with pytest.raises(ValueError, match=r"index\.json"):
        PlannedTree({"index.json": INDEX}, {"index.json": {"index.json": INDEX}})


def test_a_write_reads_each_file_of_the_tree_it_replaces_once(tmp_path):
    """One comparison decides what is written and what is linked: no file is read again."""
    root = tmp_path / "rendered"
    rendered_tree.write_tree(root, FIRST, {})
    current = CountedTree(FIRST)
    new = {**FIRST, "b.yaml": b"new\n", "c.yaml": b"added\n"}
    changes = rendered_tree.write_tree(root, new, current)
    assert (changes.added, changes.modified) == (("c.yaml",), ("b.yaml",))
    assert sorted(current.read) == sorted(FIRST)
    assert {path: (root / path).read_bytes() for path in new} == new
