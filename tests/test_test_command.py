"""The README's test command (scripts/test) runs the tests of one ``xdist_group`` on one
worker, so that a costly module fixture (the validate action's install, the pre-commit
hook's environment) is made once, not once per worker."""

import os
import subprocess
import sys

from testsupport.helpers import ROOT

# Two groups, so that both workers have tests to run, each recording the worker it ran on.
GROUPED = """
import os
import pathlib

import pytest


@pytest.mark.parametrize(
    "group, number",
    [
        pytest.param(group, number, marks=pytest.mark.xdist_group(group))
        for group in ("install", "environment")
        for number in range(4)
    ],
)
def test_records_its_worker(group, number):
    folder = pathlib.Path(__file__).parent / "workers" / group
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(number)).write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_scripts_test_groups_the_tests_of_an_xdist_group():
    assert 'pytest -n auto --dist loadgroup "$@"' in (ROOT / "scripts" / "test").read_text()


def test_the_tests_of_one_xdist_group_run_on_one_worker(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    # Only xdist is loaded: the other plugins installed for the suite have no part here.
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [sys.executable, "-m", "pytest", "-n2", "--dist=loadgroup", "-p", "xdist.plugin"]
    result = subprocess.run(
        [*command, "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for group in ("install", "environment"):
        recorded = list((tmp_path / "workers" / group).iterdir())
        assert len(recorded) == 4, group
        workers = {path.read_text() for path in recorded}
        assert len(workers) == 1, f"the group {group} ran on the workers {sorted(workers)}"
