"""The rendered tree on disk: read it (and the index.json it holds, ``previous_index``),
replace it atomically with a new plan, and find a tree left behind in the platform's folder
by a switch to a separate rendered repository (``left_behind``).

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

From ``MIN_SPREAD_FILES`` files to stage or to remove, a forked worker
(``workers.halves``) links or writes the second half of the stage, and unlinks the
second half of the old tree, while this process does the first: the kernel's time,
on both cores. The worker starts only once the kernel will kill it with this process,
and works relative to the folder's descriptor, so even in the moment before it is
killed it cannot reach the stage of a later write. A half of the stage it did not
finish is staged here, over whatever it left; of the old tree, what it left goes with
the folder. The tree's folders are opened one below the other, never through a link:
to link its kept files into the stage (a folder that a link replaced since the tree was
read fails the write), and to remove the old tree.

Leftover sibling folders are removed by the next write (a leftover that is a
link is unlinked, never followed). Nothing else outside the tree is touched;
inside it, every file not in the plan is removed (the rendered tree belongs to
Modelship).

The tree holds only regular files and folders: a symbolic link or a special
file in it is an error, never read through, so no link can make a render print
or copy a file from elsewhere. A tree root that is itself a link is refused
(the swap would replace the link, not the folder it points to), and so is an
existing folder with files but no index.json: Modelship never takes over a
folder it did not write. Nothing is fsynced: this protects against
a killed process, not a lost disk cache — after a power cut, git holds the
state of record and ``modelship render`` rebuilds the tree.

When the plan equals the tree, nothing is written at all.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from generator import index, linux, workers
from generator.config.settings import Platform
from generator.errors import ConfigError, ExternalError
from generator.index import INDEX_PATH, Index, foreign_tree
from generator.shown_paths import shown_path
from generator.treediff import TreeChanges, compare

STAGE_SUFFIX = ".modelship-stage"
BACKUP_SUFFIX = ".modelship-old"
_READ_CAP = 0x7FFFF000  # the most one read returns on Linux
_CHUNK = 1 << 16  # what is read at a time of a file longer than its size said
# From this many files to stage or remove, a forked worker links, writes or unlinks the second
# half of them: on this machine 10^5 links take 1.0 s in one process, 0.6 s in two, and the
# write of 15,800 new files 0.20 s in one, 0.14 s in two.
MIN_SPREAD_FILES = 5_000


def stage_path(root: Path) -> Path:
    return root.with_name(f".{root.name}{STAGE_SUFFIX}")


def backup_path(root: Path) -> Path:
    return root.with_name(f".{root.name}{BACKUP_SUFFIX}")


class DiskTree(Mapping[str, bytes]):
    """The files of a rendered tree on disk, each read when it is asked for (and not kept):
    comparing a plan with a tree of 100,000 files holds one of them in memory at a time.

    A tree read from the backup folder of an interrupted swap (``folder``) is moved back to
    ``root`` by the next write's ``recover``; its files are then read from there."""

    def __init__(self, root: Path, paths: list[str], folder: Path | None = None) -> None:
        self._root = root
        self._folder = folder or root
        self._paths = sorted(paths)
        self._known = frozenset(paths)

    def __getitem__(self, relative: str) -> bytes:
        if relative not in self._known:
            raise KeyError(relative)
        path = f"{self._folder}/{relative}"
        try:
            return _read_regular(path)
        except FileNotFoundError as error:
            if self._folder != self._root and not self._folder.exists() and self._root.is_dir():
                self._folder = self._root
                return self[relative]
            raise ExternalError(f"cannot read {path}: {error}") from None
        except OSError as error:
            raise ExternalError(f"cannot read {path}: {error}") from None

    def __contains__(self, relative: object) -> bool:
        return relative in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def read_tree(root: Path) -> DiskTree:
    """Every file under ``root`` by POSIX path relative to it; empty when there is no tree.

    When a fallback swap was interrupted between its two renames, the old tree
    (still in its backup folder) is what is read."""
    folder = _readable_root(root)
    if folder is None:
        return DiskTree(root, [])
    paths: list[str] = []
    try:
        _list_folder(str(folder), "", paths)
    except OSError as error:
        raise ExternalError(f"cannot read {folder}: {error}") from None
    return DiskTree(root, paths, folder)


