"""rendered/index.json: the state of record of a rendered tree.   (pure)

For every model: its full validated spec and where it came from (repo@commit)
— enough to render it again —, the values the platform resolved for it, its
state, and the files it owns; and the files no model owns. Later runs read it
to keep a failing model deployed as it was, to decide who owns an ``id``, to
count deletions, and to refuse deleting files it does not account for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from generator import mlproject, resources, schemacheck, yamlpos
from generator.errors import ConfigError
from generator.findings import Finding
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
    # The files of the tree no model owns (kustomizations, gateway and Consul files): with
    # the models' files, everything the tree held. Absent from an index written before it.
    shared_files: tuple[str, ...] = ()


def dumps(entries: Iterable[IndexEntry], shared_files: Iterable[str]) -> bytes:
    models = {}
    for entry in sorted(entries, key=lambda e: e.id):
        models[entry.id] = {
            "spec": mlproject.record_of(entry.model.spec),
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
    document = {"format": FORMAT, "models": models, "shared_files": sorted(shared_files)}
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def loads(data: bytes, where: str = INDEX_PATH) -> Index:
    """Parse and check an index.json; a damaged one is a configuration error (exit 2), never
    'no models'. Every entry is checked as untrusted input — its spec by the MLproject
    rules, its id, source, files and state by index.schema.json — because kept models are
    rendered again from it."""
    try:
        text = data.decode("utf-8")
        document = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{where}: not a Modelship index ({error})") from None
    specs: dict[str, ModelSpec] = {}
    findings = _check(yamlpos.YamlDocument(document), where, specs)
    if findings:
        # Positions cost a second parse, paid only to report the problems.
        findings = _check(_positioned(text, document), where, {})
        raise ConfigError(
            f"{where}: not a valid Modelship index:\n" + "\n".join(map(str, findings))
        )
    models = {
        model_id: _entry(entry, specs[model_id]) for model_id, entry in document["models"].items()
    }
    return Index(models, tuple(document.get("shared_files", ())))


def _repository_rule() -> dict[str, Any]:
    """index.json's rule for a model's source repository: the one declaration of it."""
    entry = resources.schema("index")["properties"]["models"]["additionalProperties"]
    rule: dict[str, Any] = entry["properties"]["source"]["properties"]["repo"]
    return rule


def repository_problem(full_name: str) -> str | None:
    """Why index.json could not record ``full_name`` (owner/name) as a model's source, or
    None. A source checks it before it offers a repository: what index.json cannot hold
    would wedge every later run."""
    rule = _repository_rule()
    if schemacheck.validator_for(rule).is_valid(full_name):
        return None
    return f"{full_name!r} cannot be a model's repository: it {rule['x-message']}"


def tree_index(tree: Mapping[str, bytes], where: str) -> Index:
    """The index of a rendered tree ({path: bytes}): empty for an empty tree, and an error
    for a tree with files but no index.json — that is not a tree without models."""
    data = tree.get(INDEX_PATH)
    if data is None:
        if tree:
            raise ConfigError(foreign_tree(where))
        return Index()
    return loads(data, f"{where}/{INDEX_PATH}")


def foreign_tree(where: object) -> str:
    return (
        f"{where} has files but no index.json: it is not a tree Modelship wrote, and a render "
        "would delete every file in it; point rendered.path at a folder of its own (new or "
        "empty), or restore its index.json"
    )


def unaccounted(
    tree: Mapping[str, bytes], previous: Index, planned: Mapping[str, bytes]
) -> list[str]:
    """Files of ``tree`` that a write of ``planned`` would delete although ``previous`` (the
    tree's own index) does not account for them — a model's files or the shared files.
    Such a tree was changed by hand or its index.json damaged: deleting them could remove
    models that index.json no longer lists, uncounted by the mass-delete guard."""
    known = {INDEX_PATH, *previous.shared_files}
    for entry in previous.models.values():
        known.update(entry.files)
    return sorted(path for path in tree if path not in known and path not in planned)


def unaccounted_message(where: object, paths: list[str]) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return (
        f"{where} holds files its index.json does not account for ({shown}): no model owns "
        "them and this render does not produce them, so writing would delete them unchecked; "
        "nothing was written. Restore index.json, or remove these files by hand"
    )


def _check(
    document: yamlpos.YamlDocument, where: str, specs: dict[str, ModelSpec]
) -> list[Finding]:
    """Every problem of an index document; fills ``specs`` with each entry's checked spec."""
    findings = schemacheck.check(document, resources.schema("index"), where, "index")
    models = document.data.get("models") if isinstance(document.data, dict) else None
    for model_id, entry in models.items() if isinstance(models, dict) else ():
        if not isinstance(entry, dict) or "spec" not in entry:
            continue  # the schema reports it
        at = ("models", model_id, "spec")
        result = mlproject.check_record(document, at, where)
        prefix = schemacheck.dotted(at)
        findings.extend(
            replace(f, key=f"{prefix}.{f.key}" if f.key else prefix) for f in result.findings
        )
        if result.spec is None:
            continue
        specs[model_id] = result.spec
        if result.spec.id != model_id:
            position = document.value_position((*at, "id"))
            message = f"the entry of {model_id!r} holds the model {result.spec.id!r}"
            findings.append(
                Finding(where, position.line, position.column, f"{prefix}.id", message, "index/id")
            )
    return sorted(findings)


def _positioned(text: str, document: Any) -> yamlpos.YamlDocument:
    """The document with the line and column of every key (JSON is YAML), or without
    positions when YAML reads the text otherwise."""
    try:
        positioned = yamlpos.load(text)
    except yamlpos.YamlSyntaxError:
        return yamlpos.YamlDocument(document)
    return positioned if positioned.data == document else yamlpos.YamlDocument(document)


def _entry(data: dict[str, Any], spec: ModelSpec) -> IndexEntry:
    return IndexEntry(
        model=Model(spec, Provenance(**data["source"])),
        namespace=data["namespace"],
        instances=data["instances"],
        slo=data["slo"],
        image=data["image"],
        state=data["state"],
        files=tuple(data["files"]),
        errors=tuple(data.get("errors", ())),
    )
