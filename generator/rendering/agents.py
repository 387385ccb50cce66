"""What the objects of both sync agents (Flux, Argo CD) share: their names and the folders
of the rendered tree they point at, as paths inside the repository clusters clone.   (pure)

Names are built from platform.yaml alone (the platform's name, team names: DNS labels),
never from an MLproject value: nothing a model repository writes can name or aim a sync
object.
"""

from __future__ import annotations

import posixpath

from generator.config.settings import Environment, Platform, Team
from generator.rendering.targets.kubernetes import platform_folder, team_folder

IN_CLUSTER = "https://kubernetes.default.svc"  # Argo CD's name for its own cluster


def root_name(platform: Platform) -> str:
    """The object that follows the agent's own folder (it keeps the others current)."""
    return platform.name


def platform_name(platform: Platform) -> str:
    return f"{platform.name}-platform"


def team_name(platform: Platform, team: Team) -> str:
    return f"{platform.name}-team-{team.name}"


def in_repository(platform: Platform, folder: str) -> str:
    """``folder`` of the rendered tree as a path from the repository's root."""
    return posixpath.normpath(posixpath.join(platform.sync.path, folder))


def agent_folder(platform: Platform, env: Environment, agent: str) -> str:
    return in_repository(platform, f"{env.name}/{agent}")


def platform_part(platform: Platform, env: Environment) -> str:
    return in_repository(platform, platform_folder(env))


def team_part(platform: Platform, env: Environment, team: Team) -> str:
    return in_repository(platform, team_folder(env, team))
