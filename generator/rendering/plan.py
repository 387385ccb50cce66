"""The tree assembler: every file of the rendered tree, and index.json.   (pure)

``plan(platform, models, renderer, states, placements, preserved)`` is a pure function of
its inputs: no network, no clock, no randomness, everything sorted, so the same inputs give
byte-identical output. Each target of the registry (``targets/registry.py``) chooses
templates and the paths their output goes to; the assembler refuses two targets writing
one path and records in index.json which files each model owns and what runs of it in
each environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace

from generator import digests, environments, index
from generator.config.settings import Platform
from generator.digests import Digests
from generator.environments import EnvironmentPlan, Placed, Placements
from generator.errors import TemplateError
from generator.model import Model
from generator.planned_tree import PlannedTree
from generator.rendering.deployment import EnvironmentRelease, ModelDeployment, Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.targets.registry import ALL_TARGETS
from generator.rendering.templating import Renderer


def render_files(
    platform: Platform, release: Release, renderer: Renderer
) -> Iterator[RenderedFile]:
    """Every target's files, in the registry's order."""
    for target in ALL_TARGETS:
        yield from target.render(platform, release, renderer)


# How plan() has the targets' files made: ``render_files``, or a way that gives the same
# files (by path, owner and bytes; their order does not matter), such as spreading the
# models over processes (``generator/spread.py``).
RenderFiles = Callable[[Platform, Release, Renderer], Iterable[RenderedFile]]


@dataclass(frozen=True)
class Recorded:
    """A model's files as the last render wrote them, still so in the tree (their digest is
    the one index.json records), and the digest of what they were made from. ``files`` may
    be a view of the tree (``planned_tree.TreeFiles``): the plan keeps them as it has them,
    and reads none."""

    inputs: str
    files: Mapping[str, bytes]
    files_digest: str


@dataclass(frozen=True)
class Incremental:
    """What lets plan() skip the models that did not change: ``code``, the digest of this
    Modelship (``resources.code_digest``, recorded once in index.json); per model id, the
    digest of its MLproject when this run's parse of it had no finding (``mlproject``),
    and its files as last rendered (``recorded``). Without it (the default) every model is
    rendered, and index.json records no digests."""

    code: str
    mlproject: Mapping[str, str]
    recorded: Mapping[str, Recorded]


def plan(
    platform: Platform,
    models: Sequence[Model],
    renderer: Renderer,
    states: Mapping[str, index.ModelState] | None = None,
    placements: Placements | None = None,
    preserved: Sequence[index.Preserved] = (),
    incremental: Incremental | None = None,
    rejected: Sequence[index.Rejected] = (),
    make_files: RenderFiles = render_files,
) -> PlannedTree:
    """Every file of the rendered tree, by path relative to its root.

    ``states`` gives index.json's state of a model by id (default: deployed);
    ``placements`` what runs in each environment (default: every model in each
    environment that follows the sources, none in a promoted one). ``preserved`` are
    models whose index.json entry is damaged: their files and entries are kept as they
    are, and the files that list an environment's models (kustomizations, the gateway's,
    Consul's) still list them there. ``rejected``: the repositories index.json names as
    rejected (nothing of them is rendered). With ``incremental``, a model whose inputs digest
    is the one its files were recorded with is not rendered: its files are kept as
    ``incremental.recorded`` has them (``PlannedTree``), unread.
    ``make_files`` has the targets' files made (``RenderFiles``)."""
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
    made = _inputs(platform, renderer, release, placements, incremental)
    if incremental is not None:
        reused = frozenset(
            model_id
            for model_id, inputs in made.items()
            if (known := incremental.recorded.get(model_id)) is not None and known.inputs == inputs
        )
        release = replace(release, reused=reused)
    files: dict[str, bytes] = {}
    owned: dict[str, list[str]] = {m.id: [] for m in ordered}
    shared: list[str] = []
    for rendered in make_files(platform, release, renderer):
        if rendered.path in files:
            raise TemplateError(f"two targets write {rendered.path}")
        files[rendered.path] = rendered.content
        (shared if rendered.owner is None else owned[rendered.owner]).append(rendered.path)
    reused: dict[str, Mapping[str, bytes]] = {}
    for model_id in sorted(release.reused):
        assert incremental is not None
        paths = owned[model_id]
        recorded = incremental.recorded[model_id].files
        for path in recorded:
            # A target that wrote the file anyway wrote what the tree holds: either will do;
            # a path two kept models list stays the first one's.
            if path not in files and path not in reused:
                reused[path] = recorded
                paths.append(path)
    for item in kept:
        for path, content in item.files.items():
            # What this render writes wins: a preserved model never overwrites another's file.
            if path not in reused:
                files.setdefault(path, content)
    files[index.INDEX_PATH] = index.dumps(
        _entries(
            ordered,
            states,
            owned,
            placements,
            release,
            _digests(files, owned, made, release, incremental),
        ),
        shared,
        (item.damaged for item in kept),
        code=incremental.code if incremental is not None else "",
        rejected=rejected,
    )
    renderer.forget()
    return PlannedTree(files, reused)


