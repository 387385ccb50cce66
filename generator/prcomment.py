"""Post Modelship's comment on a pull request, or update the one it posted before.

A pull request carries at most one Modelship comment: it starts with a hidden marker
(an HTML comment, invisible on GitHub), by which the next run finds and replaces it.
``post_or_update`` makes at most two kinds of request: the listing of the pull
request's comments (100 per page), then a create — or an update, only when the text
changed. Pull-request comments are issue comments in GitHub's REST API.
"""

from __future__ import annotations

from dataclasses import dataclass

import github

from generator.errors import ExternalError
from generator.github_errors import FAILURES, describe

MARKER = "<!-- modelship:diff -->"
PREFIX = f"{MARKER}\n"


@dataclass(frozen=True)
class Comment:
    id: int
    url: str  # the comment on the pull request's page (html_url)
    created: bool  # False: the earlier comment was found (and updated if it differed)


def post_or_update(client: github.Github, repo_full_name: str, number: int, body: str) -> Comment:
    """Raises ExternalError (exit 3) when GitHub fails."""
    text = PREFIX + body
    try:
        issue = client.get_repo(repo_full_name).get_issue(number)
        for comment in issue.get_comments():
            if (comment.body or "").startswith(MARKER):
                if comment.body != text:
                    comment.edit(text)
                return Comment(comment.id, comment.html_url, created=False)
        created = issue.create_comment(text)
        return Comment(created.id, created.html_url, created=True)
    except FAILURES as error:
        raise ExternalError(
            f"cannot comment on pull request #{number} of {repo_full_name}: {describe(error)}"
        ) from None
