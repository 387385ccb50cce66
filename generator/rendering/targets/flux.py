"""Flux: what a cluster whose Flux follows the rendered repository applies, per environment.

<env>/flux/kustomization.yaml       kustomize: the objects below (what `kubectl apply -k` applies
                                    once; afterwards the root Kustomization keeps them current)
<env>/flux/gitrepository.yaml       GitRepository: sync.url at sync.branch, sync.secret
<env>/flux/kustomizations/<name>.yaml
    <platform>                      the root: follows <env>/flux itself
    <platform>-platform             namespaces, the gateway, the teams' service accounts and
                                    RBAC (<env>/flux/platform); waits until all are ready
    <platform>-team-<team>          the team's models (<env>/kubernetes/<namespace>), applied
                                    as the team's own service account into its namespace only,
                                    after the platform part; health checks on its Deployments
<env>/flux/platform/                kustomize: ../../platform and, per team, a ServiceAccount
                                    (in Flux's namespace) with a Role and RoleBinding in the
                                    team's namespace for exactly the kinds a team's folder holds

Flux impersonates a Kustomization's ``serviceAccountName`` in the Kustomization's own
namespace; that account may write only its team's namespace, so a team's Kustomization
cannot write anywhere else whatever its folder held.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generator.config.settings import Environment, Platform, Team
from generator.rendering import agents
from generator.rendering.deployment import EnvironmentRelease, ModelDeployment, Release
from generator.rendering.targets.base import Kind, RenderedFile
from generator.rendering.targets.kubernetes import TEAM_KINDS, kept_models, team_folder, teams_of
from generator.rendering.templating import Renderer

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
KUSTOMIZE = "kubernetes/kustomization.yaml.j2"


@dataclass(frozen=True)
class Rule:
    api_group: str
    resources: tuple[str, ...]


@dataclass(frozen=True)
class HealthCheck:
    api_version: str
    kind: str
    name: str
    namespace: str


@dataclass(frozen=True)
class FluxKustomization:
    name: str
    namespace: str
    source: str
    path: str  # ./ and a folder of the repository
    interval: str
    timeout: str
    wait: bool
    target_namespace: str | None = None
    service_account: str | None = None
    depends_on: tuple[str, ...] = ()
    health_checks: tuple[HealthCheck, ...] = ()


@dataclass(frozen=True)
class Tenant:
    """A team's account for its Kustomization, and what it may do in its namespace."""

    name: str
    namespace: str  # the team's
    account_namespace: str  # Flux's: where the Kustomization and its account live
    team: str
    rules: tuple[Rule, ...]


def rules(kinds: tuple[Kind, ...]) -> tuple[Rule, ...]:
    groups: dict[str, list[str]] = {}
    for kind in kinds:
        groups.setdefault(kind.group, []).append(kind.resource)
    return tuple(Rule(group, tuple(sorted(found))) for group, found in sorted(groups.items()))


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    sync = platform.sync
    for placed in release.environments:
        env = placed.environment
        root = f"{env.name}/flux"
        source = agents.root_name(platform)
        objects = _kustomizations(platform, env, placed)
        files = ["gitrepository.yaml", *(f"kustomizations/{k.name}.yaml" for k in objects)]
        yield RenderedFile(
            f"{root}/kustomization.yaml",
            renderer.render(KUSTOMIZE, resources=sorted(files), namespace=None),
        )
        yield RenderedFile(
            f"{root}/gitrepository.yaml",
            renderer.render(
                "flux/gitrepository.yaml.j2",
                platform=platform,
                name=source,
                ignore=f"/*\n!/{sync.path}/\n",
            ),
        )
        for kustomization in objects:
            yield RenderedFile(
                f"{root}/kustomizations/{kustomization.name}.yaml",
                renderer.render("flux/kustomization.yaml.j2", platform=platform, k=kustomization),
            )
        tenants = [_tenant(platform, team) for team in teams_of(platform)]
        tenant_files = []
        for tenant in tenants:
            for kind in ("serviceaccount", "role", "rolebinding"):
                name = f"{tenant.team}-{kind}.yaml"
                tenant_files.append(name)
                yield RenderedFile(
                    f"{root}/platform/{name}",
                    renderer.render(
                        f"flux/{kind}.yaml.j2", platform=platform, tenant=tenant, verbs=VERBS
                    ),
                )
        yield RenderedFile(
            f"{root}/platform/kustomization.yaml",
            renderer.render(
                KUSTOMIZE, resources=["../../platform", *sorted(tenant_files)], namespace=None
            ),
        )


def _tenant(platform: Platform, team: Team) -> Tenant:
    return Tenant(
        name=agents.team_name(platform, team),
        namespace=team.namespace,
        account_namespace=platform.sync.flux_namespace,
        team=team.name,
        rules=rules(TEAM_KINDS),
    )


def _kustomizations(
    platform: Platform, env: Environment, placed: EnvironmentRelease
) -> list[FluxKustomization]:
    sync = platform.sync
    common = {
        "namespace": sync.flux_namespace,
        "source": agents.root_name(platform),
        "interval": sync.interval,
        "timeout": sync.timeout,
    }
    platform_part = FluxKustomization(
        name=agents.platform_name(platform),
        path=f"./{agents.agent_folder(platform, env, 'flux')}/platform",
        wait=True,
        **common,
    )
    found = [
        FluxKustomization(
            name=agents.root_name(platform),
            path=f"./{agents.agent_folder(platform, env, 'flux')}",
            wait=False,
            **common,
        ),
        platform_part,
    ]
    kept_files = {path for item in placed.preserved for path in item.files}
    by_namespace: dict[str, list[ModelDeployment]] = {}
    for deployment in placed.deployments:
        by_namespace.setdefault(deployment.namespace, []).append(deployment)
    for team in teams_of(platform):
        folder = team_folder(env, team)
        mine = by_namespace.get(team.namespace, ())
        deployments = {d.id for d in mine}
        deployments.update(d.canary.name for d in mine if d.canary)
        # A model kept as it was is applied as the tree holds it, and checked as any other.
        deployments.update(
            model_id
            for model_id in kept_models(folder, placed.preserved)
            if f"{folder}/{model_id}/deployment.yaml" in kept_files
        )
        found.append(
            FluxKustomization(
                name=agents.team_name(platform, team),
                path=f"./{agents.team_part(platform, env, team)}",
                wait=False,
                target_namespace=team.namespace,
                service_account=agents.team_name(platform, team),
                depends_on=(platform_part.name,),
                health_checks=tuple(
                    HealthCheck("apps/v1", "Deployment", model_id, team.namespace)
                    for model_id in sorted(deployments)
                ),
                **common,
            )
        )
    return found
