"""Every write path keeps the rules of render: publish, which decides against the committed
tree, still refuses to delete a file of the working tree its index.json does not account for,
or to overwrite a working-tree index.json it cannot read; and a tree that cannot be written is
named as the tree, not as the stage folder beside it."""

import os
import subprocess
import sys

import pytest

from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, platform_repo
from testsupport.helpers import read_tree, unprivileged
from testsupport.inprocess import modelship


@pytest.fixture
def published(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "remote.git"))
    assert modelship("publish", cwd=folder).returncode == ExitCode.OK
    return folder


def test_publish_keeps_a_hand_made_file_it_cannot_account_for(published):
    hand_made = published / "rendered" / "staging" / "kubernetes" / "models-rnd" / "notes.yaml"
    hand_made.write_text("kind: ConfigMap # made by hand, not committed\n")
    for command in (("render",), ("publish",)):
        result = modelship(*command, cwd=published)
        assert result.returncode == ExitCode.USAGE, (command, result.stderr)
        assert "staging/kubernetes/models-rnd/notes.yaml" in result.stderr
        assert hand_made.exists(), command


def test_publish_does_not_overwrite_a_damaged_working_tree_index(published):
    index = published / "rendered" / "index.json"
    index.write_text('{"format": 1, "models": [')
    before = read_tree(published / "rendered")
    for command in (("render",), ("publish",)):
        result = modelship(*command, cwd=published)
        assert result.returncode == ExitCode.USAGE, (command, result.stderr)
        assert "rendered/index.json: not a Modelship index" in result.stderr
        assert "at HEAD" not in result.stderr, "the working tree's copy is the damaged one"
    assert read_tree(published / "rendered") == before


def test_a_tree_that_cannot_be_written_is_named_as_the_tree(published):
    path = published / "examples" / "repos" / "size-advice-model" / "MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    os.chmod(published, 0o555)
    try:
        result = subprocess.run(
            unprivileged(sys.executable, "-m", "generator", "render"),
            cwd=published,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.chmod(published, 0o755)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "cannot write the rendered tree rendered: Permission denied" in result.stderr
    assert "modelship-stage" not in result.stderr
    assert f"{published} must be writable" in result.stderr
