"""The sources a platform can read its model repositories from, by ``source.type``.

Adding a source is one module satisfying ``base.Source`` (with a ``from_platform``
constructor) and one line here; ``--source`` offers every name this registry holds.
"""

from __future__ import annotations

from collections.abc import Callable

from generator.config.settings import Platform
from generator.errors import UsageError
from generator.sources.base import OneRepository, Source
from generator.sources.github import GitHubSource
from generator.sources.local import LocalSource

SOURCES: dict[str, Callable[[Platform], Source]] = {
    "local": LocalSource.from_platform,
    "github": GitHubSource.from_platform,
}


def open_source(platform: Platform, kind: str | None = None, only: str | None = None) -> Source:
    """The platform's source (or ``kind``); narrowed to the repository ``only`` when set."""
    kind = kind or platform.source_type
    factory = SOURCES.get(kind)
    if factory is None:
        raise UsageError(f"the {kind!r} source is not available in this version of modelship")
    source = factory(platform)
    return source if only is None else OneRepository(source, only)
