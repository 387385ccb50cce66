"""examples/: every valid repository validates; every invalid file gives exactly its documented messages."""

import pytest
import yaml

from generator.errors import ExitCode
from testsupport.helpers import ROOT, modelship

INVALID = sorted((ROOT / "examples" / "invalid").glob("*.MLproject"))
REPOS = sorted(p for p in (ROOT / "examples" / "repos").iterdir() if p.is_dir())


def expected_lines(path):
    relative = path.relative_to(ROOT).as_posix()
    return [
        f"{relative}:{line.removeprefix('# expect: ')}"
        for line in path.read_text().splitlines()
        if line.startswith("# expect: ")
    ]


def test_there_are_enough_examples():
    assert len(REPOS) >= 5
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_example_gives_exit_1_and_exactly_its_documented_messages(path):
    expected = expected_lines(path)
    assert expected, f"{path.name} documents no '# expect:' line"
    result = modelship("validate", path.relative_to(ROOT).as_posix(), cwd=ROOT)
    assert result.returncode == ExitCode.FINDINGS
    assert result.stdout.splitlines()[:-1] == expected
    assert result.stderr == ""


@pytest.mark.parametrize("path", REPOS, ids=lambda p: p.name)
def test_example_repository_is_valid_without_warnings(path):
    result = modelship("validate", "--strict", path.relative_to(ROOT).as_posix(), cwd=ROOT)
    assert result.returncode == ExitCode.OK, result.stdout
    assert result.stdout == "0 errors, 0 warnings in 1 file\n"


def test_examples_cover_the_contract():
    specs = [yaml.safe_load((p / "MLproject").read_text()) for p in REPOS]
    assert {s["input_type"] for s in specs} == {"integers", "floats", "doubles", "bytes", "strings"}
    assert {s.get("exposed", False) for s in specs} == {True, False}
    assert len({s["team"] for s in specs}) >= 3
    assert any("entry_points" in s for s in specs)
    assert {"python_env", "conda_env", "docker_env"} <= {k for s in specs for k in s}
    reference = yaml.safe_load(
        (ROOT / "examples/repos/blaze-visual-similarity-model/MLproject").read_text()
    )
    assert reference == {
        "name": "blaze-visual-similarity-model",
        "id": "visual-similarity",
        "team": "rnd",
        "description": "Returns a list of (visually) similar products",
        "main-language": "python",
        "exposed": False,
        "version": "4f1255f50f5f32e93b4fb69704d23f466e468ebd",
        "pickle": True,
        "input_type": "doubles",
        "slo": 100000,
        "default_output": "0.00",
        "packages": ["scikit-learn", "pandas"],
    }
