"""Writing the rendered tree: atomic under SIGKILL, nothing outside touched, no-op when unchanged."""

import json
import multiprocessing
import os
import shutil
import struct
import subprocess
import sys

import pytest

from generator import rendered_tree, workers
from generator.errors import ExternalError
from testsupport.helpers import ROOT, read_tree, started_workers

KILLER = ROOT / "testsupport" / "write_killer.py"


def plan(version: str, models: range, extra: str = "") -> dict[str, bytes]:
    files = {"index.json": f'{{"version": "{version}"}}\n'.encode()}
    for number in models:
        for env in ("staging", "production"):
            folder = f"{env}/kubernetes/team-{number % 3}/model-{number}"
            files[f"{folder}/deployment.yaml"] = f"model: {number}\nversion: {version}\n".encode()
            files[f"{folder}/service.yaml"] = f"model: {number}\n{extra}".encode()
    return files


OLD = plan("v1", range(8))
NEW = plan("v2", range(3, 11), extra="port: 80\n")  # 3 models removed, 3 added, 5 changed
# One model removed, one file added, one changed, the rest kept.
MOVED = {
    **{path: content for path, content in OLD.items() if "/model-0/" not in path},
    "staging/kubernetes/team-0/model-9/deployment.yaml": b"added\n",
    "staging/kubernetes/team-1/model-1/deployment.yaml": b"changed\n",
}


@pytest.fixture
def platform_folder(tmp_path):
    """A platform repository with files around the rendered tree that must never change."""
    folder = tmp_path / "platform"
    folder.mkdir()
    (folder / "platform.yaml").write_text("name: x\n")
    (folder / ".rendered-notes").write_text("not ours\n")
    (folder / "rendered-elsewhere").mkdir()
    (folder / "rendered-elsewhere" / "keep.yaml").write_text("keep: true\n")
    return folder


def outside(folder):
    return {p: c for p, c in read_tree(folder).items() if not p.startswith("rendered/")}


def test_write_creates_replaces_and_removes_exactly_what_the_plan_says(platform_folder):
    root = platform_folder / "rendered"
    around = outside(platform_folder)
    rendered_tree.write_tree(root, OLD, rendered_tree.read_tree(root))
    assert read_tree(root) == OLD
    (root / "staging/kubernetes/team-0/stray.yaml").write_text("added by hand\n")
    changes = rendered_tree.write_tree(root, NEW, rendered_tree.read_tree(root))
    assert read_tree(root) == NEW
    assert "staging/kubernetes/team-0/stray.yaml" in changes.removed
    assert not (root / "staging/kubernetes/team-0/model-0").exists(), "empty folder left"
    assert outside(platform_folder) == around
    assert sorted(p.name for p in platform_folder.iterdir()) == [
        ".rendered-notes",
        "platform.yaml",
        "rendered",
        "rendered-elsewhere",
    ]


def test_a_rewrite_with_nothing_changed_writes_nothing(platform_folder):
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in [root, *root.rglob("*")]}
    changes = rendered_tree.write_tree(root, dict(OLD), rendered_tree.read_tree(root))
    assert changes.empty
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in [root, *root.rglob("*")]} == before


def test_unchanged_files_are_not_rewritten_when_others_change(platform_folder):
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    unchanged = root / "staging/kubernetes/team-0/model-3/service.yaml"
    stamp = (unchanged.stat().st_ino, unchanged.stat().st_mtime_ns)
    new = {**OLD, "staging/kubernetes/team-0/model-3/deployment.yaml": b"changed\n"}
    rendered_tree.write_tree(root, new, rendered_tree.read_tree(root))
    assert read_tree(root) == new
    assert (unchanged.stat().st_ino, unchanged.stat().st_mtime_ns) == stamp


