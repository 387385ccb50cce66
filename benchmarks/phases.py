"""Where one `modelship render` spends its time, stage by stage.

    cd PLATFORM && python /path/to/benchmarks/phases.py            # a render
    cd PLATFORM && python /path/to/benchmarks/phases.py --full     # any render options

Each stage of ``run.render_run`` (and the write) is timed by wrapping the function that does
it: wall seconds, CPU seconds of this process (``time.process_time``: on a machine others
share, steadier than wall time), and the peak RSS after it. Child processes (the workers of
``generator/spread.py``, any git) are a row of their own: their CPU seconds, and the
largest one's peak. When a worker reads the promotions files beside the rest
(``spread.promotions``, from 250 kB of them), their time is in that row, and they have no
row of their own. A platform to run it on is made by ``render.py``'s ``make_platform``:

    python -c "import sys; sys.path[:0] = ['benchmarks', '.']; import render, pathlib; \
        render.make_platform(pathlib.Path('/dev/shm/p10k'), 10000)"
"""

from __future__ import annotations

import functools
import resource
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

START, START_WALL = time.process_time(), time.perf_counter()

from generator import cli, evaluate, index, promotion_store, rendered_tree, run  # noqa: E402
from generator.commands import options  # noqa: E402
from generator.rendering import plan  # noqa: E402

STAGES: tuple[tuple[ModuleType, str, str], ...] = (
    (options, "load_platform", "platform.yaml"),
    (options, "scan", "scan of the source"),
    (rendered_tree, "read_tree", "listing the tree"),
    (index, "tree_index", "reading and checking index.json"),
    (evaluate, "evaluate", "parsing and validating MLprojects"),
    (promotion_store, "read_all", "reading the promotions files"),
    (run, "recorded_files", "reading the models' files for their digests"),
    (plan, "plan", "planning (templates, shared files, index.json)"),
    (rendered_tree, "write_tree", "comparing and writing the tree"),
)


def timed(
    spent: dict[str, tuple[float, float]],
    peaks: dict[str, int],
    name: str,
    original: Callable[..., Any],
) -> Callable[..., Any]:
    """``original``, adding its wall and CPU seconds to ``spent[name]``."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            was_wall, was_cpu = spent.get(name, (0.0, 0.0))
            spent[name] = (
                was_wall + time.perf_counter() - wall,
                was_cpu + time.process_time() - cpu,
            )
            peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    return wrapper


def main() -> None:
    imported, imported_wall = time.process_time() - START, time.perf_counter() - START_WALL
    spent: dict[str, tuple[float, float]] = {}
    peaks: dict[str, int] = {}
    for module, function, name in STAGES:
        setattr(module, function, timed(spent, peaks, name, getattr(module, function)))
    status = cli.main(["render", *sys.argv[1:]])
    total, total_wall = time.process_time() - START, time.perf_counter() - START_WALL
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("| stage | wall s | CPU s | peak RSS after |\n|---|---:|---:|---:|")
    print(f"| imports | {imported_wall:.2f} | {imported:.2f} | |")
    for _, _, name in STAGES:
        if name in spent:
            wall, cpu = spent[name]
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {peaks[name]} MB |")
    peak = max(peaks.values(), default=0)
    print(f"| **whole process** | **{total_wall:.2f}** | **{total:.2f}** | {peak} MB |")
    if workers.ru_maxrss:
        cpu = workers.ru_utime + workers.ru_stime
        print(f"| child processes | | {cpu:.2f} | {workers.ru_maxrss // 1024} MB |")
    raise SystemExit(status)


if __name__ == "__main__":
    main()
