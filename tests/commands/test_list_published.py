"""modelship list reads what is published — the rendered repository's remote branch — not
what a local render left in the working tree, says which commit it read, and shows why a
model kept on error is kept, in every environment."""

from __future__ import annotations

import json

from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, clean_env, edit, git, platform_repo, publish
from testsupport.helpers import modelship


def listed(folder, *args):
    return modelship("list", *args, cwd=folder, env=clean_env())


def test_list_names_the_published_commit_and_ignores_a_local_render(tmp_path):
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    assert publish(folder, "--push").returncode == ExitCode.OK
    pushed = git(remote, "rev-parse", "main")[:7]
    before = listed(folder, "--env", "staging")
    assert before.returncode == ExitCode.OK, before.stderr
    assert before.stdout.splitlines()[0] == f"origin/main@{pushed}:"
    [row] = [line for line in before.stdout.splitlines() if line.startswith("size-advice ")]
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK  # not published
    after = listed(folder, "--env", "staging")
    assert after.stdout.splitlines()[0] == f"origin/main@{pushed}:"
    assert [line for line in after.stdout.splitlines() if line.startswith("size-advice ")] == [row]
    document = json.loads(listed(folder, "--format", "json").stdout)
    assert document["source"] == f"origin/main@{pushed}"


def test_a_model_kept_on_error_says_why_in_each_environment(tmp_path):
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    assert publish(folder, "--push").returncode == ExitCode.OK
    edit(folder, "size-advice-model", "slo: 80000", "slo: fast")
    git(folder, "commit", "--quiet", "-am", "size-advice: a broken SLO")
    assert publish(folder, "--push").returncode == ExitCode.FINDINGS  # kept on error
    result = listed(folder)
    assert result.returncode == ExitCode.OK, result.stderr
    lines = result.stdout.splitlines()
    kept = lines[lines.index("errors:") + 1 :]
    assert kept == [
        "  size-advice (kept-on-error): MLproject:10:6: slo: must be an integer number of "
        'microseconds between 1000 and 10000000 (got "fast")'
    ]
    document = json.loads(listed(folder, "--format", "json").stdout)
    [model] = [m for m in document["models"] if m["id"] == "size-advice"]
    staging = model["environments"]["staging"]
    assert staging["state"] == "kept-on-error"
    assert any("slo" in error for error in staging["errors"])
