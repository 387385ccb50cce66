"""What rendered a published tree: index.json names the Modelship version, the publish
commit's trailers the version and the platform repository's commit — and whether that
commit was all there was (uncommitted changes outside the rendered tree) — and every model
its source repo@commit."""

from __future__ import annotations

import json

from generator import __version__
from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, edit, git, platform_repo, publish


def message(folder) -> str:
    return git(folder, "log", "-1", "--format=%B")


def test_the_publish_commit_and_index_json_record_what_rendered_them(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "origin.git"))
    platform_head = git(folder, "rev-parse", "HEAD").strip()
    assert publish(folder).returncode == ExitCode.OK
    text = message(folder)
    assert f"Rendered-by: modelship {__version__}" in text.splitlines()
    assert f"Platform-commit: {platform_head}" in text.splitlines()
    index = json.loads((folder / "rendered" / "index.json").read_text())
    assert index["rendered_by"] == {"modelship": __version__}
    source = index["models"]["size-advice"]["source"]
    assert f"add size-advice from {source['repo']}@{source['commit']}" in text


def test_a_render_of_uncommitted_platform_changes_says_so(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "origin.git"))
    assert publish(folder).returncode == ExitCode.OK
    head = git(folder, "rev-parse", "HEAD").strip()
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")  # not committed
    assert publish(folder).returncode == ExitCode.OK
    assert f"Platform-commit: {head} + uncommitted changes" in message(folder).splitlines()
