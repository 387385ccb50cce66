"""Opening or updating the pull request of `publish --pr`, with PyGithub against a loopback
GitHub."""

from __future__ import annotations

import pytest

from generator.errors import ExternalError
from generator.github.client import connect
from generator.github.pull_requests import PullRequest, open_or_update
from testsupport.github_helpers import ENV, settings


@pytest.fixture
def platform_repo(github_server):
    github_server.org.add_repo("platform")
    return github_server


def client(server):
    """A fresh write client per call, as each `publish` run makes its own."""
    return connect(settings(server), writes=True, environ=ENV).client


def test_a_pull_request_is_created_then_updated_in_place(platform_repo):
    first = open_or_update(
        client(platform_repo), "acme/platform", "modelship/render", "main", "Render", "diff 1"
    )
    assert first == PullRequest(1, "https://github.com/acme/platform/pull/1", created=True)
    second = open_or_update(
        client(platform_repo), "acme/platform", "modelship/render", "main", "Render 2", "diff 2"
    )
    assert second == PullRequest(1, "https://github.com/acme/platform/pull/1", created=False)
    [pull] = platform_repo.org.pulls["platform"]
    assert (pull.title, pull.body, pull.head_ref, pull.base) == (
        "Render 2",
        "diff 2",
        "modelship/render",
        "main",
    )
    routes = [r.route for r in platform_repo.requests]
    assert routes == ["pulls_list", "pulls_create", "pulls_list", "pulls_update"]


def test_an_unchanged_pull_request_is_not_written_again(platform_repo):
    for _ in range(2):
        open_or_update(client(platform_repo), "acme/platform", "render", "main", "T", "B")
    assert [r.route for r in platform_repo.requests][-1] == "pulls_list"
    assert platform_repo.count("pulls_update") == 0


def test_pull_requests_from_other_branches_or_into_other_bases_are_left_alone(platform_repo):
    open_or_update(client(platform_repo), "acme/platform", "render", "main", "T", "B")
    other_base = open_or_update(
        client(platform_repo), "acme/platform", "render", "release", "T", "B"
    )
    other_head = open_or_update(client(platform_repo), "acme/platform", "other", "main", "T", "B")
    assert (other_base.number, other_base.created) == (2, True)
    assert (other_head.number, other_head.created) == (3, True)


def test_losing_a_race_to_create_finds_the_winners_pull_request(platform_repo):
    open_or_update(client(platform_repo), "acme/platform", "render", "main", "T", "old body")
    # our listing misses the pull request another publisher just opened
    platform_repo.inject("reply", route="pulls_list", page=0, body=[])
    result = open_or_update(client(platform_repo), "acme/platform", "render", "main", "T", "new")
    assert result == PullRequest(1, "https://github.com/acme/platform/pull/1", created=False)
    create = [r for r in platform_repo.requests if r.route == "pulls_create"]
    assert [r.status for r in create] == [201, 422]
    assert platform_repo.org.pulls["platform"][0].body == "new"


def test_a_github_failure_is_an_external_error_with_a_message(platform_repo):
    with pytest.raises(ExternalError) as caught:
        open_or_update(client(platform_repo), "acme/nothing", "render", "main", "T", "B")
    assert caught.value.message == (
        "cannot open or update the pull request render → main in acme/nothing: "
        "GitHub answered 404: Not Found"
    )
