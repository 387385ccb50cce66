"""A Model is a validated MLproject together with where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from generator.mlproject import ModelSpec


@dataclass(frozen=True)
class Provenance:
    """The repository and commit a model was read from."""

    repo: str  # owner/name
    commit: str  # 40 hex: the head commit, or a content hash for a plain folder
    clone_url: str
    branch: str

    @property
    def short_commit(self) -> str:
        return self.commit[:7]

    def __str__(self) -> str:
        return f"{self.repo}@{self.short_commit}"


@dataclass(frozen=True)
class Model:
    spec: ModelSpec
    provenance: Provenance

    @property
    def id(self) -> str:
        return self.spec.id
