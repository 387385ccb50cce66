"""The github source when GitHub answers what it should not: an HTML page on a team listing, a
404 partway through one, a team that does not exist, an MLproject that is a folder or spelt
twice, or one too large. Each is an incomplete read (exit 3, nothing decided from it) or a
failure of that repository, and a team that cannot be seen is said once, clearly."""

from __future__ import annotations

import json
import subprocess

from generator import mlproject
from generator.errors import ExitCode
from testsupport.fakes.github_server import DEFAULT_TOKEN
from testsupport.github_helpers import github_platform, source
from testsupport.helpers import mlproject as mlproject_text
from testsupport.helpers import read_tree
from testsupport.inprocess import modelship


def environment():
    return {"GITHUB_TOKEN": DEFAULT_TOKEN, "MODELSHIP_DEBUG": None}


NO_RETRIES = {"retries": 0}


def deployed(server, tmp_path, count=3, **github):
    """A github platform with ``count`` models owned by team rnd, rendered once."""
    for index in range(count):
        server.org.add_repo(
            f"m{index}-model", mlproject=mlproject_text(name=f"m{index}-model", id=f"m{index}")
        )
    server.org.add_team("rnd", {f"m{index}-model": "push" for index in range(count)})
    platform = github_platform(tmp_path, server, limits=NO_RETRIES, **github)
    first = modelship("render", cwd=platform, env=environment())
    assert first.returncode == ExitCode.OK, first.stderr
    return platform


def test_an_html_page_with_status_200_on_a_team_listing_is_an_incomplete_scan(
    github_server, tmp_path
):
    platform = deployed(github_server, tmp_path)
    before = read_tree(platform / "rendered")
    github_server.inject("html", route="team_repos", status=200, times=99)
    result = modelship("render", cwd=platform, env=environment())
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "internal error" not in result.stderr
    assert "repositories could not be listed (page 1): GitHub's answer is not" in result.stderr
    assert read_tree(platform / "rendered") == before


def test_a_404_after_the_first_page_of_a_team_listing_is_no_proof_the_team_is_gone(
    github_server, tmp_path
):
    platform = deployed(github_server, tmp_path, count=120)  # two pages of 100
    before = read_tree(platform / "rendered")
    github_server.inject(
        "reply",
        route="team_repos",
        status=404,
        page=1,
        times=99,
        body={"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
    )
    result = modelship("render", cwd=platform, env=environment())
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "GitHub team acme/rnd (" not in result.stderr, "not taken for a missing team"
    assert "page 2 of GitHub team rnd's repositories could not be read" in result.stderr
    assert "does not own" not in result.stderr
    assert read_tree(platform / "rendered") == before


def test_a_team_that_cannot_be_seen_is_said_once_in_render_publish_and_discover(
    github_server, tmp_path
):
    platform = deployed(github_server, tmp_path, count=2)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=platform, check=True)
    subprocess.run(["git", "add", "-A"], cwd=platform, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "platform"], cwd=platform, check=True)
    del github_server.org.teams["rnd"]
    for command in ("render", "publish", "discover"):
        result = modelship(command, cwd=platform, env=environment())
        said = [line for line in result.stderr.splitlines() if "ml-rnd" in line or "rnd" in line]
        team_lines = [line for line in said if "does not exist or these credentials" in line]
        assert len(team_lines) == 1, (command, result.stderr)
        assert "acme/rnd" in team_lines[0]
    render = modelship("render", cwd=platform, env=environment())
    assert render.returncode == ExitCode.FINDINGS
    assert "kept-on-error" in render.stderr, "its deployed models stay"


def test_a_folder_named_mlproject_on_github_keeps_the_model(github_server, tmp_path):
    platform = deployed(github_server, tmp_path, count=2)
    repo = github_server.org.repo("m0-model")
    text = repo.files.pop("MLproject")
    repo.files["MLproject/inner.txt"] = text
    result = modelship("render", cwd=platform, env=environment())
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "MLproject is a folder" in result.stderr
    models = json.loads((platform / "rendered" / "index.json").read_text())["models"]
    assert models["m0"]["state"] == "kept-on-error"


def test_two_spellings_of_mlproject_on_github_are_a_failure(github_server):
    github_server.org.add_repo("churn-model", mlproject=mlproject_text())
    github_server.org.repo("churn-model").files["mlproject"] = mlproject_text(slo=5000).encode()
    scan = source(github_server).scan()
    [failure] = scan.failures
    assert "2 MLproject files (MLproject, mlproject)" in failure.message


def test_an_mlproject_past_the_size_limit_on_github_is_not_fetched(github_server):
    text = mlproject_text() + "#" * mlproject.MAX_BYTES + "\n"
    github_server.org.add_repo("churn-model", mlproject=text)
    scan = source(github_server).scan()
    [failure] = scan.failures
    assert failure.message == mlproject.too_large("MLproject", len(text.encode()))
    assert github_server.count("contents") == 0


def test_an_html_page_on_a_repositorys_team_listing_is_an_incomplete_single_read(
    github_server, tmp_path
):
    platform = deployed(github_server, tmp_path, count=2)
    before = read_tree(platform / "rendered")
    github_server.inject("html", route="repo_teams", status=200, times=99)
    result = modelship("render", "--repository", "acme/m0-model", cwd=platform, env=environment())
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "the teams of acme/m0-model could not be listed" in result.stderr
    assert read_tree(platform / "rendered") == before
