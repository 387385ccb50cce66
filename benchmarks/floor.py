"""The floor of a render under DESIGN.md's write: what any renderer that replaces the tree
atomically pays for one model changed among N, before it parses, checks or templates anything.

    TMPDIR=/dev/shm .venv/bin/python benchmarks/floor.py 10000        # 5 repeats
    .venv/bin/python benchmarks/floor.py 1000 10000 --repeats 7
    .venv/bin/python benchmarks/floor.py --smoke                      # 20 models: does it run

On the synthetic platform of ``render.py``, rendered once by the real CLI, it times bare
loops of os calls, split over both cores where the work splits (a forked process does the
second half, as Modelship's write does):
  - reading every MLproject: a full scan must, since any of them may have moved;
  - listing the tree: the write removes what the plan does not hold, and refuses a file it
    did not write;
  - reading and parsing index.json, the state of record;
  - the write DESIGN.md asks for ("stage in a temp dir, then swap"): a stage with every
    folder made and every file hard-linked (none copied: the cheapest stage there is), the
    swap (two renames), then the old tree's files unlinked and its folders removed.
The write alone is the floor of the dispatch case (``--repository``, which reads one
repository); with the rest, of a full scan. Both are printed beside issue 16's target of
1 s for one model changed. Last, the bytes of the tree: a full render whose plan holds the
tree whole (DESIGN.md's ``plan(platform, specs) -> dict[str, bytes]``) holds at least that
many, beside the target of 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import render  # benchmarks/, beside this script: the synthetic platform, and the targets

WRITE_STEPS = (
    "the write: folders made",
    "the write: files linked (two processes)",
    "the write: the swap (two renames)",
    "the write: old files unlinked (two processes)",
    "the write: old folders removed",
)


def listing(root: str) -> tuple[list[str], list[str]]:
    """The tree's files and folders, by path relative to ``root``, parents before children."""
    files: list[str] = []
    folders: list[str] = []
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(f"{root}/{relative}" if relative else root) as entries:
            for entry in entries:
                path = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append(path)
                    pending.append(path)
                else:
                    files.append(path)
    return files, sorted(folders)


def halves(do: Callable[[Sequence[str]], None], items: Sequence[str]) -> None:
    """``do`` of the first half of ``items`` here and of the second in a forked process."""
    middle = len(items) // 2
    child = os.fork()
    if child == 0:
        try:
            do(items[middle:])
        finally:
            os._exit(0)
    do(items[:middle])
    _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the forked half failed")


def read_mlprojects(repos: Path) -> None:
    for name in os.listdir(repos):
        descriptor = os.open(f"{repos}/{name}/MLproject", os.O_RDONLY)
        try:
            os.read(descriptor, 1 << 20)
        finally:
            os.close(descriptor)


def one_write(tree: Path, files: list[str], folders: list[str]) -> dict[str, float]:
    """The atomic write of a tree where every file is kept, step by step, in seconds."""
    stage, old = tree.with_name(".floor-stage"), tree.with_name(".floor-old")
    root, staged, gone = str(tree), str(stage), str(old)
    spent: dict[str, float] = {}

    def timed(name: str, step: Callable[[], None]) -> None:
        start = time.perf_counter()
        step()
        spent[name] = time.perf_counter() - start

    def make_folders() -> None:
        os.mkdir(staged)
        for folder in folders:
            os.mkdir(f"{staged}/{folder}")

    def link(paths: Sequence[str]) -> None:
        for path in paths:
            os.link(f"{root}/{path}", f"{staged}/{path}")

    def swap() -> None:
        os.rename(root, gone)
        os.rename(staged, root)

    def unlink(paths: Sequence[str]) -> None:
        for path in paths:
            os.unlink(f"{gone}/{path}")

    def remove_folders() -> None:
        for folder in reversed(folders):
            os.rmdir(f"{gone}/{folder}")
        os.rmdir(gone)

    timed(WRITE_STEPS[0], make_folders)
    timed(WRITE_STEPS[1], lambda: halves(link, files))
    timed(WRITE_STEPS[2], swap)
    timed(WRITE_STEPS[3], lambda: halves(unlink, files))
    timed(WRITE_STEPS[4], remove_folders)
    return spent


def one_repeat(folder: Path) -> dict[str, float]:
    tree = folder / "rendered"
    spent: dict[str, float] = {}
    start = time.perf_counter()
    read_mlprojects(folder / "examples" / "repos")
    spent["reading every MLproject"] = time.perf_counter() - start
    start = time.perf_counter()
    files, folders = listing(str(tree))
    spent["listing the tree"] = time.perf_counter() - start
    start = time.perf_counter()
    json.loads((tree / "index.json").read_bytes())
    spent["reading and parsing index.json"] = time.perf_counter() - start
    spent.update(one_write(tree, files, folders))
    after, kept = listing(str(tree))
    if sorted(after) != sorted(files) or kept != folders or tree.with_name(".floor-old").exists():
        raise SystemExit(f"the write did not leave {tree} as it found it")
    return spent


def run(models: int, repeats: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="modelship-floor-") as temporary:
        folder = Path(temporary)
        render.make_platform(folder, models)
        subprocess.run(
            [sys.executable, "-m", "generator", "render"],
            cwd=folder,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        files, folders = listing(str(folder / "rendered"))
        size = sum(os.stat(folder / "rendered" / path).st_size for path in files)
        repeated = [one_repeat(folder) for _ in range(repeats)]
        shutil.rmtree(folder / "rendered")
    steps = list(repeated[0])
    write = [sum(r[s] for s in WRITE_STEPS) for r in repeated]
    scan = [sum(r.values()) for r in repeated]
    target = render.ONE_CHANGED_TARGET

    def row(name: str, values: list[float], bound: str = "—", ratio: float | None = None) -> str:
        shown = f"{statistics.median(values):.3f} s ({min(values):.3f} to {max(values):.3f})"
        return render.figure(name, shown, bound, ratio)

    return [
        f"\n{models:,} models, {len(files):,} files in {len(folders):,} folders, "
        f"{repeats} repeats (median; min to max)",
        "| step | seconds | target | value / target |",
        "|---|---:|---:|---:|",
        *(row(step, [r[step] for r in repeated]) for step in steps),
        row(
            "**floor of one change, `--repository`** (the write)",
            write,
            f"< {target} s",
            statistics.median(write) / target,
        ),
        row(
            "**floor of one change, full scan** (every step)",
            scan,
            f"< {target} s",
            statistics.median(scan) / target,
        ),
        render.figure(
            "the tree's bytes, which a plan held whole holds",
            f"{size / 2**20:.0f} MB",
            f"< {render.PEAK_TARGET_MB} MB",
            size / 2**20 / render.PEAK_TARGET_MB,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="*", type=int, default=[10000])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each (default 5)")
    parser.add_argument("--smoke", action="store_true", help="20 models, 1 repeat")
    args = parser.parse_args()
    sizes, repeats = ([20], 1) if args.smoke else (args.models, args.repeats)
    print(render.this_machine())
    for models in sizes:
        print("\n".join(run(models, repeats)))


if __name__ == "__main__":
    main()
