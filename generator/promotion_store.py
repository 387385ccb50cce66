"""The promotions files on disk: ``<promotions.path>/<environment>.yaml`` in the platform
repository, one per promoted environment (a missing file: nothing promoted yet)."""

from __future__ import annotations

from pathlib import Path

from generator import pins
from generator.config.settings import Platform
from generator.errors import ExternalError
from generator.pins import Promotions


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
    path = path_of(platform, environment)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Promotions(environment, where=shown(platform, environment))
    except (OSError, UnicodeDecodeError) as error:
        raise ExternalError(f"cannot read {path}: {error}") from None
    return pins.parse(text, shown(platform, environment), environment)


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
