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

import git
from git.refs import SymbolicReference

from generator.config.settings import GitHubSettings, Platform
from generator.errors import ConfigError
from generator.mlproject import is_mlproject_filename
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
        if not self.folder.is_dir():
            raise ConfigError(f"source.path {self.folder}: no such folder")
        folders = sorted(p for p in self.folder.iterdir() if p.is_dir() and _is_repo_folder(p))
        clashes = _clashes(folders, self.github.organization)
        snapshots: list[RepoSnapshot] = []
        failures: list[FetchFailure] = []
        reported: set[str] = set()
        for done, folder in enumerate(folders, start=1):
            full_name = _full_name(folder, self.github.organization)
            if full_name in clashes:
                if full_name not in reported:
                    failures.append(FetchFailure(full_name, clashes[full_name]))
                    reported.add(full_name)
            else:
                try:
                    snapshots.append(self._read(folder, full_name))
                except _ReadError as error:
                    failures.append(FetchFailure(full_name, error.message, error.detail))
            if progress:
                progress(done, len(folders))
        return Scan(tuple(snapshots), tuple(failures))

    def read(self, full_name: str, progress: ProgressCallback | None = None) -> Scan:
        """Only the folder of ``full_name``: ``<source.path>/<name>`` (or ``<name>.git``)
        when its owner is the platform's organization."""
        if not self.folder.is_dir():
            raise ConfigError(f"source.path {self.folder}: no such folder")
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
        found = f"{self.github.organization}/{folder.name.removesuffix('.git')}"
        try:
            return Scan((self._read(folder, found),), single=SingleRead(full_name))
        except _ReadError as error:
            return Scan((), (FetchFailure(found, str(error)),), single=SingleRead(full_name))

    def _folder_of(self, name: str) -> Path | None:
        """The repository folder named ``name`` (GitHub's names ignore case)."""
        wanted = {name.lower(), f"{name.lower()}.git"}
        for folder in sorted(self.folder.iterdir()):
            if folder.name.lower() in wanted and folder.is_dir() and _is_repo_folder(folder):
                return folder
        return None

    def _read(self, folder: Path, full_name: str) -> RepoSnapshot:
        if _is_git(folder):
            head_sha, branch, path, text = _read_git(folder)
        else:
            head_sha, branch, path, text = _read_plain(folder)
        on_disk = folder / path
        return RepoSnapshot(
            full_name=full_name,
            clone_url=self.github.clone_url(full_name),
            default_branch=branch,
            head_sha=head_sha,
            mlproject=text,
            mlproject_path=path,
            selected_by="local folder",
            location=os.path.relpath(on_disk) if on_disk.is_file() else "",
        )


class _ReadError(Exception):
    """``message`` is the same on every machine (index.json keeps it); ``detail`` is the
    underlying error for the console, which may name paths of this machine."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def _full_name(folder: Path, organization: str) -> str:
    return f"{organization}/{folder.name.removesuffix('.git')}"


def _clashes(folders: list[Path], organization: str) -> dict[str, str]:
    """Folders that are one repository — ``x`` and ``x.git``, or names that differ only in
    letter case, which GitHub does not tell apart — by full name, with what to say."""
    groups: dict[str, list[Path]] = {}
    for folder in folders:
        groups.setdefault(_full_name(folder, organization).lower(), []).append(folder)
    clashes: dict[str, str] = {}
    for key, group in groups.items():
        if len(group) < 2:
            continue
        names = sorted(folder.name for folder in group)
        full_names = {_full_name(folder, organization) for folder in group}
        if len(full_names) == 1:
            repository, case = full_names.pop(), ""
        else:
            repository, case = key, " (GitHub ignores letter case)"
        message = (
            f"the folders {', '.join(names[:-1])} and {names[-1]} are both the repository "
            f"{repository}{case}; keep one"
        )
        for folder in group:
            clashes[_full_name(folder, organization)] = message
    return clashes


def _is_repo_folder(folder: Path) -> bool:
    return not folder.name.startswith(".")


def _is_git(folder: Path) -> bool:
    bare = (folder / "HEAD").is_file() and (folder / "objects").is_dir()
    return (folder / ".git").exists() or bare


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
            for blob in commit.tree.blobs:
                if is_mlproject_filename(blob.name):
                    data = blob.data_stream.read()
                    return commit.hexsha, branch, blob.name, _decode(data, blob.name)
        except (ValueError, git.GitError, OSError) as error:
            raise _ReadError(
                f"HEAD ({head_sha}) cannot be read: the repository's objects are missing or "
                "damaged",
                f"HEAD ({head_sha}) cannot be read: {error}",
            ) from None
        return commit.hexsha, branch, "MLproject", None


def _read_plain(folder: Path) -> tuple[str, str, str, str | None]:
    """A folder without git: its "commit" is a hash of its files. Links are hashed as links
    (their target's name) and never followed, special files (pipes, devices) are skipped;
    a file that cannot be read is a failure of the repository."""
    digest = hashlib.sha1(usedforsecurity=False)
    text: str | None = None
    name = "MLproject"
    for parts, path, mode in _entries(folder):
        relative = "/".join(parts)
        if stat.S_ISLNK(mode):
            if len(parts) == 1 and is_mlproject_filename(path.name):
                raise _ReadError(
                    f"{path.name} is a symbolic link; Modelship reads only regular files"
                )
            digest.update(f"{relative}\0->\0{os.readlink(path)}\0".encode())
            continue
        data = _read_file(path, relative)
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
        if len(parts) == 1 and is_mlproject_filename(path.name):
            name, text = path.name, _decode(data, path.name)
    return digest.hexdigest(), "main", name, text


def _entries(folder: Path) -> list[tuple[tuple[str, ...], Path, int]]:
    """Every regular file and link under ``folder``, without following links, ordered by
    path parts (the order the content hash has always used)."""
    found: list[tuple[tuple[str, ...], Path, int]] = []

    def walk(current: Path, parts: tuple[str, ...]) -> None:
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as error:
            raise _ReadError(f"cannot read {'/'.join(parts) or '.'}: {error.strerror}") from None
        for entry in entries:
            inner = (*parts, entry.name)
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as error:
                raise _ReadError(f"cannot read {'/'.join(inner)}: {error.strerror}") from None
            if stat.S_ISDIR(mode):
                walk(Path(entry.path), inner)
            elif stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                found.append((inner, Path(entry.path), mode))

    walk(folder, ())
    return sorted(found, key=lambda item: item[0])


def _read_file(path: Path, relative: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise _ReadError(f"cannot read {relative}: {error.strerror}") from None
