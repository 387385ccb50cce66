"""Modelship's one comment on a pull request, with PyGithub against a loopback GitHub."""

import pytest

from generator.errors import ExternalError
from generator.github.client import connect
from generator.github.pull_requests import MARKER, Comment, post_or_update
from testsupport.fakes.github_org import Comment as StoredComment
from testsupport.github_helpers import ENV, settings


@pytest.fixture
def pull(github_server):
    github_server.org.add_repo("modelship")
    github_server.org.add_pull("modelship", "tune-slo")
    return github_server


def client(server):
    return connect(settings(server), writes=True, environ=ENV).client


def comments(server):
    return [(c.issue_number, c.body) for c in server.org.comments.get("modelship", [])]


def test_the_comment_is_posted_once_then_replaced(pull):
    first = post_or_update(client(pull), "acme/modelship", 1, "diff 1\n")
    url = f"https://github.com/acme/modelship/pull/1#issuecomment-{first.id}"
    assert first == Comment(first.id, url, created=True)
    second = post_or_update(client(pull), "acme/modelship", 1, "diff 2\n")
    assert second == Comment(first.id, url, created=False)
    assert comments(pull) == [(1, f"{MARKER}\ndiff 2\n")]
    assert [r.route for r in pull.requests] == [
        "comments_list",
        "comments_create",
        "comments_list",
        "comments_update",
    ]


def test_an_unchanged_comment_is_not_written_again(pull):
    for _ in range(2):
        post_or_update(client(pull), "acme/modelship", 1, "same\n")
    assert pull.count("comments_update") == 0
    assert pull.count("comments_create") == 1


def test_other_comments_are_left_alone_and_found_on_any_page(pull):
    people = [
        StoredComment(id=500 + n, issue_number=1, body=f"looks good {n}", user="octocat")
        for n in range(150)
    ]
    pull.org.comments["modelship"] = list(people)
    post_or_update(client(pull), "acme/modelship", 1, "diff\n")
    ours = pull.org.comments["modelship"][-1]
    post_or_update(client(pull), "acme/modelship", 1, "diff again\n")
    assert [c.body for c in pull.org.comments["modelship"][:150]] == [c.body for c in people]
    assert ours.body == f"{MARKER}\ndiff again\n"
    assert len(pull.org.comments["modelship"]) == 151
    assert pull.count("comments_list") == 4  # two pages, twice


def test_a_missing_pull_request_is_an_external_error(pull):
    with pytest.raises(ExternalError) as caught:
        post_or_update(client(pull), "acme/modelship", 7, "diff\n")
    assert caught.value.message == (
        "cannot comment on pull request #7 of acme/modelship: GitHub answered 404: Not Found"
    )


def test_github_refuses_a_body_over_its_limit(pull):
    with pytest.raises(ExternalError, match=r"body is too long \(maximum is 65536 characters\)"):
        post_or_update(client(pull), "acme/modelship", 1, "x" * 65536)
