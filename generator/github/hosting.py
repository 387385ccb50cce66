"""Which GitHub repository hosts the rendered tree — where ``publish --pr`` opens its pull
request and ``diff --comment`` comments."""

from __future__ import annotations

import re

from generator.config.settings import Platform
from generator.errors import UsageError
from generator.rendered_repo import RenderedRepo, remote_url

_GITHUB_REMOTE = re.compile(
    r"(?:[a-z+]+://(?:[^@/]+@)?[^/]+/|[^@/:]+@[^:/]+:)([\w.-]+)/([\w.-]+?)(?:\.git)?/?"
)


def github_repository(url: str) -> str | None:
    """``owner/name`` of a GitHub remote URL (https, ssh or scp-like), else None."""
    match = _GITHUB_REMOTE.fullmatch(url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def hosting_repository(
    platform: Platform, rendered: RenderedRepo, event_repository: str | None = None
) -> str:
    """``owner/name``: the repository of the GitHub Actions event when there is one, else
    ``publish.pull_request.repository``, else the one the remote's URL names."""
    repository = (
        event_repository
        or platform.publish.pull_request.repository
        or github_repository(remote_url(rendered))
    )
    if repository is None:
        raise UsageError(
            "cannot tell the GitHub repository from the remote's URL; set "
            "publish.pull_request.repository in platform.yaml"
        )
    return repository


def platform_repository(platform: Platform, handle: RenderedRepo) -> str:
    """``owner/name`` of the platform repository (where the promotions files are):
    ``promotions.repository``; else, when the rendered tree lives there too, the repository
    ``publish --pr`` uses; else the one its remote's URL names."""
    if platform.promotions.repository is not None:
        return platform.promotions.repository
    if platform.rendered_repository is None:
        return hosting_repository(platform, handle)
    repository = github_repository(remote_url(handle))
    if repository is None:
        raise UsageError(
            "cannot tell the platform's GitHub repository from the remote's URL; set "
            "promotions.repository in platform.yaml"
        )
    return repository
