"""The MLproject files named on a command line (``modelship validate PATH...``).

Each PATH is an MLproject file or a folder holding one (a model repository). A file
named ``MLproject`` (in any letter case) belongs to the repository its folder is named
after — ``<organization>/<folder>`` when the platform is known — so the name rule and
the platform's ownership rules apply to it; any other file (``bad-id.MLproject``) is
checked on its own, without a repository. Only the named files are read: the scan is
``chosen``, so no other repository may be taken as gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ConfigError
from generator.mlproject import is_mlproject_filename
from generator.sources.base import FetchFailure, ProgressCallback, RepoSnapshot, Scan
from generator.sources.report import ScanReport


@dataclass(frozen=True)
class PathsSource:
    arguments: Sequence[str]
    organization: str | None = None  # the platform's, when one is known
    report: ScanReport | None = None

    def scan(self, progress: ProgressCallback | None = None) -> Scan:
        snapshots: list[RepoSnapshot] = []
        failures: list[FetchFailure] = []
        for done, argument in enumerate(self.arguments, start=1):
            path, folder = _locate(argument)
            shown = path.as_posix()
            repo = f"{self.organization}/{folder}" if self.organization and folder else folder
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as error:
                message = f"{path.name} is not UTF-8 text (byte {error.start})"
                failures.append(FetchFailure(repo, message, location=shown))
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


def _locate(argument: str) -> tuple[Path, str]:
    """The MLproject file for a PATH argument, and the repository folder it implies ("" for
    a file that is not named MLproject)."""
    path = Path(argument)
    if path.is_dir():
        names = sorted(p for p in path.iterdir() if is_mlproject_filename(p.name))
        if not names:
            raise ConfigError(f"{argument}: no MLproject file in this folder")
        return names[0], path.resolve().name
    if not path.exists():
        raise ConfigError(f"{argument}: no such file or folder")
    folder = path.resolve().parent.name if is_mlproject_filename(path.name) else ""
    return path, folder