@pytest.fixture
def spread_write(monkeypatch):
    """Writes of two files and more are shared with a worker; the workers started, as
    they are."""
    started = started_workers(monkeypatch)
    monkeypatch.setattr(rendered_tree, "MIN_SPREAD_FILES", 2)
    assert workers.can_fork()
    return started


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "two-renames"])
def test_a_write_shared_with_a_worker_is_the_write_of_one_process(
    platform_folder, spread_write, exchange
):
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    kept = "production/kubernetes/team-0/model-3/service.yaml"
    stamp = (root / kept).stat().st_ino
    spread_write.clear()
    changes = rendered_tree.write_tree(
        root, MOVED, rendered_tree.read_tree(root), exchange=exchange
    )
    assert read_tree(root) == MOVED
    assert changes.added == ("staging/kubernetes/team-0/model-9/deployment.yaml",)
    assert changes.modified == ("staging/kubernetes/team-1/model-1/deployment.yaml",)
    assert len(changes.removed) == 4
    assert (root / kept).stat().st_ino == stamp, "a kept file was rewritten, not linked"
    assert (root / kept).stat().st_nlink == 1, "the old tree was not removed"
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []
    assert len(spread_write) == 2  # the stage, the removal
    assert None not in spread_write
    assert multiprocessing.active_children() == []


def test_a_half_the_worker_did_not_deliver_is_staged_here_over_what_it_left(
    platform_folder, spread_write, monkeypatch
):
    """The worker's half is not waited for (it may have staged any part of it): this
    process stages that half again, and the tree is the plan, kept files linked."""
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    kept = "production/kubernetes/team-0/model-3/service.yaml"
    stamp = (root / kept).stat().st_ino
    monkeypatch.setattr(workers, "WAIT_S", 0.0)
    rendered_tree.write_tree(root, MOVED, rendered_tree.read_tree(root))
    assert read_tree(root) == MOVED
    assert (root / kept).stat().st_ino == stamp
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []
    assert spread_write


