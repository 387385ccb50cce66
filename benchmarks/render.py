"""Render benchmark: a synthetic platform of N plain-folder model repositories.

    .venv/bin/python benchmarks/render.py 1000 10000

Every model runs in both environments of the example platform: production, promoted into from
staging, gets a promotions file that pins every model at its state. For each N it measures,
with the real CLI in a subprocess:
  - `modelship render` into an empty rendered/ (wall time, peak memory of the process);
  - the same bytes written by a bare Python loop (the floor any renderer must pay);
  - a second `modelship render` with nothing changed (wall time, files written: must be 0).
Targets (DESIGN.md): 1,000 models < 2 s, 10,000 < 15 s, peak < 500 MB, <= 3x the bare loop.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator import evaluate, index, pins
from generator.config import loader
from generator.pins import Pin, Promotions
from generator.sources.local import LocalSource

ROOT = Path(__file__).resolve().parent.parent
TEAMS = ("rnd", "search", "pricing", "fraud")
INPUT_TYPES = ("integers", "floats", "doubles", "bytes", "strings")
AT, BY = "2026-12-01T00:00:00Z", "benchmark"


def make_platform(folder: Path, models: int) -> None:
    shutil.copy(ROOT / "platform.yaml", folder / "platform.yaml")
    repos = folder / "examples" / "repos"
    for number in range(models):
        repo = repos / f"m{number:05d}-model"
        repo.mkdir(parents=True)
        (repo / "MLproject").write_text(
            f"name: m{number:05d}-model\n"
            f"id: m{number:05d}\n"
            f"team: {TEAMS[number % len(TEAMS)]}\n"
            f"description: Synthetic model number {number}\n"
            f"version: {hashlib.sha1(str(number).encode()).hexdigest()}\n"
            f"input_type: {INPUT_TYPES[number % len(INPUT_TYPES)]}\n"
            'default_output: "0.0"\n'
            f"slo: {1000 + number}\n"
            f"instances: {1 + number % 3}\n"
            "exposed: true\n"
            "packages:\n  - pandas>=2\n  - scikit-learn\n"
        )
    platform = loader.load(folder / "platform.yaml")
    scan = LocalSource.from_platform(platform).scan()
    models = evaluate.evaluate(platform, scan, index.Index()).models
    for env in platform.environments:
        if env.promoted:
            pinned = {
                m.id: Pin(m.provenance.repo, *index.spec_key(m), "promote", AT, BY) for m in models
            }
            path = platform.promotions.path / pins.file_name(env.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pins.dumps(Promotions(env.name, pinned)))


def timed_render(folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `modelship render` subprocess."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "generator", "render"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"modelship render failed in {folder}")
    return wall, usage.ru_maxrss / 1024


def bare_loop(tree: Path, target: Path) -> float:
    """Seconds to write the same files with a plain loop (contents read beforehand)."""
    files = {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    start = time.perf_counter()
    for relative, content in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return time.perf_counter() - start


def mtimes(tree: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in tree.rglob("*") if p.is_file()}


def run(models: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="modelship-bench-") as temporary:
        folder = Path(temporary)
        make_platform(folder, models)
        wall, peak = timed_render(folder)
        rendered = folder / "rendered"
        files = sum(1 for p in rendered.rglob("*") if p.is_file())
        loop = bare_loop(rendered, folder / "bare")
        before = mtimes(rendered)
        rerun, rerun_peak = timed_render(folder)
        rewritten = sum(1 for p, m in mtimes(rendered).items() if before.get(p) != m)
    return {
        "models": models,
        "files": files,
        "render_s": wall,
        "peak_mb": peak,
        "bare_loop_s": loop,
        "ratio": wall / loop,
        "rerun_s": rerun,
        "rerun_peak_mb": rerun_peak,
        "rerun_files_written": rewritten,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="*", type=int, default=[1000, 10000])
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(
        "| models | files | render (s) | peak RSS (MB) | bare loop (s) | render / loop "
        "| re-run (s) | re-run peak (MB) | files written by re-run |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for models in args.models:
        r = run(models)
        print(
            f"| {r['models']:,} | {r['files']:,} | {r['render_s']:.2f} | {r['peak_mb']:.0f} "
            f"| {r['bare_loop_s']:.2f} | {r['ratio']:.1f}x | {r['rerun_s']:.2f} "
            f"| {r['rerun_peak_mb']:.0f} | {r['rerun_files_written']} |"
        )


if __name__ == "__main__":
    main()
