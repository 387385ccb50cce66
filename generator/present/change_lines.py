"""What changed in one model in one environment, on one line — ``instances 2→3, version
5e5a7d1→0123456, image tag 5e5a7d1→0123456`` — read from what its index.json entries say
runs there before and after, so a reviewer sees the change before the raw file diffs.
The commit and the state are told by the environment's own line (``change_views``).   (pure)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from generator.findings import printable
from generator.index import EnvironmentEntry

ARROW = "→"
SHORT = 7  # characters of a sha shown


def _sha(value: Any) -> str:
    return str(value)[:SHORT]


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "default" if value is None else str(value)


# (label, how to read it from an entry, how to show it); None for a value too long for one
# line: "changed" is said instead of its values.
_FIELDS: tuple[tuple[str, Callable[[EnvironmentEntry], Any], Callable[[Any], str] | None], ...] = (
    ("version", lambda e: e.model.spec.version, _sha),
    ("repository", lambda e: e.model.provenance.repo, _plain),
    ("instances", lambda e: e.instances, _plain),
    ("slo", lambda e: e.slo, _plain),
    ("team", lambda e: e.model.spec.team, _plain),
    ("namespace", lambda e: e.namespace, _plain),
    ("exposed", lambda e: e.model.spec.exposed, _plain),
    ("input_type", lambda e: e.model.spec.input_type, _plain),
    ("pickle", lambda e: e.model.spec.pickle, _plain),
    ("main-language", lambda e: e.model.spec.main_language, _plain),
    ("name", lambda e: e.model.spec.name, _plain),
    ("description", lambda e: e.model.spec.description, None),
    ("default_output", lambda e: e.model.spec.default_output, None),
    ("entry_points", lambda e: e.model.spec.entry_points, None),
    ("mlflow environment", lambda e: e.model.spec.mlflow_env, None),
)


def _image(before: str, after: str) -> str:
    old_name, _, old_tag = before.rpartition(":")
    new_name, _, new_tag = after.rpartition(":")
    if old_name == new_name:
        return f"image tag {old_tag}{ARROW}{new_tag}"
    return "image changed"


def _packages(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    added = [f"+{p}" for p in after if p not in before]
    removed = [f"-{p}" for p in before if p not in after]
    return f"packages {' '.join([*added, *removed]) or 'reordered'}"


def differences(before: EnvironmentEntry, after: EnvironmentEntry) -> list[str]:
    """Each recorded value that differs, as ``key old→new`` (or ``key changed``), escaped."""
    found = []
    for label, read, show in _FIELDS:
        old, new = read(before), read(after)
        if old == new:
            continue
        found.append(
            f"{label} changed" if show is None else f"{label} {show(old)}{ARROW}{show(new)}"
        )
    if before.image != after.image:
        found.append(_image(before.image, after.image))
    if before.model.spec.packages != after.model.spec.packages:
        found.append(_packages(before.model.spec.packages, after.model.spec.packages))
    return [printable(difference) for difference in found]