def _environment_release(
    platform: Platform,
    placed: EnvironmentPlan,
    shared: dict[str, ModelDeployment],
    preserved: Sequence[index.Preserved],
) -> EnvironmentRelease:
    """The environment's deployments; one equal to a model's deployment in an environment
    before is that very object, so the templates it feeds are rendered once for both
    (the renderer memoises by the identity of the values a template reads), and one that
    differs only in instances or resources shares its identity (``ModelIdentity``)."""
    env = placed.environment
    deployments = []
    for model_id, running in sorted(placed.placed.items()):
        deployment = ModelDeployment.of(platform, running.model, env, shared.get(model_id))
        known = shared.setdefault(model_id, deployment)
        deployments.append(known if known == deployment else deployment)
    return EnvironmentRelease(
        env,
        tuple(deployments),
        tuple(item for item in preserved if item.runs_in(env.name)),
    )


def _inputs(
    platform: Platform,
    renderer: Renderer,
    release: Release,
    placements: Placements,
    incremental: Incremental | None,
) -> dict[str, str]:
    """Each model's inputs digest (``digests.py``): the platform, the templates, the model
    (its build) and how it runs in each environment (the model there, its state, its
    promotion, the images it waits for). A deployment is made of these alone
    (``ModelDeployment.of`` reads the platform, the environment and the model), so they
    cover every value a template can read of it; their ``repr`` holds all of them (a
    ``Placed``'s field by field)."""
    if incremental is None:
        return {}
    common = digests.of_text(digests.settings(platform), renderer.templates_digest)
    # A model runs as itself in most environments: its text is made once per object.
    texts: dict[int, str] = {}

    def text(model: Model) -> str:
        known = texts.get(id(model))
        if known is None:
            known = texts[id(model)] = repr(model)
        return known

    # Hashed as they are made: 10,000 models' inputs as text would be tens of MB at once.
    made = {d.id: digests.TextDigest(common, text(d.model)) for d in release.models}
    for placed in placements.environments:
        name = placed.environment.name
        for model_id, running in placed.placed.items():
            made[model_id].add(name, repr(placed.waiting.get(model_id)))
            for part in _PLACED_FIELDS:
                value = getattr(running, part)
                made[model_id].add(text(value) if part == "model" else repr(value))
    return {model_id: digest.text() for model_id, digest in made.items()}


_PLACED_FIELDS = tuple(f.name for f in fields(Placed))


def _digests(
    files: Mapping[str, bytes],
    owned: Mapping[str, list[str]],
    made: Mapping[str, str],
    release: Release,
    incremental: Incremental | None,
) -> dict[str, Digests]:
    if incremental is None:
        return {}
    result = {}
    for model_id, inputs in made.items():
        if model_id in release.reused:
            written = incremental.recorded[model_id].files_digest
        else:
            written = digests.files((path, files[path]) for path in owned[model_id])
        result[model_id] = Digests(incremental.mlproject.get(model_id, ""), inputs, written)
    return result


def _entries(
    models: Sequence[Model],
    states: Mapping[str, index.ModelState],
    owned: Mapping[str, list[str]],
    placements: Placements,
    release: Release,
    made: Mapping[str, Digests],
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
                digests=made.get(model.id, Digests()),
                waiting=waiting,
            )
        )
    return entries
