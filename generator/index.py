"""rendered/index.json: the state of record of a rendered tree.   (pure)

For every model: its full validated spec and where it came from (repo@commit)
— enough to render it again —, the values the platform resolved for it, its
state, and the files it owns. Later runs read it to keep a failing model
deployed as it was, to decide who owns an ``id``, and to count deletions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from generator.errors import ConfigError
from generator.mlproject import ModelSpec
from generator.model import Model, Provenance

INDEX_PATH = "index.json"
FORMAT = 1

STATE_DEPLOYED = "deployed"
# The repository failed to fetch or to validate: the model stays as last rendered.
STATE_KEPT = "kept-on-error"


@dataclass(frozen=True)
class ModelState:
    """What index.json says of a model besides its spec: its state and, when it is
    kept on error, the errors of its repository."""

    state: str = STATE_DEPLOYED
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexEntry:
    model: Model
    namespace: str
    instances: int
    slo: int
    image: str
    state: str = STATE_DEPLOYED
    files: tuple[str, ...] = field(default=())
    errors: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def repo(self) -> str:
        return self.model.provenance.repo


@dataclass(frozen=True)
class Index:
    models: Mapping[str, IndexEntry] = field(default_factory=dict)


def dumps(entries: Iterable[IndexEntry]) -> bytes:
    models = {}
    for entry in sorted(entries, key=lambda e: e.id):
        models[entry.id] = {
            "spec": asdict(entry.model.spec),
            "source": asdict(entry.model.provenance),
            "namespace": entry.namespace,
            "instances": entry.instances,
            "slo": entry.slo,
            "image": entry.image,
            "state": entry.state,
            "files": sorted(entry.files),
        }
        if entry.errors:
            models[entry.id]["errors"] = list(entry.errors)
    document = {"format": FORMAT, "models": models}
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def _entry(data: dict[str, Any]) -> IndexEntry:
    spec = dict(data["spec"])
    spec["packages"] = tuple(spec["packages"])
    spec["entry_points"] = tuple(spec["entry_points"])
    model = Model(ModelSpec(**spec), Provenance(**data["source"]))
    return IndexEntry(
        model=model,
        namespace=data["namespace"],
        instances=data["instances"],
        slo=data["slo"],
        image=data["image"],
        state=data["state"],
        files=tuple(data["files"]),
        errors=tuple(data.get("errors", ())),
    )


def loads(data: bytes, where: str = INDEX_PATH) -> Index:
    """Parse an index.json; a damaged one is a configuration error, never 'no models'."""
    try:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError(f"unsupported format {document.get('format')!r}")
        models = {model_id: _entry(entry) for model_id, entry in document["models"].items()}
        for model_id, entry in models.items():
            if entry.id != model_id:
                raise ValueError(f"entry {model_id!r} holds the model {entry.id!r}")
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ConfigError(f"{where}: not a Modelship index ({error})") from None
    return Index(models)
