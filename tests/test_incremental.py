"""The incremental render gives the bytes a full render gives.

A platform is rendered, then changed at random — MLprojects edited, broken, removed, added;
rendered files edited or deleted by hand; a platform setting, a template, a pin changed;
a digest in index.json altered — and rendered again twice from the same state: once as
it is (the models whose digests match are neither parsed nor rendered again), once with
``--full`` (every model parsed and rendered). Both trees, and both exit codes, must be
the same, step after step; and a tree whose index.json has no digests (written before
them) renders as ``--full`` does.
"""

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import index, pins, rendered_tree
from generator.cli import build_parser
from generator.commands import render
from generator.config import loader
from generator.pins import Promotions
from generator.sources.local import LocalSource
from testsupport.helpers import mlproject, platform_dir, read_tree

REPOS = "examples/repos"


def render_folder(folder: Path, *options: str) -> int:
    platform = loader.load(folder / "platform.yaml")
    args = build_parser().parse_args(["render", *options])
    return render.execute(args, platform, LocalSource.from_platform(platform))


def without_digests(folder: Path) -> None:
    """index.json as a Modelship before incremental renders wrote it: no digest to trust."""
    path = folder / "rendered" / index.INDEX_PATH
    document = json.loads(path.read_bytes())
    document.pop("code", None)
    for entry in document["models"].values():
        entry.pop("digests", None)
    path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n")


def repos(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / REPOS).iterdir() if p.is_dir())


def owned_files(folder: Path) -> list[tuple[str, str]]:
    entries = json.loads((folder / "rendered" / index.INDEX_PATH).read_bytes())["models"]
    return [
        (model_id, path) for model_id, entry in sorted(entries.items()) for path in entry["files"]
    ]


def apply(folder: Path, change: tuple[str, int]) -> None:
    kind, pick = change
    if kind in SOURCE_CHANGES:
        change_source(folder, kind, pick)
    else:
        change_platform(folder, kind, pick)


SOURCE_CHANGES = ("describe", "instances", "break", "remove", "add")


def change_source(folder: Path, kind: str, pick: int) -> None:
    models = repos(folder)
    model = models[pick % len(models)]
    text = (model / "MLproject").read_text() if (model / "MLproject").exists() else ""
    if kind == "describe":
        (model / "MLproject").write_text(
            text.replace("description: ", f"description: changed {pick} ", 1)
        )
    elif kind == "instances":
        lines = [line for line in text.splitlines() if not line.startswith("instances:")]
        (model / "MLproject").write_text("\n".join([*lines, f"instances: {1 + pick % 4}", ""]))
    elif kind == "break":
        (model / "MLproject").write_text(text + "slo: fast\n")
    elif kind == "remove":
        shutil.rmtree(model)
    elif kind == "add":
        name = f"added-{pick}-model"
        if not (folder / REPOS / name).exists():
            (folder / REPOS / name).mkdir()
            (folder / REPOS / name / "MLproject").write_text(
                mlproject(name=name, id=f"added-{pick}", team="rnd")
            )


def change_platform(folder: Path, kind: str, pick: int) -> None:
    if kind in ("edit-file", "delete-file"):
        # Files on disk only: an earlier change of this step may have deleted one.
        files = [f for f in owned_files(folder) if (folder / "rendered" / f[1]).is_file()]
        if files:
            path = folder / "rendered" / files[pick % len(files)][1]
            if kind == "edit-file":
                path.write_bytes(path.read_bytes() + b"# by hand\n")
            else:
                path.unlink()
    elif kind == "setting":
        platform = folder / "platform.yaml"
        size = f"{1 + pick % 5}m"
        text = platform.read_text()
        platform.write_text(text.replace("max_body_size: 1m", f"max_body_size: {size}", 1))
    elif kind == "template":
        templates = folder / "templates" / "kubernetes"
        templates.mkdir(parents=True, exist_ok=True)
        builtin = Path(__file__).resolve().parent.parent / "templates" / "kubernetes"
        text = (builtin / "service.yaml.j2").read_text()
        (templates / "service.yaml.j2").write_text(text + f"# changed {pick}\n")
        platform = folder / "platform.yaml"
        if "\ntemplates:" not in platform.read_text():
            platform.write_text(platform.read_text() + "\ntemplates: templates\n")
    elif kind == "unpin":
        path = folder / "promotions" / pins.file_name("production")
        held = pins.parse(path.read_text(), str(path), "production")
        if held.pins:
            gone = sorted(held.pins)[pick % len(held.pins)]
            kept = {k: v for k, v in held.pins.items() if k != gone}
            path.write_bytes(pins.dumps(Promotions("production", kept)))
    elif kind == "doubt":
        path = folder / "rendered" / index.INDEX_PATH
        document = json.loads(path.read_bytes())
        entries = [e for _, e in sorted(document["models"].items()) if "digests" in e]
        if entries:
            entries[pick % len(entries)]["digests"]["inputs"] = "sha256:" + "0" * 64
            text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
            path.write_text(text)


