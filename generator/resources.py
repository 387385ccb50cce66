"""Where the built-in templates and schemas live, and reading them (with a platform's own
templates) from disk.

In a wheel they are packaged under ``generator/_data``; in a source checkout
(and an editable install) they are the top-level ``templates/`` and
``schemas/`` folders of the repository.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket

from generator import __version__, digests
from generator.errors import TemplateError

_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


SCHEMA_SUFFIX = ".schema.json"


@cache
def schema_names() -> tuple[str, ...]:
    """Every schema in ``schemas/``, by name (``mlproject``, ``platform``, ``index``, ...)."""
    folder = builtin_dir("schemas")
    return tuple(
        sorted(p.name.removesuffix(SCHEMA_SUFFIX) for p in folder.glob(f"*{SCHEMA_SUFFIX}"))
    )


def schema_bytes(name: str) -> bytes:
    """The file ``schemas/<name>.schema.json`` exactly as it is shipped."""
    return (builtin_dir("schemas") / f"{name}{SCHEMA_SUFFIX}").read_bytes()


@cache
def schema(name: str) -> dict[str, Any]:
    """A JSON schema from ``schemas/``, e.g. ``schema("mlproject")``."""
    loaded: dict[str, Any] = json.loads(schema_bytes(name))
    return loaded


@cache
def code_digest() -> str:
    """The digest of this Modelship: its version and the text of every module of it. What an
    incremental render recorded under another code is made again (digests.py), so a
    change to the code — released or not — never leaves a file as the old code wrote it."""
    modules = sorted(_PACKAGE.rglob("*.py"))
    return digests.of_text(
        __version__,
        *(
            f"{path.relative_to(_PACKAGE).as_posix()}\0{path.read_text('utf-8')}"
            for path in modules
        ),
    )


def load_templates(override_dir: Path | None) -> dict[str, str]:
    """Every template by name (``kubernetes/service.yaml.j2``): the built-ins, each replaced by
    the platform's file of the same name."""
    folders = [builtin_dir("templates")]
    if override_dir is not None:
        if not override_dir.is_dir():
            problem = "is not a folder" if override_dir.exists() else "does not exist"
            raise TemplateError(f"the templates folder {override_dir} {problem}")
        folders.append(override_dir)
    templates: dict[str, str] = {}
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            try:
                templates[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise TemplateError(f"{path}: cannot read: {error}") from None
    return templates


# The modules that set up the template engine: what a template compiles to depends on its
# text (Jinja2's cache checks it) and on the engine's options, written here.
_ENGINE_MODULES = ("rendering/templating.py", "rendering/escapers.py")


@cache
def _engine_digest() -> str:
    return digests.of_text(
        *(f"{name}\0{(_PACKAGE / name).read_text('utf-8')}" for name in _ENGINE_MODULES)
    )


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja2's cache of compiled templates, in its folder of the system's temporary folder
    that only this user may write, keyed by the engine's own code as well (its options,
    which Jinja2's key does not hold; not the whole of Modelship's, so that every change to
    it does not leave another set of files behind). A cache that cannot be read or written
    is only slower."""

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{_engine_digest()}\0{name}", filename)

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged cache file (any unpickling error) is no cache
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return


def private_folder() -> Path | None:
    """This user's private folder of the system's temporary folder, the one compiled
    templates are kept in (``compiled_templates``: Jinja2 makes it, and refuses one another
    user owns or may write); None when the system gives none."""
    kept = compiled_templates()
    return None if kept is None else Path(kept.directory)


def compiled_templates(folder: Path | None = None) -> jinja2.BytecodeCache | None:
    """Where the templates compiled by an earlier run are kept (compiling them all costs a
    run a tenth of a second): ``folder``, by default Jinja2's own; None when the system
    gives no private folder for it."""
    try:
        return _CompiledTemplates(None if folder is None else str(folder))
    except (OSError, RuntimeError):
        return None
