"""platform.yaml as data: the frozen dataclasses of a Platform.   (pure)

Every default of platform.yaml is written here once, as a field default; the loader
(``loader.py``) passes only the keys a platform.yaml sets, and the JSON schema's
``"default"`` annotations (for editors) are held equal to these by a test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PLATFORM_FILE = "platform.yaml"
DEFAULT_WORKDIR = ".modelship/rendered-repo"  # where a separate rendered repository is cloned
DEFAULT_PROMOTIONS = "promotions"  # the folder of promotions/<environment>.yaml
DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class Team:
    name: str
    namespace: str
    github_teams: tuple[str, ...] = ()


DEFAULT_RESOLVER = ("10.96.0.10",)  # kubeadm's cluster DNS Service address
MIN_INSTANCES, MAX_INSTANCES = 1, 50  # the bounds of a model's replica count, everywhere


@dataclass(frozen=True)
class EnvironmentGateway:
    """The gateway's host names and cluster DNS in one environment."""

    internal_host: str
    public_host: str
    resolver: tuple[str, ...] = DEFAULT_RESOLVER


@dataclass(frozen=True)
class InstanceRule:
    """How an environment sets a model's replicas: ``count`` replaces what the model asks
    for, ``factor`` scales it (rounded up); either way bounded to 1..50. Neither: as asked."""

    count: int | None = None
    factor: float | None = None

    def apply(self, asked: int) -> int:
        if self.count is not None:
            wanted = self.count
        elif self.factor is not None:
            wanted = math.ceil(asked * self.factor - 1e-9)
        else:
            wanted = asked
        return max(MIN_INSTANCES, min(MAX_INSTANCES, wanted))


@dataclass(frozen=True)
class ModelSelection:
    """Which models run in an environment: those of ``teams`` (None: every team), except the
    ids in ``exclude``; a model may also opt out itself (its MLproject's skip_environments)."""

    teams: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()

    def admits(self, team: str, model_id: str) -> bool:
        return (self.teams is None or team in self.teams) and model_id not in self.exclude


@dataclass(frozen=True)
class ConsulEndpoint:
    """Which Consul key/value store an environment's metadata goes to (`modelship
    sync-consul`). The datacenter and namespace say which store; the address is only the
    way in, and CONSUL_HTTP_ADDR replaces it."""

    address: str | None = None  # [http(s)://]host[:port]; None: CONSUL_HTTP_ADDR or the local agent
    datacenter: str | None = None  # None: the agent's own datacenter
    namespace: str | None = None  # Consul Enterprise; None: CONSUL_NAMESPACE or the token's


@dataclass(frozen=True)
class Environment:
    """One rendered folder, followed by one cluster's sync agent.

    ``promoted_from`` None: the environment follows the sources (every accepted commit is
    rendered there); else it runs each model at the state ``modelship promote`` recorded
    from that environment (``promotions/<name>.yaml``), until promoted again."""

    name: str
    gateway: EnvironmentGateway
    instances: InstanceRule = field(default_factory=InstanceRule)
    # Container resources that replace the platform defaults here (cpu, memory).
    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    models: ModelSelection = field(default_factory=ModelSelection)
    promoted_from: str | None = None
    consul: ConsulEndpoint = field(default_factory=ConsulEndpoint)  # where sync-consul writes

    @property
    def promoted(self) -> bool:
        return self.promoted_from is not None


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
    # The gateway's own Deployment (rendered/<env>/gateway/): an nginx image with /bin/sh.
    image: str = "docker.io/nginxinc/nginx-unprivileged:1.28-alpine"
    replicas: int = 2
    requests: dict[str, str] = field(default_factory=lambda: {"cpu": "100m", "memory": "64Mi"})
    limits: dict[str, str] = field(default_factory=lambda: {"cpu": "1", "memory": "256Mi"})


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
    branch: str = DEFAULT_BRANCH


@dataclass(frozen=True)
class SyncSettings:
    """What a cluster's sync agent (Flux or Argo CD) follows: the rendered tree's git
    repository (``url``, ``branch``) and the tree's folder in it (``path``)."""

    url: str  # sync.url, else rendered.repository.url
    path: str  # sync.path, else rendered.path: POSIX, relative to the repository's root
    branch: str = DEFAULT_BRANCH  # sync.branch, else rendered.repository.branch
    secret: str = "modelship-git"  # the Secret with the git credentials (SSH key or HTTPS)
    interval: str = "1m"  # how often the agent looks for a new commit
    timeout: str = "5m"  # how long one apply may take to become healthy
    flux_namespace: str = "flux-system"
    argocd_namespace: str = "argocd"


