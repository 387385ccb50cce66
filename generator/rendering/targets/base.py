"""The Target protocol: one module per kind of output (kubernetes, jenkins, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from generator.config.settings import Platform
from generator.rendering.deployment import Release
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

    Each ``release.environments`` item carries the models kept there exactly as they were
    (``preserved``: their index.json entry is damaged): their own files are copied by
    plan(); a target whose shared files list the environment's models (a kustomization,
    the gateway's ConfigMaps, Consul's kv.json) lists them too."""

    def render(
        self, platform: Platform, release: Release, renderer: Renderer
    ) -> Iterator[RenderedFile]: ...


@dataclass(frozen=True)
class Kind:
    """A kind of Kubernetes object Modelship renders: for RBAC rules (``resource``, the
    plural) and Argo CD project whitelists (``group``, ``kind``)."""

    group: str
    kind: str
    resource: str
