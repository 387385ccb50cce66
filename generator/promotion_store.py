"""The promotions files on disk: ``<promotions.path>/<environment>.yaml`` in the platform
repository, one per promoted environment (a missing file: nothing promoted yet)."""

from __future__ import annotations

import os
from pathlib import Path

from generator import pins, regular_file
from generator.config.settings import Platform
from generator.errors import ConfigError, ExternalError
from generator.pins import Promotions

# A pin is some 250 bytes: this is far beyond the pins of every model a platform may have,
# and small enough that no run reads more of a file before refusing it.
MAX_BYTES = 32 * 1024 * 1024


def path_of(platform: Platform, environment: str) -> Path:
    return platform.promotions.path / pins.file_name(environment)


def shown(platform: Platform, environment: str) -> str:
    """The file as messages name it: relative to platform.yaml's folder."""
    path = path_of(platform, environment)
    try:
        return path.relative_to(platform.root).as_posix()
    except ValueError:
        return str(path)


def read(platform: Platform, environment: str) -> Promotions:
    """The pins of ``environment``; none when its file does not exist (nothing promoted
    yet). A file that is there but cannot be read as pins — a link to nowhere (or a folder
    on its way that is one), a folder, a pipe, too large, not UTF-8 — is a configuration
    error, never "no pins". A link to a regular file is read."""
    path, where = path_of(platform, environment), shown(platform, environment)
    try:
        text = regular_file.read_text(path, MAX_BYTES, "a promotions file", follow_links=True)
    except FileNotFoundError:
        dangling = _link_to_nowhere(path)
        if dangling is not None:
            raise ConfigError(f"{where}: cannot be read: {dangling} is a link to nowhere") from None
        return Promotions(environment, where=where)
    except regular_file.Unreadable as problem:
        raise ConfigError(f"{where}: {problem.message}") from None
    except NotADirectoryError:
        raise ConfigError(
            f"{where}: cannot be read: promotions.path ({path.parent}) is not a folder"
        ) from None
    except OSError as error:
        raise ExternalError(f"cannot read {path}: {error.strerror}") from None
    return pins.parse(text, where, environment)


def _link_to_nowhere(path: Path) -> Path | None:
    """The link to nowhere on the way to ``path`` (itself included) that makes it missing."""
    for step in (path, *path.parents):
        if step.is_symlink() and not step.exists():
            return step
    return None


def unread(platform: Platform) -> list[tuple[str, str]]:
    """The promotions files of environments that follow the sources, as (file shown,
    environment): no run reads them, though whoever wrote one may think it pins."""
    return [
        (shown(platform, env.name), env.name)
        for env in platform.environments
        if not env.promoted and os.path.lexists(path_of(platform, env.name))
    ]


def read_all(platform: Platform) -> dict[str, Promotions]:
    """The promotions of every promoted environment."""
    return {env.name: read(platform, env.name) for env in platform.environments if env.promoted}


def size(platform: Platform) -> int:
    """The bytes of every promoted environment's promotions file (0 for a missing one)."""
    total = 0
    for env in platform.environments:
        if env.promoted:
            try:
                total += path_of(platform, env.name).stat().st_size
            except OSError:
                continue  # read_all says what is wrong with it
    return total


def write(platform: Platform, promotions: Promotions) -> Path:
    path = path_of(platform, promotions.environment)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.modelship-new")
        staged.write_bytes(pins.dumps(promotions))
        staged.replace(path)
    except OSError as error:
        raise ExternalError(f"cannot write {path}: {error}") from None
    return path
