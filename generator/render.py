"""The render engine: Jinja2 templates with per-format escaping, and plan().   (pure)

``plan(platform, models, renderer)`` is a pure function of its inputs: no
network, no clock, no randomness, everything sorted, so the same inputs give
byte-identical output. The targets in ``generator/targets/`` choose the
templates and the paths they go to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from generator import escapers, index, resources
from generator.config import Platform
from generator.deployment import ModelDeployment
from generator.model import Model
from generator.targets import ALL_TARGETS
from generator.targets.base import RenderedFile

# Template file suffix (before .j2) → the escaper every {{ value }} goes through.
ESCAPERS: dict[str, Callable[[Any], str]] = {
    "yaml": escapers.yaml_scalar,
    "json": escapers.json_value,
    "sh": escapers.shell_word,
    # Jenkins Job Builder YAML, whose every string JJB itself formats with str.format.
    "jjb": escapers.jjb_scalar,
    "conf": escapers.nginx_token,
}


class TemplateError(Exception):
    """A template is missing or broken (usually a platform's own override)."""


class Renderer:
    """Loads templates — a platform's own folder first, then the built-ins —
    and renders each with the escaper of its format."""

    def __init__(self, override_dir: Path | None = None) -> None:
        search = [override_dir] if override_dir is not None else []
        search.append(resources.builtin_dir("templates"))
        loader = jinja2.FileSystemLoader([str(path) for path in search])
        self._loader = loader
        self._environments = {
            fmt: self._environment(loader, escaper) for fmt, escaper in ESCAPERS.items()
        }

    @staticmethod
    def _environment(
        loader: jinja2.BaseLoader, escaper: Callable[[Any], str]
    ) -> jinja2.Environment:
        def finalize(value: Any) -> str:
            if isinstance(value, jinja2.Undefined):
                str(value)  # StrictUndefined raises UndefinedError naming the missing value
            return escaper(value)

        environment = jinja2.Environment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            finalize=finalize,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.filters["to_json"] = escapers.to_json
        environment.filters["jjb_block"] = escapers.jjb_block
        return environment

    def source(self, name: str) -> str:
        """A file of the template folders as it is, not rendered: static text such as the
        Jenkins pipeline script, which by design holds no value at all."""
        environment = next(iter(self._environments.values()))
        try:
            text, _, _ = self._loader.get_source(environment, name)
        except jinja2.TemplateNotFound:
            raise TemplateError(f"{name}: template not found") from None
        return text

    def render(self, template: str, **context: Any) -> bytes:
        fmt = template.removesuffix(".j2").rsplit(".", 1)[-1]
        environment = self._environments.get(fmt)
        if environment is None:
            raise TemplateError(f"{template}: no escaper for the format {fmt!r}")
        try:
            text = environment.get_template(template).render(**context)
        except jinja2.TemplateNotFound:
            raise TemplateError(f"{template}: template not found") from None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"{error.filename}:{error.lineno}: {error.message}") from None
        except jinja2.UndefinedError as error:
            raise TemplateError(f"{template}: {error.message}") from None
        return text.encode("utf-8")


def plan(
    platform: Platform,
    models: Sequence[Model],
    renderer: Renderer,
    states: Mapping[str, index.ModelState] | None = None,
) -> dict[str, bytes]:
    """Every file of the rendered tree, by path relative to its root.

    ``states`` gives index.json's state of a model by id (default: deployed)."""
    deployments = [ModelDeployment.of(platform, m) for m in sorted(models, key=lambda m: m.id)]
    files: dict[str, RenderedFile] = {}
    for target in ALL_TARGETS:
        for rendered in target.render(platform, deployments, renderer):
            if rendered.path in files:
                raise TemplateError(f"two targets write {rendered.path}")
            files[rendered.path] = rendered
    owned: dict[str, list[str]] = {d.id: [] for d in deployments}
    for rendered in files.values():
        if rendered.owner is not None:
            owned[rendered.owner].append(rendered.path)
    shared = [path for path, rendered in files.items() if rendered.owner is None]
    files[index.INDEX_PATH] = RenderedFile(
        index.INDEX_PATH,
        index.dumps(
            (d.index_entry(tuple(owned[d.id]), (states or {}).get(d.id)) for d in deployments),
            shared,
        ),
    )
    return {path: files[path].content for path in sorted(files)}
