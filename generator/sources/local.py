"""The local source: a folder whose sub-folders are model repositories.

Each sub-folder is read at its HEAD when it is a git checkout or a bare
repository (``name.git``), and as plain files otherwise. A plain folder has no
commit, so its "commit" is a hash of its contents: the same files always give
the same rendered output.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import git

from generator.config import GitHubSettings, Platform
from generator.errors import ConfigError
from generator.mlproject import is_mlproject_filename
from generator.sources.base import (
    FetchFailure,
    ProgressCallback,
    RepoSnapshot,
    Scan,
    SingleRead,
)


class LocalSource:
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
        snapshots: list[RepoSnapshot] = []
        failures: list[FetchFailure] = []
        for done, folder in enumerate(folders, start=1):
            full_name = f"{self.github.organization}/{folder.name.removesuffix('.git')}"
            try:
                snapshots.append(self._read(folder, full_name))
            except _ReadError as error:
                failures.append(FetchFailure(full_name, str(error)))
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
    pass


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
        raise _ReadError(f"not a git repository: {error}") from None
    with repo:
        try:
            commit = repo.head.commit
        except ValueError:
            raise _ReadError("the repository has no commits") from None
        branch = "HEAD" if repo.head.is_detached else repo.head.reference.name
        for blob in commit.tree.blobs:
            if is_mlproject_filename(blob.name):
                return commit.hexsha, branch, blob.name, _decode(blob.data_stream.read(), blob.name)
        return commit.hexsha, branch, "MLproject", None


def _read_plain(folder: Path) -> tuple[str, str, str, str | None]:
    digest = hashlib.sha1(usedforsecurity=False)
    text: str | None = None
    name = "MLproject"
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
        if path.parent == folder and is_mlproject_filename(path.name):
            name, text = path.name, _decode(data, path.name)
    return digest.hexdigest(), "main", name, text
