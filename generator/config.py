"""platform.yaml → Platform (frozen dataclasses), validated by its JSON schema."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from generator import resources, schemacheck, yamlpos
from generator.errors import ConfigError
from generator.findings import Finding

DEFAULT_PLATFORM_FILE = "platform.yaml"
DEFAULT_WORKDIR = ".modelship/rendered-repo"  # where a separate rendered repository is cloned


@dataclass(frozen=True)
class Team:
    name: str
    namespace: str
    github_teams: tuple[str, ...] = ()


DEFAULT_RESOLVER = ("10.96.0.10",)  # kubeadm's cluster DNS Service address


@dataclass(frozen=True)
class Environment:
    name: str
    internal_host: str
    public_host: str
    resolver: tuple[str, ...] = DEFAULT_RESOLVER


@dataclass(frozen=True)
class GitHubAuth:
    """How the github source authenticates: a token read from an environment variable, or a
    GitHub App installation (app id + private key file + installation id)."""

    method: str = "token"  # token | app
    token_env: str = "GITHUB_TOKEN"
    app_id: int | None = None
    private_key_file: Path | None = None
    installation_id: int | None = None


@dataclass(frozen=True)
class GitHubLimits:
    """Bounds on what one run spends on GitHub."""

    rate_limit_wait: float = 600.0  # seconds of rate-limit waiting, in total
    retries: int = 5  # retries of one request after a 5xx, a timeout or a rate limit
    retry_time: float = 120.0  # seconds of backoff after errors, in total
    backoff: float = 1.0  # backoff factor: waits of 0, 2, 4, 8 ... x this, at most 30 s
    timeout: int = 15  # seconds per request


@dataclass(frozen=True)
class GitHubSettings:
    organization: str
    api_url: str = "https://api.github.com"
    web_url: str = "https://github.com"
    repo_suffix: str = "-model"
    topic: str = "ml-model"
    include_topics: tuple[str, ...] = ()
    exclude_topics: tuple[str, ...] = ()
    name_pattern: str | None = None
    skip_forks: bool = True
    auth: GitHubAuth = field(default_factory=GitHubAuth)
    limits: GitHubLimits = field(default_factory=GitHubLimits)

    def clone_url(self, full_name: str) -> str:
        return f"{self.web_url.rstrip('/')}/{full_name}.git"


@dataclass(frozen=True)
class Gateway:
    namespace: str
    name: str = "modelship-gateway"
    max_body_size: str = "1m"
    listen_internal: str = "8080"
    listen_public: str = "8081"


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
class JenkinsSettings:
    """How the Jenkins build job of every model runs (see templates/jenkins/)."""

    agent_label: str = "docker"
    registry_credentials: str = "modelship-registry"
    git_credentials: str | None = None
    builds_to_keep: int = 30
    base_images: dict[str, str] = field(default_factory=lambda: {"python": "python:3.11-slim"})
    dispatch: DispatchSettings | None = None


@dataclass(frozen=True)
class DispatchSettings:
    """After a build pushed its image, tell the platform repository (a ``model-changed``
    repository_dispatch) so that the next render can move the model to it."""

    repository: str  # owner/name of the platform repository
    credentials: str  # Jenkins secret-text credentials holding a GitHub token


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
    jenkins: JenkinsSettings = field(default_factory=JenkinsSettings)
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
        + _semantic_findings(document, shown, path.resolve().parent)
    )
    if findings:
        raise ConfigError("invalid platform configuration:\n" + "\n".join(map(str, findings)))
    return _build(document.data, path.resolve().parent)


def _semantic_findings(document: yamlpos.YamlDocument, shown: str, root: Path) -> list[Finding]:
    findings: list[Finding] = []

    def add(at: tuple[Any, ...], message: str, rule: str, on_value: bool = False) -> None:
        position = document.value_position(at) if on_value else document.key_position(at)
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
    github = data.get("github") if isinstance(data, dict) else None
    pattern = github.get("name_pattern") if isinstance(github, dict) else None
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as error:
            position = document.value_position(("github", "name_pattern"))
            findings.append(
                Finding(
                    shown,
                    position.line,
                    position.column,
                    "github.name_pattern",
                    f"is not a valid regular expression: {error}",
                    "platform/regex",
                )
            )
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
    for at, message, rule in _listen_problems(data):
        add(at, message, rule)
    for at, message, rule in _tree_problems(data, root):
        add(at, message, rule, on_value=True)
    return findings


def _tree_problems(data: Any, root: Path) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """The rendered tree (and a separate repository's work folder) must be folders of their
    own: a render deletes every file of the tree it does not render, and the work folder is
    cloned into and reset. Paths are compared resolved, so a link cannot hide an overlap."""
    rendered = data.get("rendered") if isinstance(data, dict) else None
    path = rendered.get("path") if isinstance(rendered, dict) else None
    if not isinstance(path, str):
        return  # the schema reports it
    protected = [(_real(root / ".git"), "the platform repository's .git folder")]
    for key, value in (
        ("source.path", _get(data, "source", "path")),
        ("templates", _get(data, "templates")),
    ):
        if isinstance(value, str):
            protected.append((_real(root / value), f"{key} ({value})"))
    repository = rendered.get("repository")
    if isinstance(repository, dict):
        workdir = repository.get("workdir", DEFAULT_WORKDIR)
        if isinstance(workdir, str):
            folder = _real(root / workdir)
            problem = _around_platform(folder, root) or _overlap(folder, protected)
            if problem:
                yield (
                    ("rendered", "repository", "workdir"),
                    f"{problem}; the clone must be a folder of its own",
                    "platform/rendered-workdir",
                )
        return  # rendered.path is a folder inside the clone (platform/rendered-path above)
    tree = _real(root / path)
    if tree == root:
        problem = "is the platform folder itself"
    elif root not in tree.parents:
        problem = "is outside the platform folder"
    else:
        problem = _overlap(tree, protected)
    if problem:
        yield (
            ("rendered", "path"),
            f"{problem}; the rendered tree must be a folder of its own inside the platform "
            "folder (e.g. 'rendered'): a render deletes every file in it that it does not render",
            "platform/rendered-path",
        )


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _around_platform(folder: Path, root: Path) -> str:
    if folder == root:
        return "is the platform folder itself"
    if folder in root.parents:
        return "contains the platform folder"
    return ""


def _overlap(folder: Path, protected: list[tuple[Path, str]]) -> str:
    for other, name in protected:
        if folder == other:
            return f"is {name}"
        if other in folder.parents:
            return f"is inside {name}"
        if folder in other.parents:
            return f"contains {name}"
    return ""


def _listen_problems(data: Any) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """The gateway's two servers each need a valid port, and not the same one: public
    traffic reaches only the public server because it arrives on a port of its own."""
    gateway = data.get("gateway") if isinstance(data, dict) else None
    listen = gateway.get("listen", {}) if isinstance(gateway, dict) else None
    if not isinstance(listen, dict):
        return
    defaults = {"internal": Gateway.listen_internal, "public": Gateway.listen_public}
    ports: dict[str, str] = {}
    for server, default in defaults.items():
        address = listen.get(server, default)
        port = str(address).rpartition(":")[2]
        if isinstance(address, bool) or not port.isdigit():
            continue  # the schema reports it
        if not 1 <= int(port) <= 65535:
            yield ("gateway", "listen", server), "port must be between 1 and 65535", "platform/port"
        ports[server] = port
    if len(ports) == 2 and ports["internal"] == ports["public"]:
        yield (
            ("gateway", "listen", "public"),
            "the public server needs a port of its own "
            f"(the internal server listens on {ports['internal']})",
            "platform/shared-port",
        )


def _github(data: dict[str, Any], root: Path) -> GitHubSettings:
    auth = dict(data.get("auth", {}))
    if "private_key_file" in auth:
        auth["private_key_file"] = root / auth["private_key_file"]
    plain = {k: v for k, v in data.items() if k not in {"auth", "limits"}}
    for key in ("include_topics", "exclude_topics"):
        if key in plain:
            plain[key] = tuple(plain[key])
    return GitHubSettings(
        **plain, auth=GitHubAuth(**auth), limits=GitHubLimits(**data.get("limits", {}))
    )


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
        github=_github(github, root),
        source_type=source["type"],
        source_path=(root / source["path"]) if "path" in source else None,
        rendered_path=_normal(tree_base / rendered["path"]),
        registry=data["registry"],
        artifact_store=data["artifact_store"],
        gateway=_gateway(data["gateway"]),
        environments=tuple(
            Environment(
                name,
                env["gateway"]["internal_host"],
                env["gateway"]["public_host"],
                tuple(env["gateway"].get("resolver", DEFAULT_RESOLVER)),
            )
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
        jenkins=_jenkins(data.get("jenkins", {})),
        consul_prefix=data.get("consul", {}).get("prefix", "modelship/models"),
        max_delete_share=data.get("safety", {}).get("max_delete_share", 0.25),
        templates_path=(root / templates) if templates else None,
        root=root,
        rendered_repository=repository,
        publish=_publish(data.get("publish", {})),
    )


def _normal(path: Path) -> Path:
    """``a/../b`` → ``b``: paths are compared, and shown, as the folders they name."""
    return Path(os.path.normpath(path))


def _rendered_repository(data: dict[str, Any] | None, root: Path) -> RenderedRepository | None:
    if data is None:
        return None
    return RenderedRepository(
        url=data["url"],
        branch=data.get("branch", "main"),
        workdir=_normal(root / data.get("workdir", DEFAULT_WORKDIR)),
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


def _jenkins(data: dict[str, Any]) -> JenkinsSettings:
    fallback = JenkinsSettings()
    return JenkinsSettings(
        agent_label=data.get("agent_label", fallback.agent_label),
        registry_credentials=data.get("registry_credentials", fallback.registry_credentials),
        git_credentials=data.get("git_credentials", fallback.git_credentials),
        builds_to_keep=data.get("builds_to_keep", fallback.builds_to_keep),
        base_images={**fallback.base_images, **data.get("base_images", {})},
        dispatch=(
            DispatchSettings(data["dispatch"]["repository"], data["dispatch"]["credentials"])
            if "dispatch" in data
            else None
        ),
    )


def _gateway(data: dict[str, Any]) -> Gateway:
    listen = data.get("listen", {})
    fallback = Gateway(data["namespace"])
    return Gateway(
        namespace=data["namespace"],
        name=data.get("name", fallback.name),
        max_body_size=data.get("max_body_size", fallback.max_body_size),
        listen_internal=str(listen.get("internal", fallback.listen_internal)),
        listen_public=str(listen.get("public", fallback.listen_public)),
    )
