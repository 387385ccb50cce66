"""Open a pull request, or update the one already open from the same branch; close it
when there is nothing to publish any more.

``open_or_update`` is what ``publish --pr`` calls after pushing its branch. It makes at
most three requests: the list of open pull requests from ``head`` into ``base``, then a
create or (only when the title or body changed) an update. Two publishers racing to
create the same pull request both end with the one GitHub kept: the loser's 422 "A pull
request already exists" is answered by looking it up again.
"""

from __future__ import annotations

from dataclasses import dataclass

import github
from github.GithubException import GithubException
from github.Repository import Repository

from generator.errors import ExternalError
from generator.github_errors import FAILURES, describe


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str  # the web page (html_url)
    created: bool  # False: an open pull request was found (and updated if it differed)


def open_or_update(
    client: github.Github,
    repo_full_name: str,
    head: str,
    base: str,
    title: str,
    body: str,
) -> PullRequest:
    """``head`` is a branch of ``repo_full_name`` (``branch``) or of a fork
    (``owner:branch``). Raises ExternalError (exit 3) when GitHub fails."""
    owner = repo_full_name.split("/", 1)[0]
    head_label = head if ":" in head else f"{owner}:{head}"
    try:
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
    except FAILURES as error:
        raise ExternalError(
            f"cannot open or update the pull request {head} → {base} in {repo_full_name}: "
            f"{describe(error)}"
        ) from None


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
    another way), and merging it would apply them. Raises ExternalError when GitHub fails."""
    owner = repo_full_name.split("/", 1)[0]
    head_label = head if ":" in head else f"{owner}:{head}"
    try:
        repo = client.get_repo(repo_full_name)
        for pull in repo.get_pulls(state="open", head=head_label, base=base):
            pull.edit(state="closed")
            return PullRequest(pull.number, pull.html_url, created=False)
    except FAILURES as error:
        raise ExternalError(
            f"cannot close the pull request {head} → {base} in {repo_full_name}: {describe(error)}"
        ) from None
    return None
