"""The registry gate's one question, asked at the edge: which of these images exist?

``image_gate.questions`` computes the images (pure); this module asks the registry about
each with ``registry.RegistryClient`` (``HEAD /v2/<name>/manifests/<tag>``, token or basic
auth, bounded retries), with the credentials read from the environment variables that
platform.yaml's ``image_gate`` names. A registry that cannot be asked — unreachable,
timing out, 5xx after the retries, refusing the credentials — ends the run with exit 3
before anything is written: not knowing whether an image exists never deletes a model nor
moves one.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

from generator.config.settings import ImageGate, Platform
from generator.errors import ConfigError, ExternalError
from generator.registry import Credentials, ImageReference, RegistryClient, RegistryError


def existing(
    platform: Platform, images: Collection[str], environ: Mapping[str, str] | None = None
) -> frozenset[str]:
    """The images of ``images`` that the registry has."""
    if not images:
        return frozenset()
    settings = platform.image_gate
    credentials = credentials_of(settings, os.environ if environ is None else environ)
    clients: dict[str, RegistryClient] = {}
    found = set()
    for image in sorted(images):
        try:
            reference = ImageReference.parse(image)
        except ValueError as error:
            raise ConfigError(f"platform.yaml: registry: {error}") from None
        client = clients.get(reference.registry)
        if client is None:
            client = clients[reference.registry] = RegistryClient(
                reference.registry,
                credentials,
                scheme=settings.scheme,
                timeout=settings.timeout,
                retries=settings.retries,
                backoff=settings.backoff,
            )
        try:
            if client.exists(reference.repository, reference.tag):
                found.add(image)
        except RegistryError as error:
            raise ExternalError(
                f"the registry gate could not tell which images exist: {error}; nothing was "
                "written (no model moved, none removed)"
            ) from None
    return frozenset(found)


def credentials_of(settings: ImageGate, environ: Mapping[str, str]) -> Credentials | None:
    """The registry's credentials from the environment variables named in platform.yaml
    (None: ask anonymously)."""
    if settings.username_env is None or settings.password_env is None:
        return None
    names = (settings.username_env, settings.password_env)
    unset = [name for name in names if not environ.get(name)]
    if unset:
        which = " and ".join(unset)
        raise ConfigError(
            f"platform.yaml: image_gate: the registry's credentials are read from {which}, "
            f"which {'are' if len(unset) > 1 else 'is'} not set"
        )
    return Credentials(environ[settings.username_env], environ[settings.password_env])
