"""What an environment should run (its index.json placements) against what its cluster runs
(``cluster.ClusterView``): one row per Deployment, each flagged when it differs.   (pure)

A Deployment matches when the cluster has it, its pod template asks for the rendered image,
every pod runs that image, and all the rendered replicas are ready with no rollout left.
Otherwise the row says what differs: ``not running`` (rendered, absent from the cluster, or
its namespace is), ``not rendered`` (a Modelship Deployment the index does not place here),
``image`` (the template or a pod runs another image), ``replicas`` (fewer ready than rendered,
or another count), ``rollout in progress``, ``rollout stuck``.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.config.settings import Platform
from generator.index import Index
from generator.rendering.deployment import CANARY_SUFFIX, canary_replicas, image_of

MATCHES = "ok"


@dataclass(frozen=True)
class Workload:
    """One Deployment as the cluster has it."""

    name: str
    namespace: str
    model: str  # its app.kubernetes.io/name
    desired: int
    ready: int
    updated: int
    image: str  # what its pod template asks for
    running: tuple[str, ...]  # the images its pods run (containerStatuses), sorted, distinct
    rolling_out: bool  # a new template not yet on every pod, or not yet observed
    stuck: str  # the Progressing condition's message when the rollout timed out, else ""


@dataclass(frozen=True)
class ClusterView:
    missing_namespaces: frozenset[str]
    workloads: dict[tuple[str, str], Workload]  # (namespace, name) → workload


@dataclass(frozen=True)
class Rendered:
    """One Deployment the tree renders for an environment."""

    model: str
    name: str
    namespace: str
    image: str
    replicas: int
    commit: str  # short


@dataclass(frozen=True)
class Row:
    model: str
    deployment: str
    namespace: str
    rendered: Rendered | None
    live: Workload | None
    differences: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.differences

    @property
    def verdict(self) -> str:
        return "; ".join(self.differences) if self.differences else MATCHES


def rendered(platform: Platform, index: Index, environment: str) -> list[Rendered]:
    """The Deployments ``environment`` runs as index.json places them: each model's, and its
    canary's (a canary takes its share of the model's replicas, at least one)."""
    found = []
    for model_id, entry in sorted(index.in_environment(environment).items()):
        model = entry.model
        found.append(
            Rendered(
                model_id,
                model_id,
                entry.namespace,
                entry.image,
                entry.instances,
                model.provenance.short_commit,
            )
        )
        canary = model.spec.canary
        if canary is not None:
            found.append(
                Rendered(
                    model_id,
                    f"{model_id}{CANARY_SUFFIX}",
                    entry.namespace,
                    image_of(platform, model_id, canary.commit),
                    canary_replicas(entry.instances, canary.weight),
                    canary.commit[:7],
                )
            )
    return found


def compare(expected: list[Rendered], view: ClusterView) -> list[Row]:
    rows = []
    seen: set[tuple[str, str]] = set()
    for item in expected:
        key = (item.namespace, item.name)
        seen.add(key)
        live = view.workloads.get(key)
        rows.append(
            Row(item.model, item.name, item.namespace, item, live, _differences(item, live, view))
        )
    for key, live in sorted(view.workloads.items()):
        if key not in seen:
            rows.append(Row(live.model, live.name, live.namespace, None, live, ("not rendered",)))
    return sorted(rows, key=lambda r: (r.model, r.deployment, r.namespace))


def _differences(item: Rendered, live: Workload | None, view: ClusterView) -> tuple[str, ...]:
    if live is None:
        if item.namespace in view.missing_namespaces:
            return (f"not running (no namespace {item.namespace})",)
        return ("not running",)
    found = []
    if live.image != item.image:
        found.append(f"image: the cluster's Deployment asks for {live.image}")
    other = [image for image in live.running if image != item.image]
    if other:
        found.append(f"image: pods run {', '.join(other)}")
    if live.desired != item.replicas:
        found.append(f"replicas: {live.desired} in the cluster, {item.replicas} rendered")
    if live.stuck:
        found.append(f"rollout stuck: {live.stuck}")
    elif live.rolling_out:
        found.append("rollout in progress")
    if live.ready < item.replicas and not live.stuck:
        found.append(f"ready: {live.ready}/{item.replicas}")
    return tuple(found)
