"""The README's test command (scripts/test) runs the tests of one ``xdist_group`` on one
worker, so that a costly module fixture (the validate action's install, the pre-commit
hook's environment) is made once, not once per worker."""

import subprocess
import sys

from testsupport.helpers import ROOT

GROUPED = """
import os
import pathlib

import pytest

pytestmark = pytest.mark.xdist_group("install")


@pytest.mark.parametrize("number", range(6))
def test_records_its_worker(number):
    folder = pathlib.Path(__file__).parent / "workers"
    folder.mkdir(exist_ok=True)
    (folder / str(number)).write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_scripts_test_groups_the_tests_of_an_xdist_group():
    assert 'pytest -n auto --dist loadgroup "$@"' in (ROOT / "scripts" / "test").read_text()


def test_the_tests_of_one_xdist_group_run_on_one_worker(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n2", "--dist=loadgroup", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workers = {path.read_text() for path in (tmp_path / "workers").iterdir()}
    assert len(list((tmp_path / "workers").iterdir())) == 6
    assert len(workers) == 1, f"one group ran on the workers {sorted(workers)}"
