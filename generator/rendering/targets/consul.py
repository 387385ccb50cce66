"""Model metadata for Consul's key/value store, in the format `consul kv import` reads.

<env>/consul/kv.json    the keys of every model that runs there (and of one kept there as it
                        was), ``<consul prefix>/<id>/<field>``

The file is a JSON array of ``{"flags": 0, "key": ..., "value": <base64 of the UTF-8 text>}``
(Consul's ``impexp.Entry``). Keys are built only from the platform's prefix, the model's id
and fixed field names, each checked against a safe alphabet; values are base64 data, so no
value can name or create a key.
"""

from __future__ import annotations

import base64
import json
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
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")


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


def kept_entries(kv: bytes | None, prefix: str, model_id: str) -> tuple[dict[str, object], ...]:
    """The entries of model ``model_id`` in a kv.json as rendered before (``kv``): those of a
    model kept exactly as it was. Only well-formed entries inside the model's own folder
    are taken; anything else in a damaged file is left out."""
    try:
        document = json.loads(kv) if kv is not None else []
    except ValueError:
        return ()
    folder = f"{prefix}/{model_id}/"
    found = []
    for entry in document if isinstance(document, list) else ():
        if (
            isinstance(entry, dict)
            and set(entry) == {"flags", "key", "value"}
            and entry["flags"] == FLAGS
            and isinstance(entry["key"], str)
            and entry["key"].startswith(folder)
            and _SEGMENT.match(entry["key"][len(folder) :])
            and isinstance(entry["value"], str)
            and _BASE64.match(entry["value"])
        ):
            found.append(entry)
    return tuple(found)


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    for placed in release.environments:
        env = placed.environment.name
        rendered = entries(platform.consul_prefix, placed.deployments)
        kept = [dict(entry) for model in placed.preserved for entry in model.consul.get(env, ())]
        every = sorted([*rendered, *kept], key=lambda entry: str(entry["key"]))
        yield RenderedFile(kv_path(env), renderer.render(TEMPLATE, entries=every))