@dataclass(frozen=True)
class PromotionSettings:
    """Where promotion state lives in the platform repository, and its pull requests."""

    path: Path  # absolute; the folder of <environment>.yaml files
    branch: str = "modelship/promote"  # promote/rollback --pr push <branch>-<environment>
    repository: str | None = None  # owner/name on GitHub; None: from the remote's URL


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
class ConsulSettings:
    timeout: float = 10.0  # seconds for one request to Consul


DEFAULT_OBJECTIVE = 99.9  # percent of requests answered by the model itself within its slo


@dataclass(frozen=True)
class PrometheusSettings:
    """The platform's Prometheus (Prometheus Operator): where it runs, which labels its pods
    carry (a model's NetworkPolicy admits exactly those pods, to the metrics port), and the
    labels its serviceMonitorSelector and ruleSelector pick objects by."""

    namespace: str
    pod_labels: dict[str, str]
    object_labels: dict[str, str] = field(default_factory=dict)
    scrape_interval: str = "30s"


@dataclass(frozen=True)
class GrafanaSettings:
    """Where the per-team dashboards go: ConfigMaps in ``namespace`` with the label the
    Grafana chart's dashboard sidecar watches; ``url`` makes the alerts' dashboard links."""

    namespace: str
    url: str
    dashboard_label: str = "grafana_dashboard"
    dashboard_label_value: str = "1"


@dataclass(frozen=True)
class GatewayExporter:
    """The gateway's metrics sidecar: nginx sends each access-log line to it over syslog
    (UDP, on the pod's loopback), and it serves the counters on ``port``. ``image`` None:
    the platform's model-server base image (jenkins.base_images.python), which holds it."""

    image: str | None = None
    port: int = 9113
    syslog_port: int = 9514


@dataclass(frozen=True)
class Monitoring:
    """platform.yaml's ``monitoring``: present, every model gets a ServiceMonitor, a
    PrometheusRule (SLO burn-rate, fallback share, no ready replicas) and a NetworkPolicy rule
    admitting Prometheus; the gateway gets its exporter; with ``grafana``, team dashboards."""

    prometheus: PrometheusSettings
    objective: float = DEFAULT_OBJECTIVE  # percent; the rules compute with its decimal spelling
    runbook_url: str | None = None  # the alerts' runbook: <runbook_url>#<alert name, lowercased>
    fallback_share: float = 5.0  # percent of default answers at the gateway that alerts
    grafana: GrafanaSettings | None = None
    gateway_exporter: GatewayExporter = field(default_factory=GatewayExporter)


@dataclass(frozen=True)
class ImageGate:
    """Before a model's new image is rendered into an environment, the registry is asked
    (``HEAD /v2/<name>/manifests/<tag>``) whether it exists; until it does, the model stays
    at the image it ran (``waiting-for-image``). The credentials are read from the
    environment variables named here, never from platform.yaml."""

    enabled: bool = True
    username_env: str | None = None  # None: ask anonymously
    password_env: str | None = None
    scheme: str = "https"  # http only for a registry on loopback or behind a trusted proxy
    timeout: float = 10.0  # seconds per request
    retries: int = 3  # retries of one request after a timeout, a broken connection, 429 or 5xx
    backoff: float = 0.5  # seconds before the first retry, doubled for each next one


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
    sync: SyncSettings
    promotions: PromotionSettings
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
    monitoring: Monitoring | None = None  # None: no Prometheus objects, no gateway exporter
    image_gate: ImageGate = field(default_factory=ImageGate)
    config_file: Path | None = None  # the platform.yaml read, absolute; None: not from a file

    def environment(self, name: str) -> Environment | None:
        return next((env for env in self.environments if env.name == name), None)

    @property
    def promoted_from(self) -> dict[str, str]:
        """Each promoted environment → the environment it is promoted from."""
        return {env.name: env.promoted_from for env in self.environments if env.promoted_from}
