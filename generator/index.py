"""rendered/index.json: the state of record of a rendered tree.   (pure)

For every model: where it came from (repo@commit), what was deployed
(version, team, instances, ...), its state, and the files it owns. Later runs
read it to keep a failing model's last files, to decide who owns an ``id``,
and to count deletions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from generator.errors import ConfigError

INDEX_PATH = "index.json"
FORMAT = 1

STATE_DEPLOYED = "deployed"


@dataclass(frozen=True)
class IndexEntry:
    id: str
    name: str
    repo: str
    commit: str
    version: str
    team: str
    namespace: str
    input_type: str
    instances: int
    exposed: bool
    slo: int
    image: str
    state: str = STATE_DEPLOYED
    files: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Index:
    models: Mapping[str, IndexEntry] = field(default_factory=dict)

    def owner_of(self, repo: str) -> IndexEntry | None:
        return next((e for e in self.models.values() if e.repo == repo), None)


def dumps(entries: Iterable[IndexEntry]) -> bytes:
    models = {}
    for entry in sorted(entries, key=lambda e: e.id):
        data: dict[str, Any] = asdict(entry)
        del data["id"]
        data["files"] = sorted(entry.files)
        models[entry.id] = data
    document = {"format": FORMAT, "models": models}
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def loads(data: bytes, where: str = INDEX_PATH) -> Index:
    """Parse an index.json; a damaged one is a configuration error, never 'no models'."""
    try:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError(f"unsupported format {document.get('format')!r}")
        models = {
            model_id: IndexEntry(id=model_id, **{**entry, "files": tuple(entry["files"])})
            for model_id, entry in document["models"].items()
        }
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ConfigError(f"{where}: not a Modelship index ({error})") from None
    return Index(models)
