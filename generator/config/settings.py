"""platform.yaml as data: the frozen dataclasses of a Platform.   (pure)

Every default of platform.yaml is written here once, as a field default; the loader
(``loader.py``) passes only the keys a platform.yaml sets, and the JSON schema's
``"default"`` annotations (for editors) are held equal to these by a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
    workdir: Path  # absolute; platform.yaml's rendered.repository.workdir, or DEFAULT_WORKDIR
    branch: str = "main"


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
    # platform.yaml or templates with uncommitted changes: refuse to publish, or warn
    uncommitted_platform: str = "refuse"


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
class ConsulEndpoint:
    """Which Consul key/value store an environment's metadata goes to (`modelship
    sync-consul`). The datacenter and namespace say which store; the address is only the
    way in, and CONSUL_HTTP_ADDR replaces it."""

    address: str | None = None  # [http(s)://]host[:port]; None: CONSUL_HTTP_ADDR or the local agent
    datacenter: str | None = None  # None: the agent's own datacenter
    namespace: str | None = None  # Consul Enterprise; None: CONSUL_NAMESPACE or the token's


@dataclass(frozen=True)
class ConsulSettings:
    timeout: float = 10.0  # seconds for one request to Consul
    endpoints: dict[str, ConsulEndpoint] = field(default_factory=dict)  # environment → store

    def endpoint(self, environment: str) -> ConsulEndpoint:
        return self.endpoints.get(environment, ConsulEndpoint())


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
    mass_delete_floor: int = 1  # a run may always remove this many models, whatever the share
    templates_path: Path | None = None
    root: Path = Path()
    # Set when the rendered tree lives in its own git repository; rendered_path is
    # then <workdir>/<rendered.path>.
    rendered_repository: RenderedRepository | None = None
    publish: PublishSettings = field(default_factory=PublishSettings)
    consul: ConsulSettings = field(default_factory=ConsulSettings)
    config_file: Path | None = None  # the platform.yaml read, absolute; None: not from a file
