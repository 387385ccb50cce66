"""The README's first command works in a clean copy of the repository, in a fresh virtual environment."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from testsupport.gitfixtures import bare_remote, git
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


NEWCOMER_START = "<!-- newcomer-path:"
NEWCOMER_END = "<!-- newcomer-path: end -->"


def newcomer_block():
    """The shell block of README's "From nothing to a first publish", as it is."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split(NEWCOMER_START, 1)[1].split(NEWCOMER_END, 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readme_path_from_init_to_a_first_publish_on_a_clean_checkout(tmp_path):
    """A platform engineer's first hour, as README says it: install a pinned Modelship into a
    new platform repository, `modelship init`, validate, commit, and `publish --push` to an
    empty remote; then `list`. Modelship comes from a clean clone of this repository at its
    HEAD commit (what a pin names), installed by pip as a package, not from this checkout."""
    checkout = tmp_path / "modelship"
    git(tmp_path, "clone", "--quiet", "--no-local", str(ROOT), str(checkout))
    commit = git(checkout, "rev-parse", "HEAD")
    remote = bare_remote(tmp_path / "ml-platform.git")
    block = newcomer_block()
    first, second, rest = block.split("\n", 2)
    assert first.startswith('MODELSHIP="git+https://github.com/acme/modelship@')
    assert second.startswith('REMOTE="')
    pin = f"git+file://{checkout}@{commit}"
    script = f'MODELSHIP="{pin}"\nREMOTE="{remote}"\n{rest}'
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Platform Engineer\n\temail = pe@acme.example\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in outside_the_venv().items() if not k.startswith("GIT_")}
    env["HOME"] = str(home)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    platform = work / "ml-platform"
    assert (platform / "requirements.txt").read_text().splitlines()[-1] == f"modelship @ {pin}"
    assert "0 errors, 0 warnings in 1 file" in result.stdout
    assert "pushed to origin/main" in result.stderr
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert subjects == [
        "modelship: render acme-ml (1 added, 0 changed, 0 removed, 0 kept-on-error, 0 unchanged)",
        "A Modelship platform",
    ]
    published = git(remote, "show", "main:rendered/index.json")
    assert '"example"' in published
    assert "example" in result.stdout.splitlines()[-1]  # modelship list
    assert git(platform, "status", "--porcelain") == ""  # .gitignore covers .venv/ and the rest
