"""Kill ``rendered_tree.write_tree`` with SIGKILL at chosen moments and record what is left.

Run by tests/test_rendered_tree.py as a subprocess:

    python testsupport/write_killer.py WORK MODE EXCHANGE SPREAD POINTS...

WORK holds old.json and new.json (the two plans, path → text); the tree is
WORK/platform/rendered. For each point the tree is reset to the old plan, then a
forked child writes the new plan and is killed:

- MODE ``calls``: the child SIGKILLs itself at its POINT-th call of a builtin
  (every os.link, os.rename, write, ... is one), so the kill points are exact
  and cover every step; POINT 0 lets it finish and reports how many calls it made;
- MODE ``timer``: the parent SIGKILLs the child POINT microseconds after forking.

SPREAD ``1`` has the child share its links, writes and unlinks with a worker
(``rendered_tree.MIN_SPREAD_FILES``), which the kernel kills with it.

One JSON line per point: what the tree was right after the kill (before any
recovery) and after ``rendered_tree.recover``, each "old", "new", "missing" or "mixed",
and the sibling folders left behind after recovery.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from generator import rendered_tree


def main() -> None:
    work, mode, exchange = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
    if sys.argv[4] == "1":
        rendered_tree.MIN_SPREAD_FILES = 2
    old = _load(work / "old.json")
    new = _load(work / "new.json")
    root = work / "platform" / "rendered"
    for point in map(int, sys.argv[5:]):
        _reset(root, old)
        report = work / "calls.txt"
        report.unlink(missing_ok=True)
        pid = os.fork()
        if pid == 0:
            _child(root, new, old, exchange, point if mode == "calls" else 0, report)
        if mode == "timer":
            time.sleep(point / 1_000_000)
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        raw = _state(root, old, new)
        rendered_tree.recover(root)
        result = {
            "point": point,
            "killed": killed,
            "raw": raw,
            "recovered": _state(root, old, new),
            "leftovers": sorted(p.name for p in root.parent.iterdir() if "modelship" in p.name),
            "calls": int(report.read_text()) if report.exists() else None,
        }
        print(json.dumps(result), flush=True)


def _child(
    root: Path,
    new: dict[str, bytes],
    old: dict[str, bytes],
    exchange: bool,
    kill_at: int,
    report: Path,
) -> None:
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event == "c_call":
            calls += 1
            if calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    sys.setprofile(count)
    rendered_tree.write_tree(root, new, old, exchange=exchange)
    sys.setprofile(None)
    # Whole or not at all: a timer may kill the child while it reports.
    written = report.with_suffix(".tmp")
    written.write_text(str(calls))
    written.rename(report)
    os._exit(0)


def _load(path: Path) -> dict[str, bytes]:
    return {name: text.encode() for name, text in json.loads(path.read_text()).items()}


def _reset(root: Path, old: dict[str, bytes]) -> None:
    for folder in (root, rendered_tree.stage_path(root), rendered_tree.backup_path(root)):
        if folder.exists():
            shutil.rmtree(folder)
    rendered_tree.write_tree(root, old, {})


def _state(root: Path, old: dict[str, bytes], new: dict[str, bytes]) -> str:
    if not root.exists():
        return "missing"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    no_empty_folders = all(any(p.iterdir()) for p in root.rglob("*") if p.is_dir())
    if files == old and no_empty_folders:
        return "old"
    if files == new and no_empty_folders:
        return "new"
    return "mixed"


if __name__ == "__main__":
    main()
