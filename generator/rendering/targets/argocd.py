"""Argo CD: what a cluster whose Argo CD follows the rendered repository applies, per
environment.

<env>/argocd/kustomization.yaml         kustomize: the objects below (`kubectl apply -k` once;
                                        afterwards the root Application keeps them current)
<env>/argocd/projects/<name>.yaml       AppProjects:
    <platform>                          the root's: only Applications and AppProjects, only
                                        in Argo CD's namespace
    <platform>-platform                 Namespaces, and the gateway's kinds in its namespace
    <platform>-team-<team>              the team's namespace as the only destination, the kinds
                                        a team's folder holds as the only kinds, no cluster kind
<env>/argocd/applications/<name>.yaml   Applications, one per project, each following its
                                        folder with automated sync, prune and self-heal

Applications rather than one ApplicationSet: each team's Application is then a plain,
reviewable file in the tree, with nothing generated in the cluster from templates; and
none carries the resources finalizer, so removing an Application (say, by a bad commit
to this folder) leaves its models running instead of cascading a deletion. Automated
sync never empties an application (``allowEmpty: false``), prunes last, and refuses to
take over an object another application manages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generator.config.settings import Platform
from generator.rendering import agents, observability
from generator.rendering.deployment import Release
from generator.rendering.targets.base import Kind, RenderedFile
from generator.rendering.targets.gateway import GATEWAY_KINDS
from generator.rendering.targets.kubernetes import TEAM_KINDS, teams_of
from generator.rendering.templating import Renderer

ARGO_KINDS = (
    Kind("argoproj.io", "AppProject", "appprojects"),
    Kind("argoproj.io", "Application", "applications"),
)
NAMESPACE_KIND = (Kind("", "Namespace", "namespaces"),)
KUSTOMIZE = "kubernetes/kustomization.yaml.j2"


@dataclass(frozen=True)
class Project:
    name: str
    description: str
    destinations: tuple[str, ...]  # namespaces of the cluster Argo CD runs in
    cluster_kinds: tuple[Kind, ...]
    namespace_kinds: tuple[Kind, ...]


@dataclass(frozen=True)
class Application:
    name: str
    project: str
    path: str  # a folder of the repository
    destination: str  # namespace
    wave: str  # sync wave: the platform part before the teams


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    sync = platform.sync
    root_name = agents.root_name(platform)
    platform_name = agents.platform_name(platform)
    for placed in release.environments:
        env = placed.environment
        projects = [
            Project(
                root_name,
                f"{platform.name} ({env.name}): the Argo CD objects of the platform",
                (sync.argocd_namespace,),
                (),
                ARGO_KINDS,
            ),
            Project(
                platform_name,
                f"{platform.name} ({env.name}): namespaces and the model gateway",
                (platform.gateway.namespace, *observability.dashboard_namespaces(platform)),
                NAMESPACE_KIND,
                GATEWAY_KINDS,
            ),
        ]
        applications = [
            Application(
                root_name,
                root_name,
                agents.agent_folder(platform, env, "argocd"),
                sync.argocd_namespace,
                "-2",
            ),
            Application(
                platform_name,
                platform_name,
                agents.platform_part(platform, env),
                platform.gateway.namespace,
                "-1",
            ),
        ]
        for team in teams_of(platform):
            name = agents.team_name(platform, team)
            projects.append(
                Project(
                    name,
                    f"{platform.name} ({env.name}): the models of team {team.name}",
                    (team.namespace,),
                    (),
                    TEAM_KINDS,
                )
            )
            applications.append(
                Application(name, name, agents.team_part(platform, env, team), team.namespace, "0")
            )
        root = f"{env.name}/argocd"
        files = []
        for project in projects:
            path = f"projects/{project.name}.yaml"
            files.append(path)
            yield RenderedFile(
                f"{root}/{path}",
                renderer.render(
                    "argocd/appproject.yaml.j2",
                    platform=platform,
                    p=project,
                    server=agents.IN_CLUSTER,
                ),
            )
        for application in applications:
            path = f"applications/{application.name}.yaml"
            files.append(path)
            yield RenderedFile(
                f"{root}/{path}",
                renderer.render(
                    "argocd/application.yaml.j2",
                    platform=platform,
                    a=application,
                    server=agents.IN_CLUSTER,
                ),
            )
        yield RenderedFile(
            f"{root}/kustomization.yaml",
            renderer.render(KUSTOMIZE, resources=sorted(files), namespace=None),
        )