def test_a_worker_killed_halfway_through_a_file_leaves_this_process_to_stage_its_half(
    platform_folder, spread_write, monkeypatch
):
    """The worker dies having written half of a file: this process stages the worker's
    half again, over the half-written file, and the tree is the plan."""
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    here = os.getpid()
    original = rendered_tree._write_new

    def dying(folder_fd, relative, shown, content, chmod):
        if os.getpid() == here:
            return original(folder_fd, relative, shown, content, chmod)
        original(folder_fd, relative, shown, content[: len(content) // 2], chmod)
        os._exit(1)

    monkeypatch.setattr(rendered_tree, "_write_new", dying)
    rendered_tree.write_tree(root, NEW, rendered_tree.read_tree(root))
    assert read_tree(root) == NEW
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []
    assert spread_write


@pytest.mark.parametrize("spread", [False, True], ids=["one-process", "with-a-worker"])
def test_a_folder_replaced_by_a_link_after_the_read_is_not_emptied_through_it(
    platform_folder, monkeypatch, spread
):
    """A folder of the tree that a link replaced while the render ran: removing the old
    tree removes the link, never the files or folders it points to."""
    if spread:
        monkeypatch.setattr(rendered_tree, "MIN_SPREAD_FILES", 2)
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    current = rendered_tree.read_tree(root)
    elsewhere = platform_folder / "rendered-elsewhere"
    team = root / "production/kubernetes/team-1"
    for path in team.rglob("*.yaml"):
        target = elsewhere / path.relative_to(team)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("not the tree's\n")
    around = outside(platform_folder)
    shutil.rmtree(team)
    team.symlink_to(elsewhere)
    rendered_tree.write_tree(root, MOVED, current)
    assert outside(platform_folder) == around
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []


@pytest.mark.parametrize("spread", [False, True], ids=["one-process", "with-a-worker"])
def test_a_kept_file_under_a_folder_a_link_replaced_is_never_linked_through_it(
    platform_folder, monkeypatch, spread
):
    """The link points at files equal to the tree's, so they compare unchanged: the write
    refuses to link them into the new tree from outside it, names the folder, and leaves
    the tree and what the link points to as they were."""
    if spread:
        monkeypatch.setattr(rendered_tree, "MIN_SPREAD_FILES", 2)
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    current = rendered_tree.read_tree(root)
    elsewhere = platform_folder / "rendered-elsewhere" / "team-1"
    team = root / "production/kubernetes/team-1"
    shutil.copytree(team, elsewhere)
    shutil.rmtree(team)
    team.symlink_to(elsewhere)
    around = outside(platform_folder)
    with pytest.raises(ExternalError, match="no longer a folder") as refused:
        rendered_tree.write_tree(root, MOVED, current)
    assert "production/kubernetes/team-1" in str(refused.value)
    assert outside(platform_folder) == around
    kept = elsewhere / "model-1"
    assert {(kept / name).stat().st_nlink for name in os.listdir(kept)} == {1}, "linked"
    assert team.is_symlink()
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []


def test_written_files_are_mode_0644_under_a_default_acl_that_takes_bits_away(platform_folder):
    """A folder's default POSIX ACL, not the umask, decides a new file's mode in it."""
    acl = struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", tag, permissions, 0xFFFFFFFF)
        for tag, permissions in ((0x01, 7), (0x04, 5), (0x20, 0))  # u::rwx g::r-x o::---
    )
    try:
        os.setxattr(platform_folder, "system.posix_acl_default", acl)
    except OSError as error:
        pytest.skip(f"this file system keeps no POSIX ACLs ({error.strerror})")
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    (platform_folder / "probe").write_text("")
    assert (platform_folder / "probe").stat().st_mode & 0o777 == 0o640  # the ACL at work
    rendered_tree.write_tree(root, MOVED, rendered_tree.read_tree(root))
    assert {(root / path).stat().st_mode & 0o7777 for path in MOVED} == {0o644}


def test_a_file_written_into_the_tree_after_it_was_read_goes_with_the_old_tree(platform_folder):
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    current = rendered_tree.read_tree(root)
    (root / "staging/kubernetes/team-1/model-4/late.yaml").write_text("written meanwhile\n")
    rendered_tree.write_tree(root, MOVED, current)
    assert read_tree(root) == MOVED
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_written_files_are_mode_0644_whatever_the_umask(platform_folder, umask):
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    before = os.umask(umask)
    try:
        rendered_tree.write_tree(root, MOVED, rendered_tree.read_tree(root))
    finally:
        os.umask(before)
    assert read_tree(root) == MOVED
    assert {(root / path).stat().st_mode & 0o7777 for path in MOVED} == {0o644}


def test_leftovers_of_an_interrupted_write_are_cleaned_by_the_next(platform_folder):
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    stage = rendered_tree.stage_path(root)
    (stage / "half").mkdir(parents=True)
    (stage / "half" / "written.yaml").write_text("partial\n")
    rendered_tree.write_tree(root, NEW, rendered_tree.read_tree(root))
    assert not stage.exists()
    assert read_tree(root) == NEW


def test_an_interrupted_fallback_swap_is_rolled_back_and_read_as_the_old_tree(platform_folder):
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    os.rename(root, rendered_tree.backup_path(root))  # killed between the fallback's two renames
    rendered_tree.stage_path(root).mkdir()
    assert rendered_tree.read_tree(root) == OLD
    rendered_tree.recover(root)
    assert read_tree(root) == OLD
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []


def test_a_tree_read_from_the_backup_folder_is_read_where_recover_moves_it(platform_folder):
    """What a write reads of the old tree after its recover() (a file it keeps and cannot
    link, a commit of the kept files) comes from the tree's own place."""
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    os.rename(root, rendered_tree.backup_path(root))  # killed between the fallback's two renames
    tree = rendered_tree.read_tree(root)
    rendered_tree.recover(root)
    assert not rendered_tree.backup_path(root).exists()
    assert {path: tree[path] for path in tree} == OLD


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "two-renames"])
def test_a_write_after_an_interrupted_fallback_swap_reads_the_recovered_tree(
    platform_folder, exchange
):
    """A write over the tree read from the backup folder of an interrupted swap lands in
    the tree's place: the changed file written, the others linked, nothing left beside."""
    root = platform_folder / "rendered"
    rendered_tree.write_tree(root, OLD, {})
    os.rename(root, rendered_tree.backup_path(root))  # killed between the fallback's two renames
    unchanged = "staging/kubernetes/team-0/model-3/service.yaml"
    new = {**OLD, "staging/kubernetes/team-0/model-3/deployment.yaml": b"changed\n"}
    changes = rendered_tree.write_tree(root, new, rendered_tree.read_tree(root), exchange=exchange)
    assert read_tree(root) == new
    assert changes.modified == ("staging/kubernetes/team-0/model-3/deployment.yaml",)
    assert (root / unchanged).stat().st_nlink == 1, "the old tree's folder was not removed"
    assert sorted(p.name for p in platform_folder.iterdir() if "modelship" in p.name) == []


