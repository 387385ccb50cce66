"""Kubernetes manifests, one kustomize tree per environment.

<env>/platform/kustomization.yaml                the platform part: the team namespaces and
<env>/platform/namespaces/<namespace>.yaml       the gateway (../gateway), applied first
<env>/kubernetes/kustomization.yaml              the whole environment: ../platform + every team
<env>/kubernetes/<namespace>/kustomization.yaml  a team's models: what its sync object applies
<env>/kubernetes/<namespace>/<id>/               the model's objects + kustomization.yaml

A team's folder holds only namespaced objects of the kinds in ``TEAM_KINDS``, and its
kustomization sets the team's namespace on every one of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from generator.config.settings import Environment, Platform, Team
from generator.index import Preserved
from generator.rendering import observability
from generator.rendering.deployment import ModelDeployment, Release
from generator.rendering.targets.base import Kind, RenderedFile
from generator.rendering.templating import Renderer

# Every kind of object a team's folder holds: its sync object may write these, and only
# these, in its namespace (Flux RBAC, Argo CD project whitelist).
TEAM_KINDS = (
    Kind("apps", "Deployment", "deployments"),
    Kind("", "Service", "services"),
    Kind("networking.k8s.io", "NetworkPolicy", "networkpolicies"),
    Kind("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
    *observability.MONITORING_KINDS,
)
KUSTOMIZATION = "kubernetes/kustomization.yaml.j2"


def platform_folder(env: Environment) -> str:
    return f"{env.name}/platform"


def team_folder(env: Environment, team: Team) -> str:
    return f"{env.name}/kubernetes/{team.namespace}"


def model_files(platform: Platform, deployment: ModelDeployment) -> tuple[str, ...]:
    """The objects a model gets; a disruption budget only when it has more than one pod, a
    Deployment and Service of its own for a canary, and what monitoring adds."""
    files = ["deployment.yaml", "service.yaml", "networkpolicy.yaml"]
    if deployment.instances > 1:
        files.append("pdb.yaml")
    if deployment.canary is not None:
        files.extend(CANARY_FILES)
    files.extend(observability.model_files(platform))
    return tuple(sorted(files))


# The files of a model's folder rendered here (monitoring's come from its own target).
OWN_FILES = ("deployment.yaml", "service.yaml", "networkpolicy.yaml", "pdb.yaml")
CANARY_FILES = ("canary-deployment.yaml", "canary-service.yaml")


def teams_of(platform: Platform) -> list[Team]:
    return sorted(platform.teams.values(), key=lambda team: team.namespace)


def kept_models(folder: str, preserved: Sequence[Preserved]) -> list[str]:
    """The models kept exactly as they were (``preserved``) whose own folder is in
    ``folder``: the names of the ``<folder>/<name>/kustomization.yaml`` among their files."""
    found = set()
    for item in preserved:
        for path in item.files:
            rest = path.removeprefix(f"{folder}/")
            if rest != path and rest.count("/") == 1 and rest.endswith("/kustomization.yaml"):
                found.add(rest.split("/")[0])
    return sorted(found)


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    teams = teams_of(platform)
    # A model folder's kustomization lists its files: one list for every folder of those
    # files, so that the renderer (memoising by the values' identity) renders it once.
    listed: dict[tuple[str, ...], list[str]] = {}
    for placed in release.environments:
        env = placed.environment
        yield from _platform_part(platform, env, teams, renderer)
        root = f"{env.name}/kubernetes"
        yield RenderedFile(
            f"{root}/kustomization.yaml",
            renderer.render(
                KUSTOMIZATION,
                resources=["../platform", *(t.namespace for t in teams)],
                namespace=None,
            ),
        )
        by_namespace: dict[str, list[ModelDeployment]] = {}
        for deployment in placed.deployments:
            by_namespace.setdefault(deployment.namespace, []).append(deployment)
        for team in teams:
            folder = team_folder(env, team)
            members = by_namespace.get(team.namespace, [])
            # A preserved model's folder stays listed, so its objects stay applied.
            kept = kept_models(folder, placed.preserved)
            yield RenderedFile(
                f"{folder}/kustomization.yaml",
                renderer.render(
                    KUSTOMIZATION,
                    resources=sorted({*(d.id for d in members), *kept}),
                    namespace=team.namespace,
                ),
            )
            for deployment in members:
                if release.renders(deployment.id):
                    yield from _model(
                        platform, env, deployment, f"{folder}/{deployment.id}", renderer, listed
                    )


def _platform_part(
    platform: Platform, env: Environment, teams: list[Team], renderer: Renderer
) -> Iterator[RenderedFile]:
    folder = platform_folder(env)
    names = [f"namespaces/{team.namespace}.yaml" for team in teams]
    parts = ["../gateway"]
    if observability.has_dashboards(platform):
        parts.append(f"../{observability.DASHBOARDS_FOLDER}")
    yield RenderedFile(
        f"{folder}/kustomization.yaml",
        renderer.render(KUSTOMIZATION, resources=[*names, *parts], namespace=None),
    )
    for team, name in zip(teams, names, strict=True):
        yield RenderedFile(
            f"{folder}/{name}",
            renderer.render(
                "kubernetes/namespace.yaml.j2",
                platform=platform,
                namespace=team.namespace,
                team=team.name,
            ),
        )


def _model(
    platform: Platform,
    env: Environment,
    deployment: ModelDeployment,
    folder: str,
    renderer: Renderer,
    listed: dict[tuple[str, ...], list[str]],
) -> Iterator[RenderedFile]:
    names = model_files(platform, deployment)
    context = {
        "platform": platform,
        "env": env,
        "m": deployment,
        "model": deployment.identity,
        "gateway": platform.gateway,
        "prometheus": platform.monitoring.prometheus if platform.monitoring else None,
    }
    for name in names:
        if name in OWN_FILES or name in CANARY_FILES:
            content = renderer.render(f"kubernetes/{name}.j2", **context)
            yield RenderedFile(f"{folder}/{name}", content, owner=deployment.id)
    yield RenderedFile(
        f"{folder}/kustomization.yaml",
        renderer.render(
            KUSTOMIZATION, resources=listed.setdefault(names, list(names)), namespace=None
        ),
        owner=deployment.id,
    )
