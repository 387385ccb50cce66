"""The tree assembler: every file of the rendered tree, and index.json.   (pure)

``plan(platform, models, renderer)`` is a pure function of its inputs: no network, no
clock, no randomness, everything sorted, so the same inputs give byte-identical output.
Each target of the registry (``targets/registry.py``) chooses templates and the paths
their output goes to; the assembler refuses two targets writing one path and records in
index.json which files each model owns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from generator import index
from generator.config.settings import Platform
from generator.errors import TemplateError
from generator.model import Model
from generator.rendering.deployment import ModelDeployment
from generator.rendering.targets.base import RenderedFile
from generator.rendering.targets.registry import ALL_TARGETS
from generator.rendering.templating import Renderer


def plan(
    platform: Platform,
    models: Sequence[Model],
    renderer: Renderer,
    states: Mapping[str, index.ModelState] | None = None,
    preserved: Sequence[index.Preserved] = (),
) -> dict[str, bytes]:
    """Every file of the rendered tree, by path relative to its root.

    ``states`` gives index.json's state of a model by id (default: deployed). ``preserved``
    are models whose index.json entry is damaged: their files and entries are kept as they
    are, and the files that list every model (kustomizations, Consul's) still list them."""
    deployments = [ModelDeployment.of(platform, m) for m in sorted(models, key=lambda m: m.id)]
    files: dict[str, RenderedFile] = {}
    for target in ALL_TARGETS:
        for rendered in target.render(platform, deployments, renderer, preserved=preserved):
            if rendered.path in files:
                raise TemplateError(f"two targets write {rendered.path}")
            files[rendered.path] = rendered
    owned: dict[str, list[str]] = {d.id: [] for d in deployments}
    for rendered in files.values():
        if rendered.owner is not None:
            owned[rendered.owner].append(rendered.path)
    shared = [path for path, rendered in files.items() if rendered.owner is None]
    for kept in preserved:
        for path, content in kept.files.items():
            # What this render writes wins: a preserved model never overwrites another's file.
            files.setdefault(path, RenderedFile(path, content, owner=kept.id))
    files[index.INDEX_PATH] = RenderedFile(
        index.INDEX_PATH,
        index.dumps(
            (d.index_entry(tuple(owned[d.id]), (states or {}).get(d.id)) for d in deployments),
            shared,
            (kept.damaged for kept in preserved),
        ),
    )
    renderer.forget()
    return {path: files[path].content for path in sorted(files)}
