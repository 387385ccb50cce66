"""What every source produces: snapshots of repositories, and whether the scan completed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from generator.model import Provenance
from generator.sources.progress import ProgressCallback
from generator.sources.report import ScanReport


@dataclass(frozen=True)
class RepoSnapshot:
    """One repository at the head of its default branch."""

    full_name: str  # owner/name
    clone_url: str
    default_branch: str
    head_sha: str
    mlproject: str | None  # the MLproject text, None when the repository has none
    mlproject_path: str = "MLproject"
    topics: tuple[str, ...] = ()
    archived: bool = False
    fork: bool = False
    selected_by: str = ""  # why the source picked it, e.g. "suffix -model" or "topic ml-model"
    push_teams: tuple[str, ...] | None = None  # GitHub team slugs with push access, if known
    # The source reads push access but could not this time (the scan stopped first): its
    # model can be neither accepted nor rejected for its team, and stays as it was.
    push_teams_unknown: bool = False
    location: str = ""  # where a person finds the MLproject; defaults to owner/name/MLproject

    @property
    def name(self) -> str:
        return self.full_name.rsplit("/", 1)[-1]

    @property
    def mlproject_location(self) -> str:
        return self.location or f"{self.full_name}/{self.mlproject_path}"

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.full_name, self.head_sha, self.clone_url, self.default_branch)


@dataclass(frozen=True)
class FetchFailure:
    """A repository that was found but could not be read; its model must stay as it was.

    ``message`` is recorded in index.json, so it is the same for the same inputs on any
    machine: no absolute path, no timing, no address. ``detail`` is the fuller text for the
    console (the underlying error), when there is one."""

    full_name: str
    message: str
    detail: str = ""
    location: str = ""  # where a person finds the repository, when not its full name

    @property
    def shown(self) -> str:
        return self.detail or self.message


@dataclass(frozen=True)
class SingleRead:
    """A scan of one repository only (a model-changed dispatch): every other repository
    was not looked at, so nothing may be concluded about them — as with an incomplete
    scan, but by design."""

    repository: str  # owner/name, as asked for
    # Why the repository gave no model repository snapshot ("" when it did), as the end
    # of a sentence starting with its name: "was not found on GitHub", "is archived".
    missing: str = ""


@dataclass(frozen=True)
class Scan:
    """The result of one scan. ``complete`` is False when repositories may be missing:
    then nothing downstream may treat an absent repository as deleted. ``single`` is set
    when only one repository was read, with the same consequence."""

    snapshots: tuple[RepoSnapshot, ...]
    failures: tuple[FetchFailure, ...] = ()
    complete: bool = True
    incomplete_reason: str = ""
    single: SingleRead | None = None
    # Only repositories the caller chose were read (validate PATH...): as with a single
    # read, nothing may be concluded about the others.
    chosen: bool = False
    # What a person must know about the scan that is no repository's fault, e.g. a GitHub
    # team platform.yaml names that the credentials cannot see.
    warnings: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """Whether repositories were not looked at: an absent one may still exist."""
        return not self.complete or self.single is not None or self.chosen


class Source(Protocol):
    """Where model repositories come from. ``report`` tells what the last scan saw and spent
    of an API (None for a source that calls none)."""

    @property
    def report(self) -> ScanReport | None: ...

    def scan(self, progress: ProgressCallback | None = None) -> Scan:
        """Every repository of the source."""
        ...

    def read(self, full_name: str, progress: ProgressCallback | None = None) -> Scan:
        """Only the repository ``full_name`` (owner/name); the scan's ``single`` says so."""
        ...


@dataclass(frozen=True)
class OneRepository:
    """A source narrowed to one repository: its ``scan`` reads only that one."""

    source: Source
    full_name: str

    @property
    def report(self) -> ScanReport | None:
        return self.source.report

    def scan(self, progress: ProgressCallback | None = None) -> Scan:
        return self.source.read(self.full_name, progress)

    def read(self, full_name: str, progress: ProgressCallback | None = None) -> Scan:
        return self.source.read(full_name, progress)
