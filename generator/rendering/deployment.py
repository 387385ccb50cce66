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

from generator.config.settings import DEFAULT_OBJECTIVE, Environment, Platform
from generator.index import EnvironmentEntry, ModelState, Preserved, Promotion
from generator.model import Model

MODEL_PORT = 8080
MANAGED_BY = "modelship"
ANNOTATION_PREFIX = "modelship.dev"
TRACK_LABEL = f"{ANNOTATION_PREFIX}/track"  # stable | canary, on a model's pods
CANARY_SUFFIX = "-canary"


def image_of(platform: Platform, model_id: str, commit: str) -> str:
    """The image the build job pushes for a model's repository at ``commit``."""
    return f"{platform.registry}/{model_id}:{commit[:7]}"


def canary_replicas(instances: int, weight: int) -> int:
    """A canary's pods: its share of the model's, rounded up, at least one."""
    return max(1, -(-instances * weight // 100))


def image_refs(platform: Platform, model: Model) -> tuple[str, ...]:
    """Every image a model's state needs to run: its own and, with a canary, the canary's.
    The one place that says so: the registry gate asks for each, ``status`` expects each."""
    own = image_reference(platform, model)
    canary = model.spec.canary
    return (own,) if canary is None else (own, image_of(platform, model.spec.id, canary.commit))


@dataclass(frozen=True)
class Workload:
    """One Deployment of a model and its Service: the model's own, or its canary's."""

    name: str
    namespace: str
    version: str
    image: str
    replicas: int
    labels: dict[str, str]
    selector_labels: dict[str, str]
    pod_labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class CanaryDeployment:
    """A second version of a model beside it (its MLproject's ``canary``): its own
    Deployment and Service (``<id>-canary``), pods labelled ``track: canary``, ``weight``
    percent of the model's requests at the gateway."""

    name: str
    namespace: str
    commit: str
    version: str
    weight: int
    image: str
    labels: dict[str, str]
    selector_labels: dict[str, str]
    annotations: dict[str, str]

    replicas: int

    @property
    def short_commit(self) -> str:
        return self.commit[:7]

    @property
    def workload(self) -> Workload:
        return Workload(
            name=self.name,
            namespace=self.namespace,
            version=self.version,
            image=self.image,
            replicas=self.replicas,
            labels=self.labels,
            selector_labels=self.selector_labels,
            pod_labels={**self.labels, TRACK_LABEL: "canary"},
            annotations=self.annotations,
        )


def model_labels(
    platform: Platform, team: str, selector: dict[str, str], version: str
) -> dict[str, str]:
    """The recommended app.kubernetes.io labels of a model's objects (or its canary's, by
    ``selector``), plus the owning team."""
    return {
        **selector,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/component": "model",
        "app.kubernetes.io/part-of": platform.name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        f"{ANNOTATION_PREFIX}/team": team,
    }


@dataclass(frozen=True)
class ModelIdentity:
    """A model's names, labels and source: alike in every environment that runs it at one
    state, whatever its instances and resources there. What its Service, NetworkPolicy and
    route print (``model`` in their templates). Environments that run a
    model alike share one such object (``ModelDeployment.of``'s ``like``): the renderer
    memoises by the identity of the values a template reads, so it renders those files once."""

    name: str  # the model's id: the name of its Deployment, Service and NetworkPolicy
    namespace: str
    repo: str
    commit: str
    labels: dict[str, str]  # model_labels
    selector_labels: dict[str, str]
    # Every pod of the model, its canary's too (their instance labels differ).
    model_pod_selector: dict[str, str]

    @classmethod
    def of(cls, platform: Platform, model: Model) -> ModelIdentity:
        spec = model.spec
        selector = {"app.kubernetes.io/name": spec.id, "app.kubernetes.io/instance": spec.id}
        return cls(
            name=spec.id,
            namespace=platform.teams[spec.team].namespace,
            repo=model.provenance.repo,
            commit=model.provenance.commit,
            labels=model_labels(platform, spec.team, selector, spec.version),
            selector_labels=selector,
            model_pod_selector={
                "app.kubernetes.io/name": spec.id,
                "app.kubernetes.io/component": "model",
            },
        )


def image_reference(platform: Platform, model: Model) -> str:
    """The model image its build job pushes for this state: ``<registry>/<id>:<commit7>``."""
    return image_of(platform, model.spec.id, model.provenance.commit)


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
    objective: float  # percent: the MLproject's slo_objective, else monitoring.objective
    identity: ModelIdentity
    canary: CanaryDeployment | None = None
    port: int = MODEL_PORT

    @classmethod
    def of(
        cls,
        platform: Platform,
        model: Model,
        env: Environment | None = None,
        like: ModelDeployment | None = None,
    ) -> ModelDeployment:
        """The model's deployment in ``env`` (None: as its source asks, for its build);
        ``like``: its deployment in another environment, whose identity it shares when the
        two are alike."""
        spec, source = model.spec, model.provenance
        identity = ModelIdentity.of(platform, model)
        if like is not None and like.identity == identity:
            identity = like.identity
        asked = spec.instances if spec.instances is not None else platform.defaults.instances
        instances = env.instances.apply(asked) if env is not None else asked
        objective = spec.slo_objective
        if objective is None:
            objective = platform.monitoring.objective if platform.monitoring else DEFAULT_OBJECTIVE
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
            instances=instances,
            image=image_reference(platform, model),
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
            objective=objective,
            identity=identity,
            canary=_canary(platform, model, instances),
        )

    @property
    def image_refs(self) -> tuple[str, ...]:
        """Every image this deployment runs (``image_refs`` of its model)."""
        return (self.image,) if self.canary is None else (self.image, self.canary.image)

    @property
    def workload(self) -> Workload:
        return Workload(
            name=self.id,
            namespace=self.namespace,
            version=self.version,
            image=self.image,
            replicas=self.instances,
            labels=self.labels,
            selector_labels=self.selector_labels,
            pod_labels={**self.labels, TRACK_LABEL: "stable"},
            annotations=self.annotations,
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
        return self.identity.selector_labels

    @property
    def model_pod_selector(self) -> dict[str, str]:
        return self.identity.model_pod_selector

    @property
    def labels(self) -> dict[str, str]:
        return self.identity.labels

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


def _canary(platform: Platform, model: Model, instances: int) -> CanaryDeployment | None:
    """The canary of ``model``, if it has one: its share of the model's pods (rounded up, at
    least one) for its share of the requests."""
    spec = model.spec
    if spec.canary is None:
        return None
    name = f"{spec.id}{CANARY_SUFFIX}"
    version = spec.canary.version or spec.version
    selector = {"app.kubernetes.io/name": spec.id, "app.kubernetes.io/instance": name}
    return CanaryDeployment(
        name=name,
        namespace=platform.teams[spec.team].namespace,
        commit=spec.canary.commit,
        version=version,
        weight=spec.canary.weight,
        image=image_of(platform, spec.id, spec.canary.commit),
        replicas=canary_replicas(instances, spec.canary.weight),
        labels=model_labels(platform, spec.team, selector, version),
        selector_labels=selector,
        annotations={
            f"{ANNOTATION_PREFIX}/source-repo": model.provenance.repo,
            f"{ANNOTATION_PREFIX}/source-commit": spec.canary.commit,
            f"{ANNOTATION_PREFIX}/model-version": version,
            f"{ANNOTATION_PREFIX}/description": spec.description,
        },
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
    # Models whose own files plan() takes from the tree, unchanged since they were written
    # (their digests match index.json's): targets write the files of the others only.
    reused: frozenset[str] = frozenset()

    def renders(self, model_id: str) -> bool:
        """Whether a target writes the files ``model_id`` owns (else plan() copies them)."""
        return model_id not in self.reused
