"""Model metadata for Consul's key/value store, in the format `consul kv import` reads.

<env>/consul/kv.json    every model's keys, ``<consul prefix>/<id>/<field>``

The file is a JSON array of ``{"flags": 0, "key": ..., "value": <base64 of the UTF-8 text>}``
(Consul's ``impexp.Entry``). Keys are built only from the platform's prefix, the model's id
and fixed field names, each checked against a safe alphabet; values are base64 data, so no
value can name or create a key.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence

from generator.config.settings import Platform
from generator.rendering.deployment import ModelDeployment, Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.templating import Renderer

TEMPLATE = "consul/kv.json.j2"
FLAGS = 0

# Lowercase letters, digits, '_' and '-': safe in a Consul key, a URL path and an ACL
# key_prefix rule alike. The prefix is such segments joined by '/'.
_SEGMENT = re.compile(r"[a-z0-9_-]+\Z")
_PREFIX = re.compile(r"[a-z0-9_-]+(/[a-z0-9_-]+)*\Z")


def kv_path(environment: str) -> str:
    return f"{environment}/consul/kv.json"


def model_values(deployment: ModelDeployment) -> dict[str, str]:
    """The model's metadata as Consul stores it: field → text."""
    return {
        "name": deployment.name,
        "team": deployment.team,
        "description": deployment.description,
        "version": deployment.version,
        "input_type": deployment.input_type,
        "slo": str(deployment.slo_us),
        "default_output": deployment.default_output,
        "exposed": "true" if deployment.exposed else "false",
        "repo": deployment.repo,
        "commit": deployment.commit,
        "image": deployment.image,
        "route": deployment.route,
    }


def model_key(prefix: str, model_id: str, field: str) -> str:
    """``<prefix>/<id>/<field>``; the id and the field are one segment each, so every key of a
    model is inside its own folder."""
    if not (_PREFIX.match(prefix) and _SEGMENT.match(model_id) and _SEGMENT.match(field)):
        # The prefix and the id are validated long before this: reaching here is a bug.
        raise ValueError(f"unsafe Consul key {prefix!r} / {model_id!r} / {field!r}")
    return f"{prefix}/{model_id}/{field}"


def entries(prefix: str, deployments: Sequence[ModelDeployment]) -> list[dict[str, object]]:
    """Every key of every model, sorted by key."""
    found = [
        {
            "flags": FLAGS,
            "key": model_key(prefix, deployment.id, field),
            "value": base64.b64encode(value.encode("utf-8")).decode("ascii"),
        }
        for deployment in deployments
        for field, value in model_values(deployment).items()
    ]
    return sorted(found, key=lambda entry: str(entry["key"]))


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    for placed in release.environments:
        content = renderer.render(
            TEMPLATE, entries=entries(platform.consul_prefix, placed.deployments)
        )
        yield RenderedFile(kv_path(placed.environment.name), content)
