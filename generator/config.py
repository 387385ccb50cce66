"""platform.yaml → Platform (frozen dataclasses), validated by its JSON schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from generator import resources, schemacheck, yamlpos
from generator.errors import ConfigError
from generator.findings import Finding

DEFAULT_PLATFORM_FILE = "platform.yaml"


@dataclass(frozen=True)
class Team:
    name: str
    namespace: str
    github_teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class Environment:
    name: str
    internal_host: str
    public_host: str


@dataclass(frozen=True)
class GitHubSettings:
    organization: str
    api_url: str = "https://api.github.com"
    web_url: str = "https://github.com"
    repo_suffix: str = "-model"
    topic: str = "ml-model"

    def clone_url(self, full_name: str) -> str:
        return f"{self.web_url.rstrip('/')}/{full_name}.git"


@dataclass(frozen=True)
class Gateway:
    namespace: str
    name: str = "modelship-gateway"
    max_body_size: str = "1m"


@dataclass(frozen=True)
class GitIdentity:
    name: str
    email: str


DEFAULT_AUTHOR = GitIdentity("Modelship", "modelship@localhost")


@dataclass(frozen=True)
class RenderedRepository:
    """A separate git repository for the rendered tree, cloned into ``workdir``."""

    url: str
    branch: str
    workdir: Path


@dataclass(frozen=True)
class PullRequestSettings:
    repository: str | None = None  # owner/name; None: derived from the remote's URL
    branch: str = "modelship/render"


@dataclass(frozen=True)
class PublishSettings:
    author: GitIdentity = DEFAULT_AUTHOR
    committer: GitIdentity | None = None  # None: the author
    remote: str = "origin"
    push_attempts: int = 3
    pull_request: PullRequestSettings = field(default_factory=PullRequestSettings)


@dataclass(frozen=True)
class Defaults:
    instances: int = 2
    slo: int = 100000
    requests: dict[str, str] = field(default_factory=lambda: {"cpu": "250m", "memory": "512Mi"})
    limits: dict[str, str] = field(default_factory=lambda: {"cpu": "1", "memory": "1Gi"})


@dataclass(frozen=True)
class Platform:
    """One platform. Paths are absolute, resolved against platform.yaml's folder."""

    name: str
    github: GitHubSettings
    source_type: str
    source_path: Path | None
    rendered_path: Path
    registry: str
    artifact_store: str
    gateway: Gateway
    environments: tuple[Environment, ...]
    teams: dict[str, Team]
    defaults: Defaults = field(default_factory=Defaults)
    consul_prefix: str = "modelship/models"
    max_delete_share: float = 0.25
    templates_path: Path | None = None
    root: Path = Path()
    # Set when the rendered tree lives in its own git repository; rendered_path is
    # then <workdir>/<rendered.path>.
    rendered_repository: RenderedRepository | None = None
    publish: PublishSettings = field(default_factory=PublishSettings)


