"""The README's first command works in a clean copy of the repository, in a fresh virtual environment."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from testsupport.helpers import ROOT, read_tree


def tracked_files():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def outside_the_venv():
    """The environment of a shell where no virtual environment is active."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    return env


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "scripts/run " in readme
    assert "scripts/test " in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test\n" in ci
    assert "modelship render --check" in ci


def test_run_command_in_a_clean_copy(tmp_path):
    clone = tmp_path / "modelship"
    for name in tracked_files():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    rendered_before = read_tree(clone / "rendered")
    result = subprocess.run(
        ["bash", "scripts/run"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=900,
        env=outside_the_venv(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (clone / ".venv" / "bin" / "modelship").exists()
    assert "visual-similarity" in result.stdout
    assert "Traceback" not in result.stderr
    assert read_tree(clone / "rendered") == rendered_before, "the committed rendered/ is stale"
