"""Render benchmark: a synthetic platform of N plain-folder model repositories.

    .venv/bin/python benchmarks/render.py 1000 10000          # 5 interleaved pairs each
    .venv/bin/python benchmarks/render.py 1000 --pairs 7
    .venv/bin/python benchmarks/render.py --smoke             # 20 models, 1 pair: does it run

Every model runs in both environments of the example platform: production, promoted into from
staging, gets a promotions file that pins every model at its state. For each N, with the real
CLI in a subprocess:
  - a full render into an empty rendered/, and the same bytes written by a bare Python loop
    (the floor any renderer pays on this disk), in interleaved pairs (render first in odd
    pairs, the loop first in even ones); the ratio is the median of the pairs' ratios;
  - a re-run with nothing changed (files written: must be 0);
  - one model changed among N, read by a full scan, and another read alone
    (`--repository`, the dispatch case): files written, which must be that model's and
    shared files only.
Each figure is printed beside its target (issue 16) and its ratio to it (< 1 meets it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform as machine
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from generator import evaluate, index, pins
from generator.config import loader
from generator.pins import Pin, Promotions
from generator.sources.local import LocalSource

ROOT = Path(__file__).resolve().parent.parent
TEAMS = ("rnd", "search", "pricing", "fraud")
INPUT_TYPES = ("integers", "floats", "doubles", "bytes", "strings")
AT, BY = "2026-12-01T00:00:00Z", "benchmark"
# Targets of issue 16, in seconds unless said otherwise.
FULL_TARGETS = {1000: 1.5, 10000: 10.0}
PEAK_TARGET_MB = 300
LOOP_RATIO_TARGET = 2.0
RERUN_SHARE_TARGET = 0.20  # of a full render's time, at 10,000 models
ONE_CHANGED_TARGET = 1.0


def make_platform(folder: Path, models: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
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
    accepted = evaluate.evaluate(platform, scan, index.Index()).models
    for env in platform.environments:
        if env.promoted:
            pinned = {
                m.id: Pin(m.provenance.repo, *index.spec_key(m), "promote", AT, BY)
                for m in accepted
            }
            path = platform.promotions.path / pins.file_name(env.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pins.dumps(Promotions(env.name, pinned)))


SAMPLE_S = 0.02  # how often the memory of a render's processes is read from /proc
RENDER_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Timed:
    """One `modelship render` subprocess: wall seconds, CPU seconds (user + system: on a
    machine others share, the steadier figure), peak RSS in MB of its largest process (the
    kernel's high-water mark of each process, VmHWM) and of all its processes together (the
    render's worker included). Both are read from /proc every ``SAMPLE_S``, so a peak in a
    process's last moments can be missed. Not ``wait4``'s ru_maxrss: a child started by
    vfork (as subprocess starts it) keeps this process's high-water mark across its exec,
    so a render smaller than this benchmark, which holds a whole tree's bytes for the bare
    loop, read as large as it."""

    wall: float
    cpu: float
    peak_mb: float
    peak_all_mb: float


def timed_render(folder: Path, *options: str) -> Timed:
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "generator", "render", *options],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak_kb = peak_all_kb = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > RENDER_TIMEOUT_S:
            child.kill()
        total_kb, largest_kb = memory_of_tree_kb(child.pid)
        peak_all_kb = max(peak_all_kb, total_kb)
        peak_kb = max(peak_kb, largest_kb)
        time.sleep(SAMPLE_S)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"modelship render {' '.join(options)} failed in {folder}")
    peak_mb = peak_kb / 1024
    return Timed(wall, usage.ru_utime + usage.ru_stime, peak_mb, max(peak_mb, peak_all_kb / 1024))


def memory_of_tree_kb(pid: int) -> tuple[int, int]:
    """The resident memory of a process and all its descendants now, and the largest
    high-water mark among them, in KiB (VmRSS and VmHWM, from /proc)."""
    total = largest = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in os.listdir(f"/proc/{current}/task"):
                pending.extend(
                    map(int, Path(f"/proc/{current}/task/{task}/children").read_text().split())
                )
        except OSError:
            continue  # it ended meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        total += int(fields.get("VmRSS", "0 kB").split()[0])
        largest = max(largest, int(fields.get("VmHWM", "0 kB").split()[0]))
    return total, largest


def tree_files(tree: Path) -> dict[Path, bytes]:
    return {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}


def bare_loop(files: dict[Path, bytes], target: Path) -> float:
    """Seconds to write ``files`` into an empty ``target`` with a plain loop."""
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    for relative, content in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return time.perf_counter() - start


def mtimes(tree: Path) -> dict[str, int]:
    return {
        p.relative_to(tree).as_posix(): p.stat().st_mtime_ns for p in tree.rglob("*") if p.is_file()
    }


def written_since(tree: Path, before: dict[str, int]) -> set[str]:
    return {path for path, stamp in mtimes(tree).items() if before.get(path) != stamp}


def change_one(folder: Path, number: int) -> tuple[str, str]:
    """Edit the MLproject of model ``number``; its id and repository."""
    path = folder / "examples" / "repos" / f"m{number:05d}-model" / "MLproject"
    path.write_text(path.read_text().replace("Synthetic model", "Changed synthetic model"))
    return f"m{number:05d}", f"acme/m{number:05d}-model"


def only_its_files(tree: Path, model_id: str, written: set[str]) -> bool:
    """Whether ``written`` holds nothing but the model's own files and shared files."""
    document = json.loads((tree / index.INDEX_PATH).read_bytes())
    allowed = {*document["models"][model_id]["files"], *document["shared_files"], "index.json"}
    return written <= allowed


def run(models: int, pairs: int) -> dict[str, float | int | bool]:
    with tempfile.TemporaryDirectory(prefix="modelship-bench-") as temporary:
        folder = Path(temporary)
        make_platform(folder, models)
        rendered = folder / "rendered"
        renders, cpus, loops, ratios, peaks, peaks_all = [], [], [], [], [], []
        files: dict[Path, bytes] = {}
        for pair in range(pairs):
            order = ("render", "loop") if pair % 2 == 0 else ("loop", "render")
            for step in order:
                if step == "render":
                    shutil.rmtree(rendered, ignore_errors=True)
                    timed = timed_render(folder)
                    renders.append(timed.wall)
                    cpus.append(timed.cpu)
                    peaks.append(timed.peak_mb)
                    peaks_all.append(timed.peak_all_mb)
                    files = files or tree_files(rendered)
                else:
                    if not files:  # the first pair's loop needs the files a render writes
                        timed_render(folder)
                        files = tree_files(rendered)
                    loops.append(bare_loop(files, folder / "bare"))
            ratios.append(renders[-1] / loops[-1])
        shutil.rmtree(folder / "bare", ignore_errors=True)
        before = mtimes(rendered)
        rerun = timed_render(folder)
        rerun_written = len(written_since(rendered, before))
        scanned_id, _ = change_one(folder, models // 2)
        before = mtimes(rendered)
        one = timed_render(folder)
        one_written = written_since(rendered, before)
        dispatched_id, repository = change_one(folder, models // 3)
        before = mtimes(rendered)
        dispatch = timed_render(folder, "--repository", repository)
        dispatch_written = written_since(rendered, before)
        one_only_its = only_its_files(rendered, scanned_id, one_written)
        dispatch_only_its = only_its_files(rendered, dispatched_id, dispatch_written)
    full = statistics.median(renders)
    return {
        "models": models,
        "files": len(files),
        "pairs": pairs,
        "render_s": full,
        "render_min_s": min(renders),
        "render_max_s": max(renders),
        "render_cpu_s": statistics.median(cpus),
        "peak_mb": max(peaks),
        "peak_all_mb": max(peaks_all),
        "loop_s": statistics.median(loops),
        "ratio": statistics.median(ratios),
        "rerun_s": rerun.wall,
        "rerun_cpu_s": rerun.cpu,
        "rerun_peak_mb": rerun.peak_mb,
        "rerun_written": rerun_written,
        "one_s": one.wall,
        "one_cpu_s": one.cpu,
        "one_peak_mb": one.peak_mb,
        "one_written": len(one_written),
        "one_only_its": one_only_its,
        "dispatch_s": dispatch.wall,
        "dispatch_cpu_s": dispatch.cpu,
        "dispatch_written": len(dispatch_written),
        "dispatch_only_its": dispatch_only_its,
    }


def figure(name: str, value: str, target: str, ratio: float | None) -> str:
    shown = f"{ratio:.2f}" if ratio is not None else "—"
    return f"| {name} | {value} | {target} | {shown} |"


def report(r: dict[str, float | int | bool]) -> list[str]:
    n = int(r["models"])
    target = FULL_TARGETS.get(n)
    full = float(r["render_s"])
    return [
        f"\n{n:,} models, {int(r['files']):,} files, {int(r['pairs'])} interleaved pairs",
        "| figure | value | target | value / target |",
        "|---|---:|---:|---:|",
        figure(
            "full render (median; min to max)",
            f"{full:.2f} s ({float(r['render_min_s']):.2f} to {float(r['render_max_s']):.2f}), "
            f"{float(r['render_cpu_s']):.2f} s CPU",
            f"< {target} s" if target else "—",
            full / target if target else None,
        ),
        figure("bare write loop (median)", f"{float(r['loop_s']):.2f} s", "—", None),
        figure(
            "render / bare loop (median of pairs)",
            f"{float(r['ratio']):.2f}x",
            f"<= {LOOP_RATIO_TARGET}x",
            float(r["ratio"]) / LOOP_RATIO_TARGET,
        ),
        figure(
            "peak RSS of a full render, largest process",
            f"{float(r['peak_mb']):.0f} MB",
            f"< {PEAK_TARGET_MB} MB",
            float(r["peak_mb"]) / PEAK_TARGET_MB,
        ),
        figure(
            "peak RSS of a full render, its processes together",
            f"{float(r['peak_all_mb']):.0f} MB",
            f"< {PEAK_TARGET_MB} MB",
            float(r["peak_all_mb"]) / PEAK_TARGET_MB,
        ),
        figure(
            "re-run, nothing changed",
            f"{float(r['rerun_s']):.2f} s ({float(r['rerun_s']) / full:.0%} of full), "
            f"{float(r['rerun_cpu_s']):.2f} s CPU, peak {float(r['rerun_peak_mb']):.0f} MB",
            f"< {RERUN_SHARE_TARGET:.0%} of full",
            float(r["rerun_s"]) / full / RERUN_SHARE_TARGET,
        ),
        figure("files written by that re-run", str(r["rerun_written"]), "0", None),
        figure(
            "one model changed, full scan",
            f"{float(r['one_s']):.2f} s ({float(r['one_cpu_s']):.2f} s CPU), "
            f"{r['one_written']} files, peak {float(r['one_peak_mb']):.0f} MB"
            + ("" if r["one_only_its"] else " (NOT only its own)"),
            f"< {ONE_CHANGED_TARGET} s",
            float(r["one_s"]) / ONE_CHANGED_TARGET,
        ),
        figure(
            "one model changed, --repository",
            f"{float(r['dispatch_s']):.2f} s ({float(r['dispatch_cpu_s']):.2f} s CPU), "
            f"{r['dispatch_written']} files"
            + ("" if r["dispatch_only_its"] else " (NOT only its own)"),
            f"< {ONE_CHANGED_TARGET} s",
            float(r["dispatch_s"]) / ONE_CHANGED_TARGET,
        ),
    ]


def this_machine() -> str:
    """The line a benchmark's report starts with: what it ran on, and how loaded."""
    return (
        f"{machine.processor() or machine.machine()}, {os.cpu_count()} cpus, "
        f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, "
        f"TMPDIR {tempfile.gettempdir()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--pairs", type=int, default=5, help="render/loop pairs (default 5)")
    parser.add_argument("--smoke", action="store_true", help="20 models, 1 pair")
    args = parser.parse_args()
    sizes, pairs = ([20], 1) if args.smoke else (args.models, args.pairs)
    print(this_machine())
    for models in sizes:
        result = run(models, pairs)
        print("\n".join(report(result)))
        if result["rerun_written"] != 0 or not (
            result["one_only_its"] and result["dispatch_only_its"]
        ):
            raise SystemExit("a re-run wrote files it should not have")


if __name__ == "__main__":
    main()
