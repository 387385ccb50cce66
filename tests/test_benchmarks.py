"""The benchmarks run (a small smoke run of each, so they cannot rot); no time is asserted
here — BENCHMARKS.md holds the figures, measured by the full runs."""

import subprocess
import sys

from testsupport.helpers import ROOT, platform_dir


def bench(*args: str, timeout: int = 300) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_render_benchmark_runs_and_prints_each_figure_with_its_target():
    out = bench("benchmarks/render.py", "--smoke")
    for figure in (
        "full render",
        "render / bare loop (median of pairs)",
        "re-run, nothing changed",
        "one model changed, full scan",
        "one model changed, --repository",
    ):
        assert f"| {figure}" in out
    assert "| files written by that re-run | 0 | 0 |" in out


def test_the_floor_benchmark_runs_and_prints_each_step_and_floor_with_its_target():
    out = bench("benchmarks/floor.py", "--smoke")
    assert "20 models, " in out
    for figure in (
        "reading every MLproject",
        "listing the tree",
        "the write: files linked (two processes)",
        "the write: old files unlinked (two processes)",
        "**floor of one change, `--repository`** (the write)",
        "**floor of one change, full scan** (every step)",
        "the tree's bytes, which a plan held whole holds",
    ):
        assert f"| {figure} |" in out
    assert "| < 1.0 s |" in out
    assert "| < 300 MB |" in out


def test_the_github_scan_benchmark_runs_within_its_request_bound():
    out = bench("-m", "benchmarks.github_scan", "300", "--repeat", "1")
    assert "| 300 | 30 | 3 | 5 |" in out


def test_the_serving_benchmark_runs_and_prints_each_figure_with_its_target():
    out = bench("benchmarks/serving.py", "--requests", "50", "--starts", "1")
    for figure in ("start to healthy", "idle RSS", "p50 / p99 through the gateway"):
        assert f"| {figure}" in out


def test_the_phases_benchmark_times_each_stage_of_a_render(tmp_path):
    folder = platform_dir(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "phases.py")],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for stage in ("imports", "scan of the source", "planning", "comparing and writing the tree"):
        assert f"| {stage}" in result.stdout
    assert (folder / "rendered" / "index.json").is_file()
