"""The MLproject files named on a command line (``modelship validate PATH...``).

Each PATH is an MLproject file or a folder holding one (a model repository). A file
named ``MLproject`` (in any letter case) belongs to the repository its folder is named
after — ``<organization>/<folder>`` when the platform is known — so the name rule and
the platform's ownership rules apply to it; any other file (``bad-id.MLproject``) is
checked on its own, without a repository. Only the named files are read: the scan is
``chosen``, so no other repository may be taken as gone. A PATH may name anything — a
pipe, a device, a link, a huge file, a folder with two MLproject files — and each such is
a failure of that PATH (``mlproject_file``), never a hang, a crash or an arbitrary choice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ConfigError
from generator.mlproject import is_mlproject_filename, several_files
from generator.sources import mlproject_file
from generator.sources.base import FetchFailure, ProgressCallback, RepoSnapshot, Scan
from generator.sources.report import ScanReport


@dataclass(frozen=True)
class PathsSource:
    arguments: Sequence[str]
    organization: str | None = None  # the platform's, when one is known
    repository: str | None = None  # owner/name the MLproject files belong to, when known
    report: ScanReport | None = None

    def scan(self, progress: ProgressCallback | None = None) -> Scan:
        snapshots: list[RepoSnapshot] = []
        failures: list[FetchFailure] = []
        for done, argument in enumerate(self.arguments, start=1):
            path, folder, ambiguous = _locate(argument)
            shown = path.as_posix()
            if self.repository and folder:
                repo = self.repository
            elif self.organization and folder:
                repo = f"{self.organization}/{folder}"
            else:
                repo = folder
            try:
                if ambiguous is not None:
                    raise mlproject_file.Unreadable(ambiguous)
                text = mlproject_file.read(path)
            except mlproject_file.Unreadable as problem:
                failures.append(FetchFailure(repo, problem.message, location=shown))
                continue
            except OSError as error:
                raise ConfigError(f"{shown}: cannot read: {error.strerror}") from None
            snapshots.append(
                RepoSnapshot(
                    full_name=repo,
                    clone_url="",
                    default_branch="",
                    head_sha="",
                    mlproject=text,
                    mlproject_path=path.name,
                    selected_by="command line",
                    location=shown,
                )
            )
            if progress:
                progress(done, len(self.arguments))
        return Scan(tuple(snapshots), tuple(failures), chosen=True)

    def read(self, full_name: str, progress: ProgressCallback | None = None) -> Scan:
        raise ConfigError(f"{full_name}: validate PATH reads files, not repositories")


def _locate(argument: str) -> tuple[Path, str, str | None]:
    """The MLproject file for a PATH argument, the repository folder it implies ("" for a
    file that is not named MLproject), and why the folder's MLproject is ambiguous (None
    when it is not)."""
    path = Path(argument)
    try:
        if path.is_dir():
            names = sorted(p.name for p in path.iterdir() if is_mlproject_filename(p.name))
            if not names:
                raise ConfigError(f"{argument}: no MLproject file in this folder")
            return path / names[0], path.resolve().name, several_files(names)
        if not os.path.lexists(path):
            raise ConfigError(f"{argument}: no such file or folder")
    except OSError as error:
        raise ConfigError(f"{argument}: cannot read: {error.strerror}") from None
    folder = path.resolve().parent.name if is_mlproject_filename(path.name) else ""
    return path, folder, None
