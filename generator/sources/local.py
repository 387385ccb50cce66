"""The local source: a folder whose sub-folders are model repositories.

Each sub-folder is read at its HEAD when it is a git checkout or a bare
repository (``name.git``), and as plain files otherwise. A plain folder has no
commit, so its "commit" is a hash of its contents: the same files always give
the same rendered output. Links in a plain folder are hashed as links and never
followed, so nothing outside the folder is read. Two folders that are one
repository (``x`` and ``x.git``, or names differing only in letter case) are a
failure of that repository, as is anything that cannot be read: its model is
kept as it was.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import git
from git.refs import SymbolicReference

from generator.config.settings import GitHubSettings, Platform
from generator.errors import ConfigError
from generator.index import repository_problem
from generator.mlproject import MAX_BYTES, is_mlproject_filename, several_files, too_large
from generator.sources.base import (
    FetchFailure,
    ProgressCallback,
    RepoSnapshot,
    Scan,
    SingleRead,
)
from generator.sources.report import ScanReport


class LocalSource:
    report: ScanReport | None = None  # a folder is read without an API

    def __init__(self, folder: Path, github: GitHubSettings) -> None:
        self.folder = folder
        self.github = github

    @classmethod
    def from_platform(cls, platform: Platform) -> LocalSource:
        if platform.source_path is None:
            raise ConfigError("source.path is required for the local source")
        return cls(platform.source_path, platform.github)

    def scan(self, progress: ProgressCallback | None = None) -> Scan:
        folders, refused = self._listing()
        clashes = _clashes(folders, self.github.organization)
        snapshots: list[RepoSnapshot] = []
        here = _Here(os.path.abspath(self.folder), os.getcwd())  # once, not per folder
        failures: list[FetchFailure] = list(refused)
        reported: set[str] = set()
        for done, folder in enumerate(folders, start=1):
            full_name = _full_name(folder.name, self.github.organization)
            if full_name in clashes:
                if full_name not in reported:
                    failures.append(FetchFailure(full_name, clashes[full_name]))
                    reported.add(full_name)
            else:
                try:
                    snapshots.append(self._read(folder, full_name, here))
                except _ReadError as error:
                    failures.append(FetchFailure(full_name, error.message, error.detail))
            if progress:
                progress(done, len(folders))
        return Scan(tuple(snapshots), tuple(sorted(failures, key=lambda f: f.full_name)))

    def _listing(self) -> tuple[list[Path], list[FetchFailure]]:
        """The repository folders of ``source.path`` (never through a link), and the entries
        that look like repositories but cannot be read as one: each a failure of its own."""
        try:
            entries = sorted(os.scandir(self.folder), key=lambda entry: entry.name)
        except FileNotFoundError:
            raise ConfigError(f"source.path {self.folder}: no such folder") from None
        except NotADirectoryError:
            raise ConfigError(f"source.path {self.folder}: not a folder") from None
        except OSError as error:
            raise ConfigError(f"source.path {self.folder}: cannot read: {error.strerror}") from None
        folders: list[Path] = []
        refused: list[FetchFailure] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            full_name = _full_name(entry.name, self.github.organization)
            try:
                if entry.is_symlink():
                    # A link to nowhere may be where a repository's folder was: read as no
                    # repository, it would remove that model. A link to a file is a file.
                    if os.path.isdir(entry.path):
                        refused.append(FetchFailure(full_name, _LINKED_FOLDER))
                    elif not os.path.exists(entry.path):
                        refused.append(FetchFailure(full_name, _LINK_TO_NOWHERE))
                    continue
                if not entry.is_dir(follow_symlinks=False):
                    continue
            except OSError as error:
                refused.append(FetchFailure(full_name, f"cannot read the folder: {error.strerror}"))
                continue
            problem = repository_problem(full_name)
            if problem is not None:
                refused.append(FetchFailure(full_name, f"the folder name {problem}"))
            else:
                folders.append(Path(entry.path))
        return folders, refused

    def read(self, full_name: str, progress: ProgressCallback | None = None) -> Scan:
        """Only the folder of ``full_name``: ``<source.path>/<name>`` (or ``<name>.git``)
        when its owner is the platform's organization."""
        owner, _, name = full_name.partition("/")
        folder = (
            self._folder_of(name) if owner.lower() == self.github.organization.lower() else None
        )
        if progress:
            progress(1, 1)
        if folder is None:
            where = os.path.relpath(self.folder)
            missing = f"is not a folder of the local source ({where}/{name})"
            return Scan((), single=SingleRead(full_name, missing))
        if isinstance(folder, FetchFailure):
            return Scan((), (folder,), single=SingleRead(full_name))
        found = f"{self.github.organization}/{folder.name.removesuffix('.git')}"
        try:
            return Scan(
                (self._read(folder, found, _Here(os.path.abspath(self.folder), os.getcwd())),),
                single=SingleRead(full_name),
            )
        except _ReadError as error:
            return Scan((), (FetchFailure(found, str(error)),), single=SingleRead(full_name))

    def _folder_of(self, name: str) -> Path | FetchFailure | None:
        """The repository folder named ``name`` (GitHub's names ignore case), or the failure
        that such an entry is, as in a full scan."""
        wanted = {name.lower(), f"{name.lower()}.git"}
        folders, refused = self._listing()
        for failure in refused:
            if failure.full_name.rsplit("/", 1)[-1].lower() in wanted:
                return failure
        for folder in folders:
            if folder.name.lower() in wanted:
                return folder
        return None

    def _read(self, folder: Path, full_name: str, here: _Here) -> RepoSnapshot:
        """The repository at HEAD. Anything that goes wrong reading it — whatever the error —
        is a failure of this repository alone: its model stays as it was."""
        try:
            with os.scandir(folder) as listing:
                top = list(listing)
            if _is_git(folder, top):
                head_sha, branch, path, text = _read_git(folder)
                on_disk = os.path.join(here.source, folder.name, path)
                location = os.path.relpath(on_disk, here.working) if os.path.isfile(on_disk) else ""
            else:
                head_sha, branch, path, text = _read_plain(folder, top)
                # A plain folder's MLproject is read only when it is a regular file.
                on_disk = os.path.join(here.source, folder.name, path)
                location = os.path.relpath(on_disk, here.working) if text is not None else ""
        except _ReadError:
            raise
        except OSError as error:
            raise _ReadError(f"cannot read the folder: {error.strerror}") from None
        except Exception as error:  # a bug of ours or of a library: this repository only
            raise _ReadError(
                f"Modelship could not read the repository (internal error: "
                f"{type(error).__name__}); its model stays as it was. This is a bug: please "
                "report it",
                f"internal error reading {folder}: {type(error).__name__}: {error}",
            ) from None
        return RepoSnapshot(
            full_name=full_name,
            clone_url=self.github.clone_url(full_name),
            default_branch=branch,
            head_sha=head_sha,
            mlproject=text,
            mlproject_path=path,
            selected_by="local folder",
            location=location,
        )