def previous_index(platform: Platform) -> Index:
    """The index.json of the rendered tree on disk (empty when there is no tree yet)."""
    root = platform.rendered_path
    data = read_file(root, INDEX_PATH)
    if data is None:
        if is_foreign(root):
            raise ConfigError(foreign_tree(root))
        return Index()
    return index.loads(data, str(root / INDEX_PATH))


def left_behind(platform: Platform) -> Path | None:
    """With a separate rendered repository: the folder of the platform that still holds a
    rendered tree (an index.json) at ``rendered.path`` — no longer read or written."""
    settings = platform.rendered_repository
    if settings is None:
        return None
    try:
        inside_workdir = platform.rendered_path.relative_to(settings.workdir)
    except ValueError:
        return None
    candidate = platform.root / inside_workdir
    return candidate if (candidate / INDEX_PATH).is_file() else None


def read_file(root: Path, relative: str) -> bytes | None:
    """One file of the tree (index.json), None when the tree or the file is absent."""
    tree = _readable_root(root)
    if tree is None:
        return None
    path = tree / relative
    try:
        return _read_regular(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ExternalError(f"cannot read {path}: {error}") from None


def _read_regular(path: Path | str) -> bytes:
    """A regular file's bytes; a link or special file is an error, never read through.

    Plain os calls on a string path: a re-run reads 10^5 unchanged files to check their
    digests, and a buffered file object per file would double the time."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _not_regular(Path(path), stat.S_IFLNK) from None
        raise
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise _not_regular(Path(path), status.st_mode)
        # One read asks for a byte more than the size: fewer bytes back is the end of the
        # file (a regular file's read below Linux's 2 GiB cap is short only there), and saves
        # the empty read that would say so; all of them, and the file grew: read on.
        wanted = status.st_size + 1
        first = os.read(descriptor, wanted)
        if len(first) < wanted < _READ_CAP:
            return first
        chunks = [first]
        while chunk := os.read(descriptor, max(wanted, _CHUNK)):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def is_foreign(root: Path) -> bool:
    """True when ``root`` is a folder with files but without index.json: not a tree
    Modelship wrote."""
    try:
        return (
            root.is_dir()
            and not os.path.lexists(root / INDEX_PATH)
            and any(True for _ in os.scandir(root))
        )
    except OSError as error:
        raise ExternalError(f"cannot read {root}: {error}") from None


def _readable_root(root: Path) -> Path | None:
    """The folder to read the tree from (its backup after an interrupted swap), or None."""
    _check_root(root)
    if not os.path.lexists(root):
        backup = backup_path(root)
        return backup if backup.is_dir() and not backup.is_symlink() else None
    return root


def _check_root(root: Path) -> None:
    if root.is_symlink():
        raise ConfigError(
            f"{root}: is a symbolic link (to {os.readlink(root)}); Modelship replaces the "
            "tree by renaming folders, which would replace the link and not the folder it "
            "points to: set rendered.path to the folder itself"
        )
    if os.path.lexists(root) and not root.is_dir():
        raise ConfigError(f"{root}: is not a folder; rendered.path must name a folder")


def _list_folder(folder: str, prefix: str, paths: list[str]) -> None:
    """The paths of a folder's files, without following any link (lstat only)."""
    with os.scandir(folder) as entries:
        listed = list(entries)
    for entry in listed:
        relative = prefix + entry.name
        # The directory entry's own type, without a stat call per file (lstat where the
        # file system does not say).
        if entry.is_dir(follow_symlinks=False):
            _list_folder(entry.path, relative + "/", paths)
        elif entry.is_file(follow_symlinks=False):
            paths.append(relative)
        else:
            raise _not_regular(Path(entry.path), entry.stat(follow_symlinks=False).st_mode)


def _not_regular(path: Path, mode: int) -> ConfigError:
    what = "a symbolic link in the rendered tree" if stat.S_ISLNK(mode) else "not a regular file"
    return ConfigError(
        f"{path}: {what}; the rendered tree holds only the files Modelship writes, and it "
        "never reads through a link or a special file: remove it"
    )


def recover(root: Path) -> None:
    """Finish what an interrupted write left: roll an unfinished fallback swap back,
    and remove leftover stage and backup folders (unlinking, never following, links)."""
    _check_root(root)
    try:
        backup = backup_path(root)
        if not os.path.lexists(root) and backup.is_dir() and not backup.is_symlink():
            os.rename(backup, root)
        for leftover in (stage_path(root), backup):
            if leftover.is_symlink() or leftover.is_file():
                leftover.unlink()
            elif leftover.exists():
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
    if is_foreign(root):
        raise ConfigError(foreign_tree(root))
    if changes.empty and (root.is_dir() or not new):
        return changes
    stage = stage_path(root)
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        _build_stage(stage, root, new, {*changes.added, *changes.modified})
        if not root.exists():
            os.rename(stage, root)
            return changes
        if not (exchange and linux.exchange(str(stage), str(root))):
            backup = backup_path(root)
            os.rename(root, backup)
            os.rename(stage, root)
            stage = backup
        _remove(stage, list(old))
    except OSError as error:
        if root.is_dir():  # the tree is in place: what was staged beside it only takes room
            shutil.rmtree(stage_path(root), ignore_errors=True)
        raise ExternalError(_write_failure(root, error)) from None
    return changes


def _write_failure(root: Path, error: OSError) -> str:
    """What a failed write says: the tree that could not be written, and — when the error
    was met building the new tree beside it — the folder that must be writable."""
    shown = shown_path(root)
    reason = error.strerror or str(error)
    failed = str(error.filename or "")
    beside = (str(stage_path(root)), str(backup_path(root)))
    if failed.startswith(beside) or str(error.filename2 or "").startswith(beside):
        return (
            f"cannot write the rendered tree {shown}: {reason}; Modelship builds the new tree "
            f"beside it and swaps the two, so the folder {root.parent} must be writable"
        )
    return f"cannot write the rendered tree {shown}: {reason} ({failed or root})"


def _build_stage(stage: Path, root: Path, new: Mapping[str, bytes], written: set[str]) -> None:
    """The new tree in ``stage``: the files ``written`` (added or changed), and links to
    the tree's own files for the others (their bytes, read only where a link fails)."""
    stage.mkdir()
    if root.is_dir():
        os.chmod(stage, root.stat().st_mode & 0o7777)
    # Plain strings and os calls: a tree has 10^5 files, and pathlib would double the time.
    staged, current = str(stage), str(root)
    for folder in _folders(new):
        os.mkdir(f"{staged}/{folder}")

    def place(paths: Sequence[str], *, again: bool = False) -> None:
        """Stage ``paths``; ``again``: over whatever an unfinished worker left of them."""
        chmod: bool | None = None
        tree = _Below(tree_fd)
        try:
            for relative in paths:
                target = f"{staged}/{relative}"
                if again:
                    _unlink_if_there(folder_fd, relative, target)
                if relative not in written and _link(
                    tree, relative, f"{current}/{relative}", folder_fd, target
                ):
                    continue
                chmod = _write_new(folder_fd, relative, target, new[relative], chmod)
        finally:
            tree.close()

    # Relative to the stage's descriptor: a worker still running after this process was
    # killed (the kernel kills it, but not at once) cannot reach a later write's stage of
    # the same name. The kept files are linked from their folders opened one below the
    # other, never through a link.
    folder_fd = os.open(staged, os.O_RDONLY | os.O_DIRECTORY)
    tree_fd = os.open(current, os.O_RDONLY | os.O_DIRECTORY) if root.is_dir() else folder_fd
    try:
        workers.halves(
            place, list(new), MIN_SPREAD_FILES, again=functools.partial(place, again=True)
        )
    finally:
        if tree_fd != folder_fd:
            os.close(tree_fd)
        os.close(folder_fd)


def _remove(folder: Path, paths: Sequence[str]) -> None:
    """Remove ``folder`` (the old tree after the swap), whose files are ``paths``: a worker
    unlinks the second half of them when there are many; then their folders go, deepest
    first, and whatever else is there (a file written since the tree was read) with them.
    Each folder is opened from the one above it, never through a link: a folder of the
    tree that a link replaced since it was read is left to ``shutil.rmtree``, which removes
    the link and nothing it points to."""

    def unlink(part: Sequence[str]) -> None:
        below = _Below(folder_fd)
        try:
            for relative in part:
                inner, _, name = relative.rpartition("/")
                at = below.open(inner)
                if at is not None:
                    _unlink_if_there(at, name, f"{folder}/{relative}")
        finally:
            below.close()

    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    below = _Below(folder_fd)
    try:
        workers.halves(unlink, paths, MIN_SPREAD_FILES, again=lambda _: None)
        for inner in reversed(_folders(paths)):  # a folder sorts before what it holds
            parent, _, name = inner.rpartition("/")
            at = below.open(parent)
            if at is not None:
                with contextlib.suppress(OSError):  # not empty: rmtree below takes the rest
                    os.rmdir(name, dir_fd=at)
    finally:
        below.close()
        os.close(folder_fd)
    try:
        os.rmdir(folder)
    except OSError:
        shutil.rmtree(folder)


class _Below:
    """Folders below an open folder, each opened from the one above it and never through a
    link (``O_NOFOLLOW`` at every step). It holds the descriptors of the folders on the way
    to the last one asked for, so a walk in sorted order opens each folder about once."""

    def __init__(self, top: int) -> None:
        self._names: list[str] = []
        self._descriptors = [top]
        self._last: tuple[str, int | None] | None = None

    def open(self, folder: str) -> int | None:
        """The descriptor of ``folder`` (relative; "" for the top one), or None when a
        folder on the way is a link, no folder, or gone."""
        if self._last is not None and self._last[0] == folder:
            return self._last[1]
        names = folder.split("/") if folder else []
        shared = 0
        for held, wanted in zip(self._names, names, strict=False):
            if held != wanted:
                break
            shared += 1
        self._close_below(shared)
        found: int | None = self._descriptors[-1]
        for name in names[shared:]:
            try:
                descriptor = os.open(
                    name,
                    os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                    dir_fd=self._descriptors[-1],
                )
            except OSError:
                found = None
                break
            self._names.append(name)
            self._descriptors.append(descriptor)
            found = descriptor
        self._last = (folder, found)
        return found

    def close(self) -> None:
        self._close_below(0)

    def _close_below(self, depth: int) -> None:
        self._last = None
        while len(self._names) > depth:
            self._names.pop()
            os.close(self._descriptors.pop())


def _unlink_if_there(folder_fd: int, relative: str, shown: str) -> None:
    """Unlink ``relative`` in the folder of ``folder_fd``: a file, or a link (never what it
    points to). Gone already, or a folder now, is left as it is."""
    try:
        os.unlink(relative, dir_fd=folder_fd)
    except (FileNotFoundError, IsADirectoryError):
        pass
    except OSError as error:
        raise OSError(error.errno, error.strerror, shown) from None


def _write_new(
    folder_fd: int, relative: str, shown: str, content: bytes, chmod: bool | None
) -> bool:
    """Create ``relative`` in the folder of ``folder_fd`` holding ``content``, mode 0644,
    and say whether its mode had to be set again (what the umask or the folder's default
    ACL leaves of 0644 is the same for every file of a write: ``chmod`` is the first
    file's answer, None until then). An error names the file as ``shown``."""
    try:
        descriptor = os.open(
            relative,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
            0o644,
            dir_fd=folder_fd,
        )
    except OSError as error:
        raise OSError(error.errno, error.strerror, shown) from None
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view) :]
        if chmod is None:
            chmod = os.fstat(descriptor).st_mode & 0o7777 != 0o644
        if chmod:
            os.fchmod(descriptor, 0o644)
    except OSError as error:
        raise OSError(error.errno, error.strerror, shown) from None
    finally:
        os.close(descriptor)
    return chmod


