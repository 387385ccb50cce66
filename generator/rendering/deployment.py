"""Model + Platform (+ Environment) → ModelDeployment: every derived value a template
needs.   (pure)

Templates print whole values only (``{{ m.image }}``, never
``{{ registry }}/{{ id }}``), because each printed value is escaped as one
token of the output format; composite values are therefore built here.

A ``Release`` is what the targets render: every model's source state (its Jenkins job
builds it) and, per environment, the deployments that run there — each with that
environment's instances and resources, at the spec and commit that runs there — and the
models kept there as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.config.settings import Environment, Platform
from generator.index import EnvironmentEntry, ModelState, Preserved, Promotion
from generator.model import Model

MODEL_PORT = 8080
MANAGED_BY = "modelship"
ANNOTATION_PREFIX = "modelship.dev"


@dataclass(frozen=True)
class ModelDeployment:
    id: str
    name: str
    team: str
    namespace: str
    description: str
    version: str
    input_type: str
    default_output: str
    exposed: bool
    pickle: bool
    main_language: str
    packages: tuple[str, ...]
    slo_us: int
    instances: int
    image: str
    artifact_uri: str
    repo: str
    commit: str
    clone_url: str
    branch: str
    requests: dict[str, str]
    limits: dict[str, str]
    platform: str
    model: Model
    port: int = MODEL_PORT

    @classmethod
    def of(
        cls, platform: Platform, model: Model, env: Environment | None = None
    ) -> ModelDeployment:
        """The model's deployment in ``env`` (None: as its source asks, for its build)."""
        spec, source = model.spec, model.provenance
        asked = spec.instances if spec.instances is not None else platform.defaults.instances
        requests = {**platform.defaults.requests, **(env.requests if env else {})}
        limits = {**platform.defaults.limits, **(env.limits if env else {})}
        return cls(
            id=spec.id,
            name=spec.name,
            team=spec.team,
            namespace=platform.teams[spec.team].namespace,
            description=spec.description,
            version=spec.version,
            input_type=spec.input_type,
            default_output=spec.default_output,
            exposed=spec.exposed,
            pickle=spec.pickle,
            main_language=spec.main_language,
            packages=spec.packages,
            slo_us=spec.slo if spec.slo is not None else platform.defaults.slo,
            instances=env.instances.apply(asked) if env is not None else asked,
            image=f"{platform.registry}/{spec.id}:{source.short_commit}",
            artifact_uri=f"{platform.artifact_store}/{spec.name}/{spec.version}"
            + (".pkl" if spec.pickle else ".tar"),
            repo=source.repo,
            commit=source.commit,
            clone_url=source.clone_url,
            branch=source.branch,
            requests=dict(sorted(requests.items())),
            limits=dict(sorted(limits.items())),
            platform=platform.name,
            model=model,
        )

    @property
    def image_repository(self) -> str:
        """The image without its tag (the short commit): what the build job pushes to."""
        return self.image.rsplit(":", 1)[0]

    @property
    def short_commit(self) -> str:
        return self.commit[:7]

    @property
    def route(self) -> str:
        """The gateway path callers POST to."""
        return f"/{self.id}/predict"

    @property
    def selector_labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.id, "app.kubernetes.io/instance": self.id}

    @property
    def labels(self) -> dict[str, str]:
        """The recommended app.kubernetes.io labels, plus the owning team."""
        return {
            **self.selector_labels,
            "app.kubernetes.io/version": self.version,
            "app.kubernetes.io/component": "model",
            "app.kubernetes.io/part-of": self.platform,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            f"{ANNOTATION_PREFIX}/team": self.team,
        }

    @property
    def annotations(self) -> dict[str, str]:
        """Where the deployment came from: enough to trace any object back to a commit."""
        return {
            f"{ANNOTATION_PREFIX}/source-repo": self.repo,
            f"{ANNOTATION_PREFIX}/source-commit": self.commit,
            f"{ANNOTATION_PREFIX}/model-version": self.version,
            f"{ANNOTATION_PREFIX}/description": self.description,
        }

    def placement(
        self, status: ModelState | None = None, promotion: Promotion | None = None
    ) -> EnvironmentEntry:
        """What index.json records of this deployment in its environment."""
        status = status or ModelState()
        return EnvironmentEntry(
            model=self.model,
            namespace=self.namespace,
            instances=self.instances,
            slo=self.slo_us,
            image=self.image,
            state=status.state,
            errors=status.errors,
            promotion=promotion,
        )


@dataclass(frozen=True)
class EnvironmentRelease:
    """The deployments of one environment, sorted by id, and the models kept here exactly
    as they were (their index.json entry is damaged): plan() copies their own files, and a
    target whose shared files list the environment's models (a kustomization, the gateway's
    ConfigMaps, kv.json) lists them too."""

    environment: Environment
    deployments: tuple[ModelDeployment, ...]
    preserved: tuple[Preserved, ...] = ()


@dataclass(frozen=True)
class Release:
    """What the targets render: every model's source state (built once, by Jenkins), and
    what runs in each environment."""

    models: tuple[ModelDeployment, ...]
    environments: tuple[EnvironmentRelease, ...]