def load(path: Path) -> Platform:
    """Read, validate and resolve a platform.yaml; raise ConfigError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; pass --platform or run from the platform repository"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> Platform:
    shown = str(path)
    try:
        document = yamlpos.load(text)
    except yamlpos.YamlSyntaxError as error:
        position = error.position
        raise ConfigError(
            f"{shown}:{position.line}:{position.column}: invalid YAML: {error.message}"
        ) from None
    findings = sorted(
        schemacheck.check(document, resources.schema("platform"), shown, "platform")
        + _semantic_findings(document, shown)
    )
    if findings:
        raise ConfigError("invalid platform configuration:\n" + "\n".join(map(str, findings)))
    return _build(document.data, path.resolve().parent)


def _semantic_findings(document: yamlpos.YamlDocument, shown: str) -> list[Finding]:
    findings: list[Finding] = []

    def add(at: tuple[Any, ...], message: str, rule: str) -> None:
        position = document.key_position(at)
        key = schemacheck.dotted(at)
        findings.append(Finding(shown, position.line, position.column, key, message, rule))

    for duplicate in document.duplicates:
        position = duplicate.position
        findings.append(
            Finding(
                shown,
                position.line,
                position.column,
                schemacheck.dotted(duplicate.path),
                f"duplicate key (first defined at line {duplicate.first.line})",
                "platform/duplicate-key",
            )
        )
    data = document.data
    rendered = data.get("rendered") if isinstance(data, dict) else None
    if isinstance(rendered, dict) and "repository" in rendered:
        inner = rendered.get("path")
        parts = PurePosixPath(inner).parts if isinstance(inner, str) else ()
        if inner == "." or ".." in parts or ".git" in parts or (parts and parts[0] == "/"):
            add(
                ("rendered", "path"),
                "with 'repository', must be a folder inside that repository (not its root, "
                "no '..', not .git)",
                "platform/rendered-path",
            )
    teams = data.get("teams") if isinstance(data, dict) else None
    if isinstance(teams, dict):
        owners: dict[str, str] = {}
        for name, team in teams.items():
            namespace = team.get("namespace") if isinstance(team, dict) else None
            if not isinstance(namespace, str):
                continue
            if namespace in owners:
                add(
                    ("teams", name, "namespace"),
                    f"namespace {namespace!r} already belongs to team {owners[namespace]!r}",
                    "platform/shared-namespace",
                )
            owners.setdefault(namespace, name)
    return findings


def _build(data: dict[str, Any], root: Path) -> Platform:
    github = data["github"]
    source = data["source"]
    defaults = data.get("defaults", {})
    resources_ = defaults.get("resources", {})
    fallback = Defaults()
    templates = data.get("templates")
    rendered = data["rendered"]
    repository = _rendered_repository(rendered.get("repository"), root)
    tree_base = repository.workdir if repository is not None else root
    return Platform(
        name=data["name"],
        github=GitHubSettings(**github),
        source_type=source["type"],
        source_path=(root / source["path"]) if "path" in source else None,
        rendered_path=tree_base / rendered["path"],
        registry=data["registry"],
        artifact_store=data["artifact_store"],
        gateway=Gateway(**data["gateway"]),
        environments=tuple(
            Environment(name, env["gateway"]["internal_host"], env["gateway"]["public_host"])
            for name, env in sorted(data["environments"].items())
        ),
        teams={
            name: Team(name, team["namespace"], tuple(team.get("github_teams", ())))
            for name, team in sorted(data["teams"].items())
        },
        defaults=Defaults(
            instances=defaults.get("instances", fallback.instances),
            slo=defaults.get("slo", fallback.slo),
            requests={**fallback.requests, **resources_.get("requests", {})},
            limits={**fallback.limits, **resources_.get("limits", {})},
        ),
        consul_prefix=data.get("consul", {}).get("prefix", "modelship/models"),
        max_delete_share=data.get("safety", {}).get("max_delete_share", 0.25),
        templates_path=(root / templates) if templates else None,
        root=root,
        rendered_repository=repository,
        publish=_publish(data.get("publish", {})),
    )


def _rendered_repository(data: dict[str, Any] | None, root: Path) -> RenderedRepository | None:
    if data is None:
        return None
    return RenderedRepository(
        url=data["url"],
        branch=data.get("branch", "main"),
        workdir=root / data.get("workdir", ".modelship/rendered-repo"),
    )


def _publish(data: dict[str, Any]) -> PublishSettings:
    fallback = PublishSettings()
    pull_request = data.get("pull_request", {})
    committer = data.get("committer")
    return PublishSettings(
        author=GitIdentity(**data["author"]) if "author" in data else fallback.author,
        committer=GitIdentity(**committer) if committer else None,
        remote=data.get("remote", fallback.remote),
        push_attempts=data.get("push_attempts", fallback.push_attempts),
        pull_request=PullRequestSettings(
            repository=pull_request.get("repository"),
            branch=pull_request.get("branch", fallback.pull_request.branch),
        ),
    )
