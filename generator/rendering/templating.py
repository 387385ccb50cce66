"""The template engine: Jinja2 with the escaper of each output format.   (pure)

Every ``{{ value }}`` of a template goes through the escaper of the template's format
(``escapers.py``), the way HTML templates autoescape. Templates are given as text
(``resources.load_templates`` reads them), so rendering touches no disk.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import jinja2.meta

from generator import digests
from generator.errors import TemplateError
from generator.rendering import escapers

# Template file suffix (before .j2) → the escaper every {{ value }} goes through, and the
# filters whose output is one valid token of that format (a filter's Raw output is not escaped).
ESCAPERS: dict[str, Callable[[Any], str]] = {
    "yaml": escapers.yaml_scalar,
    "json": escapers.json_value,
    # Jenkins Job Builder YAML, whose every string JJB itself formats with str.format.
    "jjb": escapers.jjb_scalar,
    "conf": escapers.nginx_token,
}
FILTERS: dict[str, dict[str, Callable[..., escapers.Raw]]] = {
    "yaml": {"to_json": escapers.to_json},
    "json": {"to_json": escapers.to_json},
    "jjb": {},
    "conf": {},
}


class Renderer:
    """Renders templates, each with the escaper of its format. The templates are read once,
    up front (``load_templates``), so rendering touches no disk."""

    def __init__(
        self, templates: Mapping[str, str], compiled: jinja2.BytecodeCache | None = None
    ) -> None:
        """``compiled``: where templates compiled before are kept (resources.py), if anywhere."""
        self._templates = dict(templates)
        self._digest: str | None = None
        self._names: dict[str, frozenset[str] | None] = {}
        self._memo: dict[tuple[Any, ...], tuple[list[Any], bytes]] = {}
        # Each template compiled once: the templates never change while the renderer lives,
        # and Jinja2's own cache asks the loader whether a template is up to date every time.
        self._compiled: dict[str, jinja2.Template] = {}
        loader = jinja2.FunctionLoader(self._load)
        self._environments = {
            fmt: self._environment(loader, escaper, FILTERS[fmt], compiled)
            for fmt, escaper in ESCAPERS.items()
        }

    @property
    def templates_digest(self) -> str:
        """The digest of every template the renderer holds (digests.py)."""
        if self._digest is None:
            self._digest = digests.templates(self._templates)
        return self._digest

    def _load(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        text = self._templates.get(name)
        return None if text is None else (text, name, lambda: True)

    @staticmethod
    def _environment(
        loader: jinja2.BaseLoader,
        escaper: Callable[[Any], str],
        filters: Mapping[str, Callable[..., escapers.Raw]],
        compiled: jinja2.BytecodeCache | None,
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
            bytecode_cache=compiled,
        )
        environment.filters.update(filters)
        return environment

    def source(self, name: str) -> str:
        """A file of the template folders as it is, not rendered: static text such as the
        Jenkins pipeline script, which by design holds no value at all."""
        text = self._templates.get(name)
        if text is None:
            raise TemplateError(f"{name}: template not found")
        return text

    def render(self, template: str, **context: Any) -> bytes:
        """The template rendered with ``context``. A template is a pure function of the
        context values it reads, so the same values give the bytes rendered before: a model's
        files are rendered once, not once per environment, when they do not read ``env``."""
        environment = self._environment_of(template)
        if environment is None:
            fmt = _format(template)
            raise TemplateError(f"{template}: no escaper for the format {fmt!r}")
        try:
            names = self._read_names(environment, template)
            key = None
            if names is not None:
                used = [context[name] for name in names if name in context]
                key = (template, *((name, id(context[name])) for name in names if name in context))
                known = self._memo.get(key)
                if known is not None:
                    return known[1]
            compiled = self._compiled.get(template)
            if compiled is None:
                compiled = self._compiled[template] = environment.get_template(template)
            data = compiled.render(**context).encode("utf-8")
        except jinja2.TemplateNotFound as error:
            where = "" if error.name == template else f" (included by {template})"
            raise TemplateError(f"{error.name}: template not found{where}") from None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"{error.name}:{error.lineno}: {error.message}") from None
        except jinja2.TemplateError as error:
            raise TemplateError(f"{_where(error, template)}: {error.message}") from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as error:
            # Raised by a template's own expression or by an escaper refusing a value.
            message = f"{type(error).__name__}: {error}"
            raise TemplateError(f"{_where(error, template)}: {message}") from None
        if key is not None:
            # The values are kept with the bytes, so their ids stay theirs while the key lives.
            self._memo[key] = (used, data)
        return data

    def reads(self, template: str) -> frozenset[str] | None:
        """The context names ``template`` (and every template it includes) reads; None when
        that is known only at run time (an include chosen by a value). A target may leave
        out of the context a value that is costly to make and that no template reads."""
        environment = self._environment_of(template)
        if environment is None or template not in self._templates:
            return None
        try:
            return self._read_names(environment, template)
        except jinja2.TemplateSyntaxError:
            return None  # render() reports it, naming the template and line

    def _environment_of(self, template: str) -> jinja2.Environment | None:
        """The engine with the escaper of the template's format (None: no such format)."""
        return self._environments.get(_format(template))

    def forget(self) -> None:
        """Drop what ``render`` memoised (plan() calls it when it is done)."""
        self._memo.clear()

    def _read_names(self, environment: jinja2.Environment, template: str) -> frozenset[str] | None:
        """The context names ``template`` and every template it includes read; None when an
        include is chosen at run time (then nothing is memoised)."""
        if template not in self._names:
            names: set[str] = set()
            pending, seen = [template], set()
            while pending:
                name = pending.pop()
                if name in seen or name not in self._templates:
                    continue
                seen.add(name)
                tree = environment.parse(self._templates[name], name, name)
                names |= jinja2.meta.find_undeclared_variables(tree)
                included = list(jinja2.meta.find_referenced_templates(tree))
                if None in included:
                    self._names[template] = None
                    return None
                pending.extend(str(child) for child in included)
            self._names[template] = frozenset(sorted(names))
        return self._names[template]


def _format(template: str) -> str:
    """``kubernetes/service.yaml.j2`` → ``yaml``: the suffix before ``.j2``."""
    return template.removesuffix(".j2").rsplit(".", 1)[-1]


def _where(error: BaseException, template: str) -> str:
    """``template:line`` of the innermost template frame of the error's traceback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    if not frames:
        return template
    return f"{frames[-1].filename}:{frames[-1].lineno}"
