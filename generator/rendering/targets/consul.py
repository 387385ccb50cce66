"""Model metadata for Consul's key/value store, in the format `consul kv import` reads.

<env>/consul/kv.json    the keys of every model that runs there (and of one kept there as it
                        was), ``<consul prefix>/<id>/<field>``

The file is a JSON array of ``{"flags": 0, "key": ..., "value": <base64 of the UTF-8 text>}``
(Consul's ``impexp.Entry``). Keys are built only from the platform's prefix, the model's id
and fixed field names, each checked against a safe alphabet; values are base64 data, so no
value can name or create a key.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from generator.config.settings import Platform
from generator.model import Model
from generator.rendering import escapers
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
    """The model's metadata as Consul stores it: field → text. Each is a value of the model
    and the platform, the same in every environment the model runs in."""
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


def model_folder(prefix: str, model_id: str) -> str:
    """``<prefix>/<id>/``: the folder every key of the model is in (the id is one segment)."""
    if not (_PREFIX.match(prefix) and _SEGMENT.match(model_id)):
        # The prefix and the id are validated long before this: reaching here is a bug.
        raise ValueError(f"unsafe Consul key {prefix!r} / {model_id!r}")
    return f"{prefix}/{model_id}/"


@cache
def _field(name: str) -> str:
    """A field's name, checked to be one segment (there are a dozen: each is checked once)."""
    if not _SEGMENT.match(name):
        raise ValueError(f"unsafe Consul key field {name!r}")
    return name


def model_key(prefix: str, model_id: str, name: str) -> str:
    """``<prefix>/<id>/<field>``; the id and the field are one segment each, so every key of a
    model is inside its own folder."""
    return model_folder(prefix, model_id) + _field(name)


def entries(prefix: str, deployment: ModelDeployment) -> list[dict[str, object]]:
    """Every key of the model, sorted by key."""
    folder = model_folder(prefix, deployment.id)
    return [
        {"flags": FLAGS, "key": folder + _field(name), "value": _base64(value)}
        for name, value in sorted(model_values(deployment).items())
    ]


def _base64(text: str) -> str:
    return binascii.b2a_base64(text.encode("utf-8"), newline=False).decode("ascii")


def _lines(entries: Sequence[dict[str, object]]) -> str:
    """The entries as kv.json lists them: one a line, each as ``to_json`` writes it."""
    return ",\n".join("  " + escapers.to_json(entry) for entry in entries)


def _model_lines(folder: str, values: Sequence[tuple[str, str]]) -> str:
    """``_lines`` of a model's entries, written directly: a key is the folder and a field name,
    both of ``[a-z0-9_-/]``, a value is base64 and the flags a number, so no character of
    them needs escaping in JSON — the text is what ``to_json`` writes, ten times sooner."""
    return ",\n".join(
        f'  {{"flags": {FLAGS}, "key": "{folder}{_field(name)}", "value": "{_base64(value)}"}}'
        for name, value in values
    )


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
    prefix = platform.consul_prefix
    reads = renderer.reads(TEMPLATE)
    with_entries = reads is None or "entries" in reads
    # A model's lines by the identity of its Model: what they hold is of the model and the
    # platform only (not of the environment), so a model running in several is written once.
    written: dict[int, tuple[Model, str]] = {}
    for placed in release.environments:
        env = placed.environment.name
        folders: dict[str, _Folder] = {}
        for deployment in placed.deployments:
            folders.setdefault(model_folder(prefix, deployment.id), _Folder()).models.append(
                deployment
            )
        for model in placed.preserved:
            for entry in model.consul.get(env, ()):
                folders.setdefault(_folder_of(prefix, str(entry["key"])), _Folder()).kept.append(
                    entry
                )
        texts, every = [], []
        for path, folder in sorted(folders.items()):
            if folder.kept or len(folder.models) != 1:
                found = folder.entries(prefix)
                texts.append(_lines(found))
                every.extend(found)
                continue
            deployment = folder.models[0]
            known = written.get(id(deployment.model))
            if known is None:
                known = written[id(deployment.model)] = (
                    deployment.model,
                    _model_lines(path, sorted(model_values(deployment).items())),
                )
            texts.append(known[1])
            if with_entries:
                every.extend(entries(prefix, deployment))
        text = "[\n" + ",\n".join(texts) + "\n]" if texts else "[\n]"
        yield RenderedFile(
            kv_path(env), renderer.render(TEMPLATE, entries=every, kv_json=escapers.Raw(text))
        )


def _folder_of(prefix: str, key: str) -> str:
    """``<prefix>/<segment>/``, the folder of ``key``'s first segment below the prefix (every
    kept key is below the prefix and has a segment after that one)."""
    return f"{prefix}/{key[len(prefix) + 1 :].split('/', 1)[0]}/"


@dataclass
class _Folder:
    """The keys kv.json lists below one ``<prefix>/<segment>/``: a rendered model's (a model's
    id is one segment) and the kept ones there. kv.json lists its keys sorted, and sorting
    the folders by path, then each folder's keys, sorts them all: two keys of different
    folders compare as their folders do, since a segment holds no '/'."""

    models: list[ModelDeployment] = field(default_factory=list)
    kept: list[Mapping[str, object]] = field(default_factory=list)

    def entries(self, prefix: str) -> list[dict[str, object]]:
        """The folder's entries, sorted by key (a rendered one before an equal kept one)."""
        found = [entry for model in self.models for entry in entries(prefix, model)]
        found.extend(dict(entry) for entry in self.kept)
        return sorted(found, key=lambda entry: str(entry["key"]))