def _folders(paths: Iterable[str]) -> list[str]:
    """The folders that hold ``paths`` (relative, POSIX), each after the one it is in."""
    holding = {relative.rpartition("/")[0] for relative in paths}
    return sorted({folder for name in holding for folder in _with_parents(name)})


def _with_parents(folder: str) -> Iterator[str]:
    """``a/b/c`` → ``a``, ``a/b``, ``a/b/c`` (nothing for the root itself)."""
    while folder:
        yield folder
        folder = os.path.dirname(folder)


def _link(tree: _Below, relative: str, source: str, folder_fd: int, shown: str) -> bool:
    """Hard-link the tree's unchanged file ``relative`` (``source``) into the stage
    (``relative`` to ``folder_fd``, shown as ``shown``); False when the file system cannot.
    A folder of the tree that a link replaced since it was read is an error naming it; a
    file a link replaced is linked as the link (which the next read refuses), never as what
    it points to."""
    inner, _, name = relative.rpartition("/")
    at = tree.open(inner)
    if at is None:
        raise OSError(errno.ELOOP, "a folder of the tree is no longer a folder (a link?)", source)
    try:
        os.link(name, relative, src_dir_fd=at, dst_dir_fd=folder_fd, follow_symlinks=False)
    except OSError as error:
        if error.errno in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
            return False
        raise OSError(error.errno, error.strerror, source, None, shown) from None
    return True
