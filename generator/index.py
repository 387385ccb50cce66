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
class Damaged:
    """An entry of index.json that fails its checks: its model cannot be rendered again from
    it. It affects that model only — rendered anew when its repository is accepted, else
    kept exactly as it was (the entry written back as it is, its files untouched) — and is
    reported on every run until then. ``files`` are its files when that list is sound (None
    otherwise), ``repo`` the repository it names (None when it names none)."""

    id: str  # the entry's key in "models"
    record: Any  # the entry as written, kept verbatim
    problems: tuple[Finding, ...]
    files: tuple[str, ...] | None
    repo: str | None


@dataclass(frozen=True)
class Preserved:
    """A damaged entry's model kept exactly as it was: the entry written back as it is, its
    files as the tree holds them, and its Consul keys as the tree's kv.json has them."""

    damaged: Damaged
    files: Mapping[str, bytes]
    consul: tuple[Mapping[str, Any], ...] = ()

    @property
    def id(self) -> str:
        return self.damaged.id


@dataclass(frozen=True)
class Index:
    models: Mapping[str, IndexEntry] = field(default_factory=dict)
    # The files of the tree no model owns (kustomizations, gateway and Consul files): with
    # the models' files, everything the tree held. Absent from an index written before it.
    shared_files: tuple[str, ...] = ()
    damaged: Mapping[str, Damaged] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """How many models the tree holds, damaged entries included."""
        return len(self.models) + len(self.damaged)


def dumps(
    entries: Iterable[IndexEntry], shared_files: Iterable[str], kept: Iterable[Damaged] = ()
) -> bytes:
    """index.json of a tree; ``kept``: damaged entries written back exactly as they were."""
    models: dict[str, Any] = {item.id: item.record for item in kept}
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
    """Parse and check an index.json. Every entry is checked as untrusted input — its spec by
    the MLproject rules, its id, source, files and state by index.schema.json — because
    kept models are rendered again from it. A damaged document is a configuration error
    (exit 2), never 'no models'; a damaged entry is a ``Damaged`` of that model alone."""
    try:
        text = data.decode("utf-8")
        document = json.loads(text)
    except RecursionError:
        raise ConfigError(f"{where}: not a Modelship index (nested too deeply to read)") from None
    except ValueError as error:
        raise ConfigError(f"{where}: not a Modelship index ({error})") from None
    checked = _check(yamlpos.YamlDocument(document), where)
    if checked.document or checked.entries:
        # Positions cost a second parse, paid only to report the problems.
        checked = _check(_positioned(text, document), where)
    if checked.document:
        raise ConfigError(
            f"{where}: not a valid Modelship index:\n" + "\n".join(map(str, checked.document))
        )
    models: dict[str, IndexEntry] = {}
    damaged: dict[str, Damaged] = {}
    for model_id, entry in document["models"].items():
        problems = checked.entries.get(model_id)
        if problems:
            damaged[model_id] = _damaged(model_id, entry, problems)
        else:
            models[model_id] = _entry(entry, checked.specs[model_id])
    return Index(models, tuple(document.get("shared_files", ())), damaged)


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


def tree_index(tree: Mapping[str, bytes], where: str, at: str = "") -> Index:
    """The index of a rendered tree ({path: bytes}): empty for an empty tree, and an error
    for a tree with files but no index.json — that is not a tree without models. ``at``
    names the commit the tree is read at (messages say "rendered/index.json at HEAD")."""
    data = tree.get(INDEX_PATH)
    revision = f" at {at}" if at else ""
    if data is None:
        if tree:
            raise ConfigError(foreign_tree(f"{where}{revision}"))
        return Index()
    return loads(data, f"{where}/{INDEX_PATH}{revision}")


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
    for item in previous.damaged.values():
        known.update(item.files or ())
    return sorted(path for path in tree if path not in known and path not in planned)


def unaccounted_message(where: object, paths: list[str]) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return (
        f"{where} holds files its index.json does not account for ({shown}): no model owns "
        "them and this render does not produce them, so writing would delete them unchecked; "
        "nothing was written. Restore index.json, or remove these files by hand"
    )


@dataclass
class _Checked:
    document: list[Finding] = field(default_factory=list)  # problems of the index as a whole
    entries: dict[str, list[tuple[yamlpos.PathKey, Finding]]] = field(default_factory=dict)
    specs: dict[str, ModelSpec] = field(default_factory=dict)  # the specs of sound entries

    def add(self, at: yamlpos.PathKey, found: Finding) -> None:
        if len(at) >= 2 and at[0] == "models":
            self.entries.setdefault(at[1], []).append((at, found))
        else:
            self.document.append(found)


def _finding(
    document: yamlpos.YamlDocument, where: str, at: yamlpos.PathKey, message: str, rule: str
) -> Finding:
    position = document.value_position(at)
    return Finding(where, position.line, position.column, schemacheck.dotted(at), message, rule)


def _check(document: yamlpos.YamlDocument, where: str) -> _Checked:
    """Every problem of an index document, each told apart as the document's or one entry's
    (with the path it is about), and the checked spec of every sound entry."""
    checked = _Checked()
    for at, found in schemacheck.located(document, resources.schema("index"), where, "index"):
        checked.add(at, found)
    models = document.data.get("models") if isinstance(document.data, dict) else None
    for model_id, entry in models.items() if isinstance(models, dict) else ():
        if not isinstance(entry, dict):
            continue  # the schema reports it
        at = ("models", model_id)
        if _deeper_than(entry, yamlpos.MAX_DEPTH):
            message = f"values are nested more than {yamlpos.MAX_DEPTH} levels deep"
            checked.add(at, _finding(document, where, at, message, "index/depth"))
            continue
        if "spec" not in entry:
            continue  # the schema reports it
        result = mlproject.check_record(document, (*at, "spec"), where)
        prefix = schemacheck.dotted((*at, "spec"))
        for problem in result.findings:
            key = f"{prefix}.{problem.key}" if problem.key else prefix
            checked.add((*at, "spec"), replace(problem, key=key))
        if result.spec is None:
            continue
        if result.spec.id != model_id:
            message = f"the entry of {model_id!r} holds the model {result.spec.id!r}"
            checked.add(
                (*at, "spec", "id"),
                _finding(document, where, (*at, "spec", "id"), message, "index/id"),
            )
        elif model_id not in checked.entries:
            checked.specs[model_id] = result.spec
    return checked


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and mappings more than ``limit`` levels deep (checked
    without recursion, before any check that recurses)."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return False


def _damaged(
    model_id: str, record: Any, problems: list[tuple[yamlpos.PathKey, Finding]]
) -> Damaged:
    """What can still be trusted of a damaged entry: the parts no problem is about."""

    def sound(*path: str) -> bool:
        at = ("models", model_id, *path)
        return not any(where[: len(at)] == at or at[: len(where)] == where for where, _ in problems)

    files = record.get("files") if isinstance(record, dict) else None
    source = record.get("source") if isinstance(record, dict) else None
    repo = source.get("repo") if isinstance(source, dict) else None
    return Damaged(
        id=model_id,
        record=record,
        problems=tuple(sorted(found for _, found in problems)),
        files=tuple(files) if isinstance(files, list) and sound("files") else None,
        # The repository it names, even one that is no valid name (an older Modelship wrote
        # folder names such as "acme/my model"): it still holds the id, and once a complete
        # scan no longer sees it, the entry is gone and its id free again.
        repo=repo if isinstance(repo, str) and repo else None,
    )


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
