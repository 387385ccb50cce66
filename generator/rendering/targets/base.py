"""The Target protocol: one module per kind of output (kubernetes, jenkins, ...)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from generator.config.settings import Platform
from generator.index import Preserved
from generator.rendering.deployment import ModelDeployment
from generator.rendering.templating import Renderer


@dataclass(frozen=True)
class RenderedFile:
    """One file of the rendered tree. ``owner`` is the model id that owns it, or
    None for a file shared by all models (an nginx.conf, a kustomization)."""

    path: str
    content: bytes
    owner: str | None = None


class Target(Protocol):
    """A render target: chooses templates and the paths their output goes to.

    ``preserved`` are models kept exactly as they were (their index.json entry is damaged):
    their own files are copied by plan(); a target whose shared files list every model (a
    kustomization, Consul's kv.json) lists them too."""

    def render(
        self,
        platform: Platform,
        deployments: Sequence[ModelDeployment],
        renderer: Renderer,
        *,
        preserved: Sequence[Preserved] = (),
    ) -> Iterator[RenderedFile]: ...
