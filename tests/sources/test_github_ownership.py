"""With the github source, a scan that stopped before it could read which teams push to each
repository leaves those repositories' models exactly as they were: unknown ownership is never
taken for "no team owns it" (a false policy/team-not-owner error) nor for "unchecked"."""

from __future__ import annotations

import json

from generator import evaluate, reconcile
from generator.errors import ExitCode
from generator.index import STATE_DEPLOYED
from testsupport.github_helpers import environment, github_platform, source
from testsupport.helpers import mlproject, modelship, read_tree
from testsupport.scans import PLATFORM, previous_of, snapshot

NO_RETRIES = {"retries": 0}  # a team listing that fails, fails at once


def test_a_failed_team_listing_leaves_every_model_as_it_was_with_no_false_error(
    github_server, tmp_path
):
    org = github_server.org
    for name in ("churn", "upsell"):
        org.add_repo(f"{name}-model", mlproject=mlproject(name=f"{name}-model", id=name))
    org.add_team("rnd", {"churn-model": "push", "upsell-model": "push"})
    platform = github_platform(tmp_path, github_server, limits=NO_RETRIES)
    first = modelship("render", cwd=platform, env=environment())
    assert first.returncode == ExitCode.OK, first.stderr
    before = read_tree(platform / "rendered")
    github_server.inject("status", route="team_repos", status=500, times=99)
    result = modelship("render", cwd=platform, env=environment())
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "repositories could not be listed" in result.stderr
    assert "does not own" not in result.stderr
    assert "kept-on-error" not in result.stderr
    assert read_tree(platform / "rendered") == before
    models = json.loads(before["index.json"])["models"]
    assert {m["state"] for m in models.values()} == {STATE_DEPLOYED}


def test_discover_says_ownership_is_unknown(github_server, tmp_path):
    github_server.org.add_repo("churn-model", mlproject=mlproject(name="churn-model"))
    github_server.org.add_team("rnd", {"churn-model": "push"})
    github_server.inject("status", route="team_repos", status=500, times=99)
    platform = github_platform(tmp_path, github_server, limits=NO_RETRIES)
    text = modelship("discover", cwd=platform, env=environment())
    assert text.returncode == ExitCode.EXTERNAL
    [row] = [line for line in text.stdout.splitlines() if line.startswith("acme/churn-model")]
    assert row.split()[-1] == "unknown"
    listed = modelship("discover", "--format", "json", cwd=platform, env=environment())
    [repository] = json.loads(listed.stdout)["repositories"]
    assert repository["push_teams"] is None


def test_a_snapshot_of_unknown_ownership_is_neither_accepted_nor_rejected(github_server):
    github_server.org.add_repo("alpha-model", mlproject=mlproject(name="alpha-model", id="alpha"))
    github_server.org.add_repo("fresh-model", mlproject=mlproject(name="fresh-model", id="fresh"))
    github_server.org.add_team("rnd", {"alpha-model": "push", "fresh-model": "push"})
    github_server.inject("status", route="team_repos", status=500, times=99)
    scan = source(github_server, teams=("rnd",), limits=NO_RETRIES).scan()
    assert not scan.complete
    assert all(s.push_teams_unknown for s in scan.snapshots)
    previous = previous_of(snapshot("alpha", mlproject(name="alpha-model", id="alpha")))
    evaluation = evaluate.evaluate(PLATFORM, scan, previous)
    assert evaluation.findings == ()
    assert evaluation.models == ()
    outcome = reconcile.reconcile(PLATFORM, evaluation, previous)
    assert [m.id for m in outcome.models] == ["alpha"], "the new model waits for a full scan"
    assert [(k.entry.id, k.as_was) for k in outcome.kept] == [("alpha", True)]
    assert outcome.removed == ()


def test_a_broken_mlproject_is_still_reported_when_ownership_is_unknown(github_server):
    github_server.org.add_repo("alpha-model", mlproject=mlproject(name="alpha-model", slo="fast"))
    github_server.org.add_team("rnd", {"alpha-model": "push"})
    github_server.inject("status", route="team_repos", status=500, times=99)
    scan = source(github_server, teams=("rnd",), limits=NO_RETRIES).scan()
    evaluation = evaluate.evaluate(PLATFORM, scan, previous_of())
    assert [f.key for f in evaluation.findings] == ["slo"]
