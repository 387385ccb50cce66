"""Every reference to a Modelship version in the examples, the README and what `modelship
init` writes names a commit (or tag) that exists in this repository's history, and at that
commit the file it points at is there with what the reference uses: the example's inputs
are declared by the reusable workflow of that commit, the hook id by its hook file.
(A placeholder in angle brackets, `<commit sha or release tag>`, is not a pin.)"""

import re
import subprocess

import pytest
import yaml

from testsupport.helpers import ROOT

# (where, what a pin looks like there)
PIN = r"(?P<ref>[0-9a-f]{40}|v\d+\.\d+\.\d+)"
PATTERNS = [
    re.compile(rf"acme/modelship/(?P<path>\.github/workflows/[\w.-]+)@{PIN}"),
    re.compile(rf"uses: acme/modelship@{PIN}"),
    re.compile(rf"raw\.githubusercontent\.com/acme/modelship/{PIN}/(?P<path>[\w./-]+)"),
    re.compile(rf"git\+https://github\.com/acme/modelship@{PIN}"),
    re.compile(rf"repo: https://github\.com/acme/modelship\n\s+rev: {PIN}"),
]
SCANNED = [
    "README.md",
    "examples/model-repo/.github/workflows/modelship.yml",
    "examples/model-repo/.pre-commit-config.yaml",
    *(
        p.relative_to(ROOT).as_posix()
        for p in sorted((ROOT / "scaffold").rglob("*"))
        if p.is_file()
    ),
]


def git(*args):
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )


def pins():
    found = []
    for name in SCANNED:
        text = (ROOT / name).read_text()
        for pattern in PATTERNS:
            for match in pattern.finditer(text):
                found.append((name, match["ref"], match.groupdict().get("path")))
    return found


PINS = pins()


def test_the_examples_pin_modelship():
    where = {name for name, _, _ in PINS}
    assert {
        "examples/model-repo/.github/workflows/modelship.yml",
        "examples/model-repo/.pre-commit-config.yaml",
        "README.md",
    } <= where


@pytest.mark.parametrize(("name", "ref", "path"), PINS)
def test_each_pin_is_a_commit_of_this_history_holding_the_file(name, ref, path):
    if git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.fail("a shallow clone cannot show the pinned commits: fetch the full history")
    commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    assert commit.returncode == 0, f"{name}: {ref} is no commit or tag of this repository"
    ancestor = git("merge-base", "--is-ancestor", commit.stdout.strip(), "HEAD")
    assert ancestor.returncode == 0, f"{name}: {ref} is not in the history of HEAD"
    if path is not None:
        shown = git("cat-file", "-e", f"{ref}:{path}")
        assert shown.returncode == 0, f"{name}: {path} does not exist at {ref}"


def at(ref, path):
    shown = git("show", f"{ref}:{path}")
    assert shown.returncode == 0, shown.stderr
    return yaml.safe_load(shown.stdout)


def test_the_example_workflow_uses_only_what_its_pinned_reusable_workflow_declares():
    example = yaml.safe_load(
        (ROOT / "examples/model-repo/.github/workflows/modelship.yml").read_text()
    )
    job = example["jobs"]["validate"]
    path, ref = job["uses"].removeprefix("acme/modelship/").split("@")
    declared = at(ref, path)[True]["workflow_call"]
    assert set(job.get("with", {})) <= set(declared["inputs"])
    assert set(job.get("secrets", {})) <= set(declared["secrets"])


def test_the_example_hook_is_in_the_pinned_hook_file():
    config = yaml.safe_load((ROOT / "examples/model-repo/.pre-commit-config.yaml").read_text())
    [repo] = config["repos"]
    hooks = at(repo["rev"], ".pre-commit-hooks.yaml")
    assert {hook["id"] for hook in repo["hooks"]} <= {hook["id"] for hook in hooks}
