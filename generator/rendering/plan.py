"""The tree assembler: every file of the rendered tree, and index.json.   (pure)

``plan(platform, models, renderer, states, placements, preserved)`` is a pure function of
its inputs: no network, no clock, no randomness, everything sorted, so the same inputs give
byte-identical output. Each target of the registry (``targets/registry.py``) chooses
templates and the paths their output goes to; the assembler refuses two targets writing
one path and records in index.json which files each model owns and what runs of it in
each environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from generator import environments, index
from generator.config.settings import Platform
from generator.environments import EnvironmentPlan, Placements
from generator.errors import TemplateError
from generator.model import Model
from generator.rendering.deployment import EnvironmentRelease, ModelDeployment, Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.targets.registry import ALL_TARGETS
from generator.rendering.templating import Renderer


def plan(
    platform: Platform,
    models: Sequence[Model],
    renderer: Renderer,
    states: Mapping[str, index.ModelState] | None = None,
    placements: Placements | None = None,
    preserved: Sequence[index.Preserved] = (),
) -> dict[str, bytes]:
    """Every file of the rendered tree, by path relative to its root.

    ``states`` gives index.json's state of a model by id (default: deployed);
    ``placements`` what runs in each environment (default: every model in each
    environment that follows the sources, none in a promoted one). ``preserved`` are
    models whose index.json entry is damaged: their files and entries are kept as they
    are, and the files that list an environment's models (kustomizations, the gateway's,
    Consul's) still list them there."""
    states = states or {}
    if placements is None:
        placements = environments.place(platform, models, states, index.Index(), {}, {})
    ordered = sorted(models, key=lambda m: m.id)
    kept = sorted(preserved, key=lambda p: p.id)
    shared_values: dict[str, ModelDeployment] = {}
    release = Release(
        models=tuple(ModelDeployment.of(platform, m) for m in ordered),
        environments=tuple(
            _environment_release(platform, placed, shared_values, kept)
            for placed in placements.environments
        ),
    )
    files: dict[str, RenderedFile] = {}
    for target in ALL_TARGETS:
        for rendered in target.render(platform, release, renderer):
            if rendered.path in files:
                raise TemplateError(f"two targets write {rendered.path}")
            files[rendered.path] = rendered
    owned: dict[str, list[str]] = {m.id: [] for m in ordered}
    for rendered in files.values():
        if rendered.owner is not None:
            owned[rendered.owner].append(rendered.path)
    shared = [path for path, rendered in files.items() if rendered.owner is None]
    for item in kept:
        for path, content in item.files.items():
            # What this render writes wins: a preserved model never overwrites another's file.
            files.setdefault(path, RenderedFile(path, content, owner=item.id))
    files[index.INDEX_PATH] = RenderedFile(
        index.INDEX_PATH,
        index.dumps(
            _entries(ordered, states, owned, placements, release),
            shared,
            (item.damaged for item in kept),
        ),
    )
    renderer.forget()
    return {path: files[path].content for path in sorted(files)}


def _environment_release(
    platform: Platform,
    placed: EnvironmentPlan,
    shared: dict[str, ModelDeployment],
    preserved: Sequence[index.Preserved],
) -> EnvironmentRelease:
    """The environment's deployments; one equal to a model's deployment in an environment
    before is that very object, so the templates it feeds are rendered once for both
    (the renderer memoises by the identity of the values a template reads)."""
    env = placed.environment
    deployments = []
    for model_id, running in sorted(placed.placed.items()):
        deployment = ModelDeployment.of(platform, running.model, env)
        known = shared.setdefault(model_id, deployment)
        deployments.append(known if known == deployment else deployment)
    return EnvironmentRelease(
        env,
        tuple(deployments),
        tuple(item for item in preserved if item.runs_in(env.name)),
    )


def _entries(
    models: Sequence[Model],
    states: Mapping[str, index.ModelState],
    owned: Mapping[str, list[str]],
    placements: Placements,
    release: Release,
) -> list[index.IndexEntry]:
    deployments = {
        env.environment.name: {d.id: d for d in env.deployments} for env in release.environments
    }
    entries = []
    for model in models:
        status = states.get(model.id, index.ModelState())
        where = {}
        waiting = {
            placed.environment.name: placed.waiting[model.id]
            for placed in placements.environments
            if model.id in placed.waiting
        }
        for placed in placements.environments:
            running = placed.placed.get(model.id)
            if running is not None:
                deployment = deployments[placed.environment.name][model.id]
                where[placed.environment.name] = deployment.placement(
                    running.state, running.promotion
                )
        entries.append(
            index.IndexEntry(
                model=model,
                state=status.state,
                files=tuple(owned[model.id]),
                errors=status.errors,
                environments=where,
                waiting=waiting,
            )
        )
    return entries
