"""Where one `modelship render` spends its CPU time, stage by stage, in this process.

    cd PLATFORM && python /path/to/benchmarks/phases.py            # a render
    cd PLATFORM && python /path/to/benchmarks/phases.py --full     # any render options

Each stage of ``run.render_run`` (and the write) is timed by wrapping the function that does
it, in CPU seconds (``time.process_time``: on a machine others share, steadier than wall
time), with the peak RSS after it. A platform to run it on is made by ``render.py``'s
``make_platform``:

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

START = time.process_time()

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
    spent: dict[str, float], peaks: dict[str, int], name: str, original: Callable[..., Any]
) -> Callable[..., Any]:
    """``original``, adding its CPU seconds to ``spent[name]``."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - start
            peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    return wrapper


def main() -> None:
    imported = time.process_time() - START
    spent: dict[str, float] = {}
    peaks: dict[str, int] = {}
    for module, function, name in STAGES:
        setattr(module, function, timed(spent, peaks, name, getattr(module, function)))
    status = cli.main(["render", *sys.argv[1:]])
    total = time.process_time() - START
    print(f"| stage | CPU s | peak RSS after |\n|---|---:|---:|\n| imports | {imported:.2f} | |")
    for _, _, name in STAGES:
        if name in spent:
            print(f"| {name} | {spent[name]:.2f} | {peaks[name]} MB |")
    print(f"| **whole process** | **{total:.2f}** | {max(peaks.values(), default=0)} MB |")
    raise SystemExit(status)


if __name__ == "__main__":
    main()
