"""Suite-wide setup and fixtures shared by the whole suite."""

import os
import shutil
import subprocess

import pytest

from testsupport.helpers import ROOT

pytest_plugins = ["testsupport.fakes.github_server", "testsupport.fakes.consul_server"]

# When the suite itself runs in GitHub Actions, the runner's variables would switch the
# CLI under test into Actions mode and make it write into this job's real step summary
# and outputs. Tests that want Actions mode set these variables themselves.
GITHUB_ACTIONS_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITHUB_WORKSPACE",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_STATE",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
)


# The longest test modules, run first: with the suite spread over the cores (scripts/test runs
# pytest -n auto), the other workers run everything else meanwhile instead of waiting for one
# long module at the end.
LONGEST_FIRST = ("tests/test_image_chain.py",)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)


def pytest_configure(config):
    for name in GITHUB_ACTIONS_VARIABLES:
        os.environ.pop(name, None)


@pytest.fixture(scope="session")
def project_repo(tmp_path_factory):
    """This checkout's files as they are now (tracked, and new files not ignored) committed
    in a git repository of their own: what a user installs from, e.g. with pip or pre-commit."""
    root = tmp_path_factory.mktemp("modelship-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    git = ["git", "-c", "user.name=Modelship tests", "-c", "user.email=tests@modelship.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=root, check=True)
    return root