def kill(tmp_path, mode, exchange, points, spread=False):
    work = tmp_path / "work"
    (work / "platform").mkdir(parents=True, exist_ok=True)
    (work / "platform" / "platform.yaml").write_text("name: x\n")
    for name, files in (("old.json", OLD), ("new.json", NEW)):
        (work / name).write_text(json.dumps({k: v.decode() for k, v in files.items()}))
    result = subprocess.run(
        [
            sys.executable,
            str(KILLER),
            str(work),
            mode,
            "1" if exchange else "0",
            "1" if spread else "0",
            *map(str, points),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (work / "platform" / "platform.yaml").read_text() == "name: x\n"
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "two-renames"])
def test_sigkill_at_every_step_leaves_the_old_or_the_new_tree(tmp_path, exchange):
    [finished] = kill(tmp_path, "calls", exchange, [0])
    total = finished["calls"]
    assert not finished["killed"]
    assert finished["recovered"] == "new"
    points = sorted({*range(1, total + 1, max(1, total // 60)), total})
    results = kill(tmp_path, "calls", exchange, points)
    assert all(r["killed"] for r in results)
    outcomes = [r["recovered"] for r in results]
    assert set(outcomes) == {"old", "new"}, outcomes
    flip = outcomes.index("new")
    assert outcomes == ["old"] * flip + ["new"] * (len(outcomes) - flip), "old after new"
    assert all(r["leftovers"] == [] for r in results)
    # Between the last kill point that left the old tree and the first that left the new one,
    # every single call is a kill point: the swap is in there.
    dense = range(max(1, points[flip - 1]), points[flip] + 1)
    around = kill(tmp_path, "calls", exchange, dense)
    assert {r["recovered"] for r in around} == {"old", "new"}
    raw = {r["raw"] for r in (*results, *around)}
    if exchange:
        assert raw == {"old", "new"}, "a mix or no tree was visible before recovery"
    else:
        assert raw == {"old", "new", "missing"}, "the window between the two renames was missed"


@pytest.mark.parametrize("spread", [False, True], ids=["one-process", "with-a-worker"])
def test_sigkill_from_outside_at_random_moments(tmp_path, spread):
    """With a worker, killed with the writer: what it left is cleaned as the writer's is."""
    delays = [0, 200, 500, 1000, 2000, 3000, 5000, 8000, 12000, 20000, 40000, 80000]
    results = kill(tmp_path, "timer", True, delays, spread)
    assert {r["raw"] for r in results} <= {"old", "new"}
    assert {r["recovered"] for r in results} <= {"old", "new"}
    assert all(r["leftovers"] == [] for r in results)


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 65537, 1 << 20])
def test_a_file_of_any_size_is_read_whole(tmp_path, size):
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    (tmp_path / "a.yaml").write_bytes(content)
    assert rendered_tree.read_tree(tmp_path)["a.yaml"] == content


def test_a_file_longer_than_its_size_says_is_read_to_its_end(tmp_path):
    """A file that grew after its size was taken reads to its end, not to the size: proc's
    files say 0 and hold more, as such a file does."""
    command_line = "/proc/self/cmdline"
    assert os.stat(command_line).st_size == 0
    with open(command_line, "rb") as file:
        whole = file.read()
    assert len(whole) > 1
    assert rendered_tree._read_regular(command_line) == whole
