"""The pre-commit hook (.pre-commit-hooks.yaml), run through real pre-commit on model repositories.

pre-commit installs the hook's environment with pip from a git clone of this project at a
commit, as it would from GitHub. PRE_COMMIT_HOME is a temporary folder shared by the
tests of this module, so the environment is built once and nothing outside the test's
folders is read or written.
"""

import os
import subprocess

import pytest

from generator.errors import ExitCode
from testsupport.helpers import ROOT, mlproject, tool

# The hook's environment (a pip install, about 30 s) is built once: every test of this
# module goes to one pytest-xdist worker (scripts/test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("pre-commit")

SLO_MESSAGE = (
    'slo: must be an integer number of microseconds between 1000 and 10000000 (got "fast")'
)


@pytest.fixture(scope="module")
def precommit_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    git_config = home / "gitconfig"
    git_config.write_text("")
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PRE_COMMIT_COLOR": "never",
        "GIT_CONFIG_GLOBAL": str(git_config),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def model_repo(folder, project_repo, files):
    """A model repository whose .pre-commit-config.yaml uses the hook at project_repo's HEAD."""
    folder.mkdir()
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    files = {
        ".pre-commit-config.yaml": (
            f"repos:\n  - repo: {project_repo}\n    rev: {commit}\n"
            "    hooks:\n      - id: modelship-validate\n"
        ),
        **files,
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    return folder


def run_hooks(folder, env):
    return subprocess.run(
        [tool("pre-commit"), "run", "--all-files", "--verbose"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_valid_mlproject_passes(tmp_path, project_repo, precommit_env):
    folder = model_repo(
        tmp_path / "churn-model",
        project_repo,
        {"MLproject": mlproject(), "README.md": "slo: not an MLproject, not passed to the hook\n"},
    )
    result = run_hooks(folder, precommit_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "modelship validate" in result.stdout
    assert "Passed" in result.stdout
    # the hook received exactly one file: the MLproject, not README.md
    assert "0 errors, 0 warnings in 1 file" in result.stdout


def test_an_invalid_mlproject_fails_with_its_position(tmp_path, project_repo, precommit_env):
    # MLflow finds the file case-insensitively; so does the hook
    folder = model_repo(
        tmp_path / "churn-model", project_repo, {"mlproject": mlproject(slo="fast")}
    )
    result = run_hooks(folder, precommit_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "- exit code: 1" in result.stdout
    assert f"mlproject:8:6: {SLO_MESSAGE}" in result.stdout.splitlines()
    assert "1 error, 0 warnings in 1 file" in result.stdout


@pytest.mark.parametrize(
    ("command", "path"),
    [
        ("validate-manifest", ".pre-commit-hooks.yaml"),
        ("validate-config", "examples/model-repo/.pre-commit-config.yaml"),
    ],
)
def test_the_hook_manifest_and_the_example_config_are_valid(precommit_env, command, path):
    result = subprocess.run(
        [tool("pre-commit"), command, path],
        cwd=ROOT,
        env=precommit_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
