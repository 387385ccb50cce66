"""Builders for tests of the github source: settings, sources and platforms that point at a
loopback GitHub."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from generator.config.settings import GitHubAuth, GitHubLimits, GitHubSettings
from generator.sources.github import GitHubSource
from testsupport.fakes.github_org import populate
from testsupport.fakes.github_server import DEFAULT_TOKEN, FakeGitHub
from testsupport.helpers import ROOT, mlproject

ENV = {"GITHUB_TOKEN": DEFAULT_TOKEN}


def model_text(name: str, index: int) -> str:
    return mlproject(name=name, id=f"m{index}", team="rnd")


def populate_models(server: FakeGitHub, count: int, models_every: int = 5) -> None:
    populate(server.org, count, model_text, models_every=models_every)


def settings(
    server: FakeGitHub, *, auth: GitHubAuth | None = None, **options: Any
) -> GitHubSettings:
    values: dict[str, Any] = {"organization": server.org.login, "api_url": server.url}
    values.update(options)
    values["limits"] = GitHubLimits(**values.pop("limits", {}))
    return GitHubSettings(auth=auth or GitHubAuth(), **values)


def source(
    server: FakeGitHub,
    *,
    clock: Any = None,
    teams: tuple[str, ...] = (),
    environ: dict[str, str] | None = None,
    **options: Any,
) -> GitHubSource:
    return GitHubSource(
        settings(server, **options),
        teams,
        clock=clock,
        environ=ENV if environ is None else environ,
    )


def github_platform(tmp_path: Path, server: FakeGitHub, **github: Any) -> Path:
    """A platform folder whose platform.yaml reads ``server``'s organization with the
    github source; ``github`` keys are added to (or replace) the github section."""
    data = yaml.safe_load((ROOT / "platform.yaml").read_text())
    data["github"] = {
        "organization": server.org.login,
        "api_url": server.url,
        "web_url": server.org.web_url,
        **github,
    }
    data["source"] = {"type": "github"}
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return tmp_path


def environment(token: str | None = DEFAULT_TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"GITHUB_TOKEN", "MODELSHIP_DEBUG"}}
    if token is not None:
        env["GITHUB_TOKEN"] = token
    return env