class _Here(NamedTuple):
    """Where a scan runs, taken once: source.path and the working folder, both absolute (the
    location of an MLproject is shown relative to the working folder)."""

    source: str
    working: str


class _ReadError(Exception):
    """``message`` is the same on every machine (index.json keeps it); ``detail`` is the
    underlying error for the console, which may name paths of this machine."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def _full_name(folder_name: str, organization: str) -> str:
    return f"{organization}/{folder_name.removesuffix('.git')}"


def _clashes(folders: list[Path], organization: str) -> dict[str, str]:
    """Folders that are one repository — ``x`` and ``x.git``, or names that differ only in
    letter case, which GitHub does not tell apart — by full name, with what to say."""
    groups: dict[str, list[Path]] = {}
    for folder in folders:
        groups.setdefault(_full_name(folder.name, organization).lower(), []).append(folder)
    clashes: dict[str, str] = {}
    for key, group in groups.items():
        if len(group) < 2:
            continue
        names = sorted(folder.name for folder in group)
        full_names = {_full_name(folder.name, organization) for folder in group}
        if len(full_names) == 1:
            repository, case = full_names.pop(), ""
        else:
            repository, case = key, " (GitHub ignores letter case)"
        message = (
            f"the folders {', '.join(names[:-1])} and {names[-1]} are both the repository "
            f"{repository}{case}; keep one"
        )
        for folder in group:
            clashes[_full_name(folder.name, organization)] = message
    return clashes


_LINKED_FOLDER = (
    "is a symbolic link to a folder; the local source reads only folders inside source.path "
    "and never follows a link out of it: move the repository there"
)
_LINK_TO_NOWHERE = (
    "is a symbolic link to nothing; the local source reads only folders inside source.path: "
    "put the repository's folder there, or remove the link"
)


def _is_git(folder: Path, top: list[os.DirEntry[str]]) -> bool:
    """A git checkout (``.git``, through a link too) or a bare repository (a file ``HEAD`` and
    a folder ``objects``). The folder's listing tells which names to look at (in any letter
    case, which a filesystem may ignore), so that a plain folder costs no lookup."""
    names = {entry.name.lower() for entry in top}
    if ".git" in names and (folder / ".git").exists():
        return True
    return (
        {"head", "objects"} <= names
        and (folder / "HEAD").is_file()
        and (folder / "objects").is_dir()
    )


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _ReadError(f"{where} is not UTF-8 text (byte {error.start})") from None


def _read_git(folder: Path) -> tuple[str, str, str, str | None]:
    try:
        repo = git.Repo(folder)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
        raise _ReadError(
            "not a git repository (its .git does not lead to one)",
            f"not a git repository: {error}",
        ) from None
    with repo:
        try:
            # The commit HEAD names, read from the refs alone: an unborn branch has none.
            head_sha = SymbolicReference.dereference_recursive(repo, "HEAD")
        except ValueError:
            raise _ReadError("the repository has no commits") from None
        try:
            commit = repo.commit(head_sha)
            branch = "HEAD" if repo.head.is_detached else repo.head.reference.name
            # By path: a top-level entry's path is its name, and a submodule without an entry
            # in .gitmodules has no name to give.
            found = [item for item in commit.tree if is_mlproject_filename(item.path)]
            text = _git_mlproject(found)
        except (ValueError, git.GitError, OSError) as error:
            raise _ReadError(
                f"HEAD ({head_sha}) cannot be read: the repository's objects are missing or "
                "damaged",
                f"HEAD ({head_sha}) cannot be read: {error}",
            ) from None
        return commit.hexsha, branch, found[0].path if found else "MLproject", text


def _git_mlproject(found: list[Any]) -> str | None:
    """The text of the one MLproject file among the top-level entries ``found`` (any letter
    case), None when there is none; anything else is a failure of the repository."""
    if (several := several_files(item.path for item in found)) is not None:
        raise _ReadError(several)
    if not found:
        return None
    [item] = found
    if not isinstance(item, git.Blob):
        return _not_a_file(item.path, "a folder" if isinstance(item, git.Tree) else "a submodule")
    if stat.S_ISLNK(item.mode):
        raise _ReadError(f"{item.path} is a symbolic link; Modelship reads only regular files")
    if item.size > MAX_BYTES:
        raise _ReadError(too_large(item.path, item.size))
    return _decode(item.data_stream.read(), item.path)


def _not_a_file(name: str, what: str) -> NoReturn:
    raise _ReadError(
        f"{name} is {what}, not a file; a repository's MLproject must be a regular file"
    )


def _read_plain(folder: Path, top: list[os.DirEntry[str]]) -> tuple[str, str, str, str | None]:
    """A folder without git (``top``: its entries): its "commit" is a hash of its files.
    Links are hashed as links (their target's name) and never followed, special files
    (pipes, devices) are skipped; a file that cannot be read is a failure of the
    repository, and so is an MLproject that is not one regular file."""
    _check_plain_mlproject(top)
    digest = hashlib.sha1(usedforsecurity=False)
    text: str | None = None
    name = "MLproject"
    for parts, path, link in _entries(top):
        relative = "/".join(parts)
        if link:
            digest.update(f"{relative}\0->\0{os.readlink(path)}\0".encode())
            continue
        mlproject = len(parts) == 1 and is_mlproject_filename(parts[0])
        data = _hash_file(path, relative, digest, keep=mlproject)
        if mlproject:
            name, text = parts[0], _decode(data, parts[0])
    return digest.hexdigest(), "main", name, text


def _check_plain_mlproject(top: list[os.DirEntry[str]]) -> None:
    """A plain folder's MLproject is one regular file of at most MAX_BYTES: a folder, a pipe,
    a device or a link of that name, or two files whose names differ in letter case, would
    otherwise be read as "no MLproject" (and remove the model) or be chosen arbitrarily."""
    try:
        found = [entry for entry in top if is_mlproject_filename(entry.name)]
        if (several := several_files(entry.name for entry in found)) is not None:
            raise _ReadError(several)
        for entry in found:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise _ReadError(
                    f"{entry.name} is a symbolic link; Modelship reads only regular files"
                )
            if stat.S_ISDIR(info.st_mode):
                _not_a_file(entry.name, "a folder")
            if not stat.S_ISREG(info.st_mode):
                _not_a_file(entry.name, "a special file (a pipe, a socket or a device)")
            if info.st_size > MAX_BYTES:
                raise _ReadError(too_large(entry.name, info.st_size))
    except OSError as error:
        raise _ReadError(f"cannot read the folder: {error.strerror}") from None


def _entries(top: list[os.DirEntry[str]]) -> list[tuple[tuple[str, ...], str, bool]]:
    """Every regular file and link below the folder whose entries are ``top``, without
    following links, ordered by path parts (the order the content hash has always used):
    its parts, its path and whether it is a link. An entry's type comes from the listing
    (no stat, where the filesystem tells it)."""
    found: list[tuple[tuple[str, ...], str, bool]] = []

    def walk(entries: list[os.DirEntry[str]], parts: tuple[str, ...]) -> None:
        for entry in entries:
            inner = (*parts, entry.name)
            try:
                if entry.is_symlink():
                    found.append((inner, entry.path, True))
                elif entry.is_dir(follow_symlinks=False):
                    walk(_listed(entry.path, inner), inner)
                elif entry.is_file(follow_symlinks=False):
                    found.append((inner, entry.path, False))
            except OSError as error:
                raise _ReadError(f"cannot read {'/'.join(inner)}: {error.strerror}") from None

    walk(top, ())
    return sorted(found, key=lambda item: item[0])


def _listed(path: str, parts: tuple[str, ...]) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as listing:
            return list(listing)
    except OSError as error:
        raise _ReadError(f"cannot read {'/'.join(parts)}: {error.strerror}") from None


_CHUNK = 1024 * 1024


def _hash_file(path: str, relative: str, digest: Any, keep: bool) -> bytes:
    """Add a file to the content hash as ``relative\\0size\\0bytes``, read in chunks (a model
    folder may hold gigabytes of data); its bytes are returned only when ``keep``. Plain os
    calls: a scan reads every file of 10^4 folders. A file that a link or a pipe replaced
    since the folder was listed is not read through: the repository fails to read."""
    kept = bytearray()
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise _ReadError(f"cannot read {relative}: it is no longer a regular file")
            digest.update(f"{relative}\0{status.st_size}\0".encode())
            while chunk := os.read(descriptor, _CHUNK):
                digest.update(chunk)
                if keep:
                    kept += chunk
        finally:
            os.close(descriptor)
    except OSError as error:
        raise _ReadError(f"cannot read {relative}: {error.strerror}") from None
    return bytes(kept)
