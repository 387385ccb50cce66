"""The rendered tree on disk: read it, and replace it atomically with a new plan.

How a write stays atomic (a process killed at any moment leaves the old tree or
the new one, never a mix):

1. The new tree is staged in a sibling folder, ``.<name>.modelship-stage``:
   files that do not change are hard links to the current ones (no data is
   copied and their modification times stay), changed files are written.
2. The stage and the tree are swapped in one step with Linux's
   ``renameat2(RENAME_EXCHANGE)``; the stage then holds the old tree and is
   deleted. Killed before the swap, the tree is the old one; after, the new.
3. Where the exchange is not available (another OS, a file system without it),
   the tree is renamed to ``.<name>.modelship-old`` and the stage into its
   place. Killed between the two renames there is briefly no tree: the next
   write (``recover``) moves the old one back, and ``read_tree`` reads it.

Leftover sibling folders are removed by the next write. Nothing else outside
the tree is touched; inside it, every file not in the plan is removed (the
rendered tree belongs to Modelship). Nothing is fsynced: this protects against
a killed process, not a lost disk cache — after a power cut, git holds the
state of record and ``modelship render`` rebuilds the tree.

When the plan equals the tree, nothing is written at all.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from generator.errors import ExternalError
from generator.treediff import TreeChanges, compare

STAGE_SUFFIX = ".modelship-stage"
BACKUP_SUFFIX = ".modelship-old"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def stage_path(root: Path) -> Path:
    return root.with_name(f".{root.name}{STAGE_SUFFIX}")


def backup_path(root: Path) -> Path:
    return root.with_name(f".{root.name}{BACKUP_SUFFIX}")


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by POSIX path relative to it; {} when there is no tree.

    When a fallback swap was interrupted between its two renames, the old tree
    (still in its backup folder) is what is read."""
    if not root.exists() and backup_path(root).is_dir():
        root = backup_path(root)
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


def recover(root: Path) -> None:
    """Finish what an interrupted write left: roll an unfinished fallback swap back,
    and remove leftover stage and backup folders."""
    try:
        backup = backup_path(root)
        if not root.exists() and backup.is_dir():
            os.rename(backup, root)
        for leftover in (stage_path(root), backup):
            if leftover.exists():
                shutil.rmtree(leftover)
    except OSError as error:
        raise ExternalError(
            f"cannot clean up after an interrupted write of {root}: {error}"
        ) from None


def write_tree(
    root: Path, new: Mapping[str, bytes], old: Mapping[str, bytes], *, exchange: bool = True
) -> TreeChanges:
    """Make ``root`` hold exactly ``new``, atomically; ``old`` is what ``read_tree(root)``
    returned. ``exchange=False`` uses the two-rename fallback (tests use it)."""
    changes = compare(old, new)
    recover(root)
    if changes.empty and (root.is_dir() or not new):
        return changes
    stage = stage_path(root)
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        _build_stage(stage, root, new, old)
        if not root.exists():
            os.rename(stage, root)
            return changes
        if not (exchange and _exchange(stage, root)):
            backup = backup_path(root)
            os.rename(root, backup)
            os.rename(stage, root)
            stage = backup
        shutil.rmtree(stage)
    except OSError as error:
        raise ExternalError(f"cannot write {root}: {error}") from None
    return changes


def _build_stage(
    stage: Path, root: Path, new: Mapping[str, bytes], old: Mapping[str, bytes]
) -> None:
    stage.mkdir()
    if root.is_dir():
        os.chmod(stage, root.stat().st_mode & 0o7777)
    # Plain strings and os calls: a tree has 10^5 files, and pathlib would double the time.
    staged, current = str(stage), str(root)
    folders = {os.path.dirname(relative) for relative in new}
    for folder in sorted({f for name in folders for f in _with_parents(name)}):
        os.mkdir(os.path.join(staged, folder))
    for relative, content in new.items():
        target = os.path.join(staged, relative)
        if old.get(relative) == content and _link(os.path.join(current, relative), target):
            continue
        with open(target, "wb") as handle:
            handle.write(content)
        os.chmod(target, 0o644)


def _with_parents(folder: str) -> Iterator[str]:
    """``a/b/c`` → ``a``, ``a/b``, ``a/b/c`` (nothing for the root itself)."""
    while folder:
        yield folder
        folder = os.path.dirname(folder)


def _link(source: str, target: str) -> bool:
    """Hard-link an unchanged file into the stage; False when the file system cannot."""
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
            return False
        raise
    return True


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False when this
    system or file system cannot."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