CHANGES = st.tuples(
    st.sampled_from(
        (
            "describe",
            "instances",
            "break",
            "remove",
            "add",
            "edit-file",
            "delete-file",
            "setting",
            "template",
            "unpin",
            "doubt",
        )
    ),
    st.integers(min_value=0, max_value=50),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.lists(CHANGES, min_size=0, max_size=4), min_size=1, max_size=3))
def test_an_incremental_render_writes_what_a_full_render_writes(steps):
    with tempfile.TemporaryDirectory(prefix="modelship-incremental-") as temporary:
        base = Path(temporary)
        incremental = platform_dir(base / "incremental")
        assert render_folder(incremental) == 0
        for changes in steps:
            for change in changes:
                apply(incremental, change)
            full = base / "full"
            shutil.rmtree(full, ignore_errors=True)
            shutil.copytree(incremental, full)
            assert render_folder(incremental) == render_folder(full, "--full")
            assert read_tree(incremental / "rendered") == read_tree(full / "rendered")


def test_nothing_changed_writes_nothing_and_one_change_writes_that_model(tmp_path):
    folder = platform_dir(tmp_path)
    assert render_folder(folder) == 0
    before = {p: p.stat().st_mtime_ns for p in (folder / "rendered").rglob("*") if p.is_file()}
    assert render_folder(folder) == 0
    after = {p: p.stat().st_mtime_ns for p in (folder / "rendered").rglob("*") if p.is_file()}
    assert after == before
    apply(folder, ("describe", 1))
    changed_model = repos(folder)[1].name
    assert render_folder(folder) == 0
    rewritten = {
        p.relative_to(folder / "rendered").as_posix()
        for p in (folder / "rendered").rglob("*")
        if p.is_file() and p.stat().st_mtime_ns != before.get(p)
    }
    entries = json.loads((folder / "rendered" / index.INDEX_PATH).read_bytes())["models"]
    (model_id,) = [k for k, e in entries.items() if e["source"]["repo"].endswith(changed_model)]
    owned = set(entries[model_id]["files"])
    assert rewritten & owned
    shared = set(json.loads((folder / "rendered" / index.INDEX_PATH).read_bytes())["shared_files"])
    others = {path for k, e in entries.items() if k != model_id for path in e["files"]}
    assert rewritten <= owned | shared | {index.INDEX_PATH}
    assert not rewritten & others


@pytest.mark.parametrize("options", [(), ("--full",)], ids=["incremental", "full"])
def test_a_render_reads_each_file_of_the_tree_once(tmp_path, monkeypatch, options):
    """The command's comparison is the write's: a file of the tree is read once (it was
    read up to three times). Twice only index.json (parsed, then compared) and, without
    ``--full``, the changed model's files (read for their digests, then compared)."""
    folder = platform_dir(tmp_path)
    assert render_folder(folder) == 0
    apply(folder, ("describe", 1))
    changed = repos(folder)[1].name
    reads = Counter()
    read = rendered_tree.DiskTree.__getitem__

    def counted(tree, relative):
        reads[relative] += 1
        return read(tree, relative)

    monkeypatch.setattr(rendered_tree.DiskTree, "__getitem__", counted)
    assert render_folder(folder, *options) == 0
    entries = json.loads((folder / "rendered" / index.INDEX_PATH).read_bytes())["models"]
    (own,) = [e["files"] for e in entries.values() if e["source"]["repo"].endswith(changed)]
    twice = {index.INDEX_PATH, *(() if options else own)}
    assert len(reads) > len(own) + 1
    assert {path for path, count in reads.items() if count > 1} == twice


def test_an_index_without_digests_renders_as_full(tmp_path):
    folder = platform_dir(tmp_path / "old")
    assert render_folder(folder) == 0
    apply(folder, ("describe", 2))
    without_digests(folder)
    full = tmp_path / "full"
    shutil.copytree(folder, full)
    assert render_folder(folder) == render_folder(full, "--full") == 0
    assert read_tree(folder / "rendered") == read_tree(full / "rendered")
