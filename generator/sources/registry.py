"""The sources a platform can read its model repositories from, by ``source.type``.

Adding a source is one module satisfying ``base.Source`` (with a ``from_platform``
constructor) and one line here; ``--source`` offers every name this registry holds.
A source's module is imported when a run opens it: the GitHub source brings PyGithub,
which a run of the local source never needs (a third of a second).
"""

from __future__ import annotations

import importlib

from generator.config.settings import Platform
from generator.errors import UsageError
from generator.sources.base import OneRepository, Source

# source.type → (module in generator.sources, the class of it that is the source)
SOURCES: dict[str, tuple[str, str]] = {
    "local": ("local", "LocalSource"),
    "github": ("github", "GitHubSource"),
}


def open_source(platform: Platform, kind: str | None = None, only: str | None = None) -> Source:
    """The platform's source (or ``kind``); narrowed to the repository ``only`` when set."""
    kind = kind or platform.source_type
    if kind not in SOURCES:
        raise UsageError(f"the {kind!r} source is not available in this version of modelship")
    module, name = SOURCES[kind]
    kind_of_source = getattr(importlib.import_module(f"generator.sources.{module}"), name)
    source: Source = kind_of_source.from_platform(platform)
    return source if only is None else OneRepository(source, only)
