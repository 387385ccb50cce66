"""Kubernetes manifests, one kustomize tree per environment.

<env>/kubernetes/kustomization.yaml              the team namespaces
<env>/kubernetes/<namespace>/                    namespace.yaml, kustomization.yaml
<env>/kubernetes/<namespace>/<id>/               the model's objects + kustomization.yaml
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from generator.config.settings import Environment, Platform
from generator.index import Preserved
from generator.rendering.deployment import ModelDeployment
from generator.rendering.targets.base import RenderedFile
from generator.rendering.templating import Renderer


def model_files(deployment: ModelDeployment) -> tuple[str, ...]:
    """The objects a model gets; a disruption budget only when it has more than one pod."""
    files = ["deployment.yaml", "service.yaml", "networkpolicy.yaml"]
    if deployment.instances > 1:
        files.append("pdb.yaml")
    return tuple(sorted(files))


def render(
    platform: Platform,
    deployments: Sequence[ModelDeployment],
    renderer: Renderer,
    *,
    preserved: Sequence[Preserved] = (),
) -> Iterator[RenderedFile]:
    teams = sorted(platform.teams.values(), key=lambda team: team.namespace)
    kept_folders = {path for kept in preserved for path in kept.files}
    for env in platform.environments:
        root = f"{env.name}/kubernetes"
        yield RenderedFile(
            f"{root}/kustomization.yaml",
            renderer.render(
                "kubernetes/kustomization.yaml.j2", resources=[t.namespace for t in teams]
            ),
        )
        for team in teams:
            folder = f"{root}/{team.namespace}"
            members = [d for d in deployments if d.namespace == team.namespace]
            # A preserved model's folder stays listed, so its objects stay applied.
            kept = sorted(
                path.split("/")[-2]
                for path in kept_folders
                if path.startswith(f"{folder}/")
                and path.count("/") == folder.count("/") + 2
                and path.endswith("/kustomization.yaml")
            )
            context = {"platform": platform, "env": env, "team": team}
            yield RenderedFile(
                f"{folder}/namespace.yaml",
                renderer.render("kubernetes/namespace.yaml.j2", **context),
            )
            yield RenderedFile(
                f"{folder}/kustomization.yaml",
                renderer.render(
                    "kubernetes/kustomization.yaml.j2",
                    resources=["namespace.yaml", *sorted({*(d.id for d in members), *kept})],
                ),
            )
            for deployment in members:
                yield from _model(platform, env, deployment, f"{folder}/{deployment.id}", renderer)


def _model(
    platform: Platform,
    env: Environment,
    deployment: ModelDeployment,
    folder: str,
    renderer: Renderer,
) -> Iterator[RenderedFile]:
    names = model_files(deployment)
    context = {"platform": platform, "env": env, "m": deployment, "gateway": platform.gateway}
    for name in names:
        content = renderer.render(f"kubernetes/{name}.j2", **context)
        yield RenderedFile(f"{folder}/{name}", content, owner=deployment.id)
    yield RenderedFile(
        f"{folder}/kustomization.yaml",
        renderer.render("kubernetes/kustomization.yaml.j2", resources=list(names)),
        owner=deployment.id,
    )
