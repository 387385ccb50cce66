"""The rendered tree on disk: read it, and replace it with a new plan."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from generator.errors import ExternalError
from generator.treediff import TreeChanges, compare


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by POSIX path relative to it; {} when it does not exist."""
    if not root.exists():
        return {}
    try:
        return {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }
    except OSError as error:
        raise ExternalError(f"cannot read {root}: {error}") from None


def write_tree(root: Path, new: Mapping[str, bytes], old: Mapping[str, bytes]) -> TreeChanges:
    """Make ``root`` hold exactly ``new``; touch only files that change."""
    changes = compare(old, new)
    try:
        for path in (*changes.added, *changes.modified):
            _write_file(root / path, new[path])
        for path in changes.removed:
            (root / path).unlink(missing_ok=True)
            _prune_empty_parents(root / path, root)
    except OSError as error:
        raise ExternalError(f"cannot write {root}: {error}") from None
    return changes


def _write_file(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prune_empty_parents(path: Path, root: Path) -> None:
    parent = path.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
