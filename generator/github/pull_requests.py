"""Pull requests of the rendered repository: open or update one, close it when there is
nothing to publish any more, and keep Modelship's one comment on it.

``open_or_update`` is what ``publish --pr`` calls after pushing its branch. It makes at
most three requests: the list of open pull requests from ``head`` into ``base``, then a
create or (only when the title or body changed) an update. Two publishers racing to
create the same pull request both end with the one GitHub kept: the loser's 422 "A pull
request already exists" is answered by looking it up again.

A pull request carries at most one Modelship comment: it starts with a hidden marker
(an HTML comment, invisible on GitHub), by which the next run finds and replaces it.
``post_or_update`` makes at most two kinds of request: the listing of the pull
request's comments (100 per page), then a create — or an update, only when the text
changed. Pull-request comments are issue comments in GitHub's REST API.

Every function raises ExternalError (exit 3) when GitHub fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import github
from github.GithubException import GithubException
from github.Repository import Repository

from generator.errors import ExternalError
from generator.github.errors import FAILURES, describe

MARKER = "<!-- modelship:diff -->"
PREFIX = f"{MARKER}\n"


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str  # the web page (html_url)
    created: bool  # False: an open pull request was found (and updated if it differed)


@dataclass(frozen=True)
class Comment:
    id: int
    url: str  # the comment on the pull request's page (html_url)
    created: bool  # False: the earlier comment was found (and updated if it differed)


@contextmanager
def _failing(what: str) -> Iterator[None]:
    """GitHub's failures inside the block become ExternalError: ``cannot <what>: <why>``."""
    try:
        yield
    except FAILURES as error:
        raise ExternalError(f"cannot {what}: {describe(error)}") from None


def _head_label(repo_full_name: str, head: str) -> str:
    """``owner:branch``, as GitHub filters pull requests by their head; ``head`` is a branch
    of ``repo_full_name`` (``branch``) or of a fork (``owner:branch``)."""
    return head if ":" in head else f"{repo_full_name.split('/', 1)[0]}:{head}"


def open_or_update(
    client: github.Github,
    repo_full_name: str,
    head: str,
    base: str,
    title: str,
    body: str,
) -> PullRequest:
    head_label = _head_label(repo_full_name, head)
    with _failing(f"open or update the pull request {head} → {base} in {repo_full_name}"):
        repo = client.get_repo(repo_full_name)
        found = _update_open(repo, head_label, base, title, body)
        if found is not None:
            return found
        try:
            created = repo.create_pull(base=base, head=head, title=title, body=body)
        except GithubException as error:
            if error.status != 422 or "already exists" not in str(error.data):
                raise
            # Another run created it between our lookup and our create.
            found = _update_open(repo, head_label, base, title, body)
            if found is None:
                raise
            return found
        return PullRequest(created.number, created.html_url, created=True)


def _update_open(
    repo: Repository, head_label: str, base: str, title: str, body: str
) -> PullRequest | None:
    for pull in repo.get_pulls(state="open", head=head_label, base=base):
        if pull.title != title or (pull.body or "") != body:
            pull.edit(title=title, body=body)
        return PullRequest(pull.number, pull.html_url, created=False)
    return None


def close_open(
    client: github.Github, repo_full_name: str, head: str, base: str
) -> PullRequest | None:
    """Close the open pull request from ``head`` into ``base``, if there is one: its branch
    holds changes that are no longer to be made (reverted at their source, or published
    another way), and merging it would apply them."""
    head_label = _head_label(repo_full_name, head)
    with _failing(f"close the pull request {head} → {base} in {repo_full_name}"):
        repo = client.get_repo(repo_full_name)
        for pull in repo.get_pulls(state="open", head=head_label, base=base):
            pull.edit(state="closed")
            return PullRequest(pull.number, pull.html_url, created=False)
    return None


def post_or_update(client: github.Github, repo_full_name: str, number: int, body: str) -> Comment:
    """Post ``body`` as the pull request's Modelship comment, replacing the one before."""
    text = PREFIX + body
    with _failing(f"comment on pull request #{number} of {repo_full_name}"):
        issue = client.get_repo(repo_full_name).get_issue(number)
        for comment in issue.get_comments():
            if (comment.body or "").startswith(MARKER):
                if comment.body != text:
                    comment.edit(text)
                return Comment(comment.id, comment.html_url, created=False)
        created = issue.create_comment(text)
        return Comment(created.id, created.html_url, created=True)
