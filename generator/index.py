"""rendered/index.json: the state of record of a rendered tree.   (pure)

For every model: where its source stands (the latest accepted spec and repo@commit, or
the last good one while its repository fails) with its state; per environment what runs
there (spec, repo@commit, image, instances, state, and in a promoted environment how it
got there); and the files it owns. And the files no model owns. Later runs read it to keep
a failing model deployed as it was, to run a promoted model at the spec it was promoted
at, to decide who owns an ``id``, to count deletions, and to refuse deleting files it
does not account for. And the repositories whose new model was rejected (``rejected``:
never deployed, with their errors), so that ``list`` tells their authors.

Format 2 keeps each model's specs once, under their digest (``specs``), and refers to them
by digest; format 1 (one spec per model, the same in every environment) is still read, and
the next render writes format 2.

An entry that fails its checks is ``Damaged``: it affects its own model only, which stays
exactly as it was (the entry written back verbatim, in whichever format it was written)
until its repository is valid again or gone. A damaged document is a configuration error.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace
from functools import cache, lru_cache
from typing import Any, Protocol, TypeVar

from generator import __version__, jsontext, mlproject, resources, schemacheck, yamlpos
from generator.digests import Digests
from generator.errors import ConfigError
from generator.findings import Finding
from generator.mlproject import ModelSpec
from generator.model import Model, Provenance

INDEX_PATH = "index.json"
FORMAT = 2
JENKINS_FOLDER = "jenkins"  # the one top-level folder of the tree that is no environment

STATE_DEPLOYED = "deployed"
# The repository failed to fetch or to validate (or, in an environment, the state it was
# promoted to cannot be found): the model stays as last rendered.
STATE_KEPT = "kept-on-error"
# In an environment: the image of the model's new state is not in the registry yet, so it
# runs the state it ran before (the registry gate, generator/image_gate.py).
STATE_WAITING = "waiting-for-image"

ACTION_PROMOTE = "promote"
ACTION_ROLLBACK = "rollback"

SpecKey = tuple[str, str]  # (source commit, spec digest): one state of a model


@dataclass(frozen=True)
class ModelState:
    """What index.json says of a model besides its spec: its state and, when it is
    kept on error, the errors of its repository."""

    state: str = STATE_DEPLOYED
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Promotion:
    """How a model came to run in a promoted environment: ``modelship promote`` or
    ``rollback``, when (ISO 8601, UTC) and by whom."""

    action: str
    at: str
    by: str


@dataclass(frozen=True)
class EnvironmentEntry:
    """What runs of a model in one environment."""

    model: Model
    namespace: str
    instances: int
    slo: int
    image: str
    state: str = STATE_DEPLOYED
    errors: tuple[str, ...] = ()
    promotion: Promotion | None = None

    @property
    def key(self) -> SpecKey:
        return spec_key(self.model)


@dataclass(frozen=True)
class IndexEntry:
    """A model: its source state (``model``, ``state``, ``errors``), what runs of it in each
    environment, and the files it owns."""

    model: Model
    state: str = STATE_DEPLOYED
    files: tuple[str, ...] = field(default=())
    errors: tuple[str, ...] = field(default=())
    environments: Mapping[str, EnvironmentEntry] = field(default_factory=dict)
    digests: Digests = field(default_factory=Digests)  # how it was made (digests.py)
    # Environment → the images a new state of the model waits for there (not in the
    # registry yet): it runs what ``environments`` says meanwhile, or nothing when it is new.
    waiting: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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
    otherwise), ``repo`` the repository it names (None when it names none), and
    ``environments`` those it ran in as far as the entry tells (its environments, the
    folders of its files)."""

    id: str  # the entry's key in "models"
    record: Any  # the entry as written, kept verbatim
    problems: tuple[Finding, ...]
    files: tuple[str, ...] | None
    repo: str | None
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preserved:
    """A damaged entry's model kept exactly as it was: the entry written back as it is, its
    files as the tree holds them, and per environment its Consul keys as that environment's
    kv.json has them."""

    damaged: Damaged
    files: Mapping[str, bytes]
    consul: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.damaged.id

    def runs_in(self, environment: str) -> bool:
        """Whether anything of the model is kept in ``environment``: the shared files of
        that environment (kustomizations, kv.json, the gateway's) go on listing it."""
        return environment in self.damaged.environments or bool(self.consul.get(environment))


STATE_REJECTED = "rejected"  # a new model whose repository has errors: it was never deployed


@dataclass(frozen=True)
class Rejected:
    """A repository whose model is not on the platform because of its errors (a new one, or
    one whose id another repository holds): nothing of it is rendered."""

    repo: str  # owner/name
    commit: str  # the commit read ("" when it could not be read)
    errors: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    models: Mapping[str, IndexEntry] = field(default_factory=dict)
    # The files of the tree no model owns (kustomizations, gateway and Consul files): with
    # the models' files, everything the tree held. Absent from an index written before it.
    shared_files: tuple[str, ...] = ()
    damaged: Mapping[str, Damaged] = field(default_factory=dict)
    format: int = FORMAT
    # The digest of the Modelship that wrote the tree (resources.code_digest), when it
    # recorded the digests of an incremental render: another code renders every model anew.
    code: str = ""
    rejected: Mapping[str, Rejected] = field(default_factory=dict)  # by repository

    @property
    def size(self) -> int:
        """How many models the tree holds, damaged entries included."""
        return len(self.models) + len(self.damaged)

    def in_environment(self, environment: str) -> dict[str, EnvironmentEntry]:
        """Model id → what runs of it in ``environment``."""
        return {
            model_id: entry.environments[environment]
            for model_id, entry in self.models.items()
            if environment in entry.environments
        }

    def damaged_in(self, environment: str) -> dict[str, Damaged]:
        """Model id → the damaged entry of a model that ran in ``environment``."""
        return {
            model_id: item
            for model_id, item in self.damaged.items()
            if environment in item.environments
        }

    def catalog(self) -> dict[SpecKey, Model]:
        """Every state of a model this index knows, by (commit, spec digest)."""
        known: dict[SpecKey, Model] = {}
        for entry in self.models.values():
            for key, model in entry_catalog(entry).items():
                known.setdefault(key, model)
        return known


_SPEC_DEFAULTS = {f.name: f.default for f in fields(ModelSpec) if f.default is not MISSING}


@lru_cache(maxsize=65536)
def spec_digest(spec: ModelSpec) -> str:
    """``sha256:<hex>`` of the spec's values, those equal to their default left out: a field
    added to the contract later does not change the digest of a spec recorded before it."""
    record = {
        key: asdict(value) if is_dataclass(value) else value  # the canary
        for key, value in _flat(spec).items()
        if key not in _SPEC_DEFAULTS or value != _SPEC_DEFAULTS[key]
    }
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def spec_key(model: Model) -> SpecKey:
    return (model.provenance.commit, spec_digest(model.spec))


def dumps(
    entries: Iterable[IndexEntry],
    shared_files: Iterable[str],
    kept: Iterable[Damaged] = (),
    *,
    code: str = "",
    rejected: Iterable[Rejected] = (),
) -> bytes:
    """index.json of a tree; ``kept``: damaged entries written back exactly as they were;
    ``code``: the digest of the Modelship whose digests the entries record; ``rejected`` is
    written only when there is one (a tree without stays as it was)."""
    kept = tuple(kept)  # read twice: the entries, then what jsontext must write as read
    models: dict[str, Any] = {item.id: item.record for item in kept}
    for entry in sorted(entries, key=lambda e: e.id):
        specs: dict[str, Any] = {}

        def ref(spec: ModelSpec, specs: dict[str, Any] = specs) -> str:
            digest = spec_digest(spec)
            if digest not in specs:
                specs[digest] = mlproject.record_of(spec)
            return digest

        record: dict[str, Any] = {
            "source": _flat(entry.model.provenance),
            "spec": ref(entry.model.spec),
            "state": entry.state,
            "files": sorted(entry.files),
            "environments": {
                name: _environment_record(placed, ref)
                for name, placed in sorted(entry.environments.items())
            },
        }
        if entry.errors:
            record["errors"] = list(entry.errors)
        made = {key: value for key, value in _flat(entry.digests).items() if value}
        if made:
            record["digests"] = made
        if entry.waiting:
            record["waiting_for_image"] = {
                name: sorted(images) for name, images in sorted(entry.waiting.items())
            }
        record["specs"] = specs
        models[entry.id] = record
    document: dict[str, Any] = {
        "format": FORMAT,
        "models": models,
        "rendered_by": {"modelship": __version__},
        "shared_files": sorted(shared_files),
    }
    if code:
        document["code"] = code
    refused = {item.repo: {"commit": item.commit, "errors": list(item.errors)} for item in rejected}
    if refused:
        document["rejected"] = refused
    as_read = [item.record for item in kept]
    return jsontext.dumps(document, as_read=as_read) + b"\n"


def _flat(value: Any) -> dict[str, Any]:
    """A dataclass of plain values as a mapping (``asdict`` without its deep copy)."""
    return {name: getattr(value, name) for name in _field_names(type(value))}


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    """A dataclass's fields, in order (``fields()`` finds them anew on every call)."""
    return tuple(f.name for f in fields(kind))


def _environment_record(placed: EnvironmentEntry, ref: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": _flat(placed.model.provenance),
        "spec": ref(placed.model.spec),
        "namespace": placed.namespace,
        "instances": placed.instances,
        "slo": placed.slo,
        "image": placed.image,
        "state": placed.state,
    }
    if placed.errors:
        record["errors"] = list(placed.errors)
    if placed.promotion is not None:
        record["promotion"] = _flat(placed.promotion)
    return record


Item = TypeVar("Item")
Made = TypeVar("Made")
# How a list of items is made into a list of results, one per item in order: ``make(items)``
# in this process (``serially``), or shared out (``spread.py``).
Each = Callable[[Callable[[Sequence[Any]], list[Any]], Sequence[Any]], list[Any]]


def serially(make: Callable[[Sequence[Item]], list[Made]], items: Sequence[Item]) -> list[Made]:
    return make(items)


class Stamps(Protocol):
    """What tells an index.json text known sound (``index_stamps``): this very text was
    written, or checked without a problem, by this Modelship."""

    def sound(self, data: bytes) -> bool: ...

    def stamp(self, data: bytes) -> None:
        """``data`` is sound: it passed the check without a problem, or this Modelship
        planned it with no damaged entry kept as it was."""


def loads(
    data: bytes, where: str = INDEX_PATH, each: Each = serially, stamps: Stamps | None = None
) -> Index:
    """Parse and check an index.json. Every entry is checked as untrusted input — each spec
    by the MLproject rules, ids, sources, digests, files and states by index.schema.json —
    because kept and promoted models are rendered again from it. A damaged document is a
    configuration error (exit 2), never 'no models'; a damaged entry is a ``Damaged`` of
    that model alone. A text ``stamps`` knows sound is read without the check (the same
    Index), and one the check finds sound is told to them."""
    try:
        text = data.decode("utf-8")
        document = json.loads(text)
    except RecursionError:
        raise ConfigError(f"{where}: not a Modelship index (nested too deeply to read)") from None
    except UnicodeDecodeError as error:
        at = error.start
        raise ConfigError(f"{where}: not a Modelship index (not UTF-8 text, byte {at})") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{where}: not a Modelship index ({error})") from None
    except ValueError:  # the only other: an integer of more digits than Python converts
        raise ConfigError(f"{where}: not a Modelship index (a number too long to read)") from None
    if stamps is not None and stamps.sound(data):
        checked = _Checked(specs=_sound_specs(document))
    else:
        checked = _check(yamlpos.YamlDocument(document), where, each)
        if stamps is not None and not (checked.document or checked.entries):
            stamps.stamp(data)
    if checked.document or checked.entries:
        # Positions cost a second parse, paid only to report the problems.
        checked = _check(_positioned(text, document), where)
    if checked.document:
        raise ConfigError(
            f"{where}: not a valid Modelship index:\n" + "\n".join(map(str, checked.document))
        )
    version = document["format"]
    models: dict[str, IndexEntry] = {}
    damaged: dict[str, Damaged] = {}
    for model_id, entry in document["models"].items():
        problems = checked.entries.get(model_id)
        if problems:
            damaged[model_id] = _damaged(model_id, entry, problems)
        elif entry_format(version, entry) == 1:
            models[model_id] = _entry_v1(model_id, entry, checked.specs)
        else:
            models[model_id] = _entry_v2(model_id, entry, checked.specs)
    rejected = {
        repo: Rejected(repo, item["commit"], tuple(item["errors"]))
        for repo, item in document.get("rejected", {}).items()
    }
    shared = tuple(document.get("shared_files", ()))
    return Index(models, shared, damaged, version, code=document.get("code", ""), rejected=rejected)


def _sound_specs(document: dict[str, Any]) -> dict[tuple[str, str], ModelSpec]:
    """The specs of a sound index, by (model id, digest) as ``_check`` gives them."""
    version = document["format"]
    specs = {}
    for model_id, entry in document["models"].items():
        if entry_format(version, entry) == 1:
            specs[(model_id, "")] = mlproject.sound_record(entry["spec"])
        else:
            for digest, record in entry["specs"].items():
                specs[(model_id, digest)] = mlproject.sound_record(record)
    return specs


def entry_format(version: Any, entry: Any) -> int:
    """The format an entry is written in: its document's, except that a format-1 entry kept
    verbatim (damaged, or repaired by hand since) in a format-2 document is format 1 still
    — the schema says so the same way (an entry with ``namespace``)."""
    if version == 1 or (isinstance(entry, dict) and "namespace" in entry):
        return 1
    return 2


def known_states(data: bytes, wanted: Iterable[SpecKey]) -> dict[SpecKey, Model]:
    """The states among ``wanted`` that an index.json (of any format, e.g. from the rendered
    repository's history) records, each checked like a current entry. An entry that is
    damaged, or a document that is no index, yields nothing."""
    commits = {commit for commit, _ in wanted}
    found: dict[SpecKey, Model] = {}
    for entry in _entries_of(data, lambda record: _commits_of(record) & commits):
        for key, model in entry_catalog(entry).items():
            if key in wanted:
                found.setdefault(key, model)
    return found


def entry_catalog(entry: IndexEntry) -> dict[SpecKey, Model]:
    known = {spec_key(entry.model): entry.model}
    for placed in entry.environments.values():
        known.setdefault(placed.key, placed.model)
    return known


def recorded_state(data: bytes, model_id: str, environment: str) -> EnvironmentEntry | None:
    """What an index.json (of any format) records of ``model_id`` in ``environment``."""
    for entry in _entries_of(data, lambda record: True, only=model_id):
        return entry.environments.get(environment)
    return None


def _commits_of(record: Any) -> set[str]:
    """The commits a raw entry names, cheaply: to skip the entries not worth checking."""
    if not isinstance(record, dict):
        return set()
    sources = [record.get("source")]
    placed = record.get("environments")
    if isinstance(placed, dict):
        sources += [r.get("source") for r in placed.values() if isinstance(r, dict)]
    return {
        s["commit"] for s in sources if isinstance(s, dict) and isinstance(s.get("commit"), str)
    }


def _entries_of(data: bytes, worth: Any, only: str | None = None) -> Iterable[IndexEntry]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict):
        return
    for model_id, record in models.items():
        if (only is not None and model_id != only) or not worth(record):
            continue
        single = {"format": document.get("format"), "models": {model_id: record}}
        try:
            checked = loads(json.dumps(single).encode(), INDEX_PATH)
        except ConfigError:
            continue
        if model_id in checked.models:  # a damaged entry is no state to run
            yield checked.models[model_id]


def _repository_rule() -> dict[str, Any]:
    """index.json's rule for a model's source repository: the one declaration of it."""
    rule: dict[str, Any] = resources.schema("index")["$defs"]["source"]["properties"]["repo"]
    return rule


def repository_problem(full_name: str) -> str | None:
    """Why index.json could not record ``full_name`` (owner/name) as a model's source, or
    None. A source checks it before it offers a repository: what index.json cannot hold
    would wedge every later run."""
    rule = _repository_rule()
    if schemacheck.fast_valid(rule, full_name) or schemacheck.validator_for(rule).is_valid(
        full_name
    ):
        return None
    return f"{full_name!r} cannot be a model's repository: it {rule['x-message']}"


def tree_index(
    tree: Mapping[str, bytes],
    where: str,
    at: str = "",
    each: Each = serially,
    stamps: Stamps | None = None,
) -> Index:
    """The index of a rendered tree ({path: bytes}): empty for an empty tree, and an error
    for a tree with files but no index.json — that is not a tree without models. ``at``
    names the commit the tree is read at (messages say "rendered/index.json at HEAD");
    ``each`` checks its entries, and ``stamps`` tell an index.json known sound (``loads``)."""
    data = tree.get(INDEX_PATH)
    revision = f" at {at}" if at else ""
    if data is None:
        if tree:
            raise ConfigError(foreign_tree(f"{where}{revision}"))
        return Index()
    return loads(data, f"{where}/{INDEX_PATH}{revision}", each, stamps)


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
    # The checked specs of sound entries, by (model id, digest); a format-1 entry's one
    # spec under "".
    specs: dict[tuple[str, str], ModelSpec] = field(default_factory=dict)

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


def _check(document: yamlpos.YamlDocument, where: str, each: Each = serially) -> _Checked:
    """Every problem of an index document, each told apart as the document's or one entry's
    (with the path it is about), and the checked specs of every sound entry. The entries
    are checked one by one, by ``each`` (one process, or spread: ``spread.py``)."""
    checked = _Checked()
    schema = schemacheck.inlined(resources.schema("index"))
    data = document.data if isinstance(document.data, dict) else {}
    version = data.get("format")
    models = data.get("models")
    entries = list(models.items()) if isinstance(models, dict) else []
    results = each(functools.partial(_check_entries, document, where, version), entries)
    if not _certainly_valid(document.data, [result.certain for result in results]):
        for at, found in schemacheck.located(document, schema, where, "index"):
            checked.add(at, found)
    for (model_id, _), result in zip(entries, results, strict=True):
        for at, found in result.problems:
            checked.add(at, found)
        if model_id not in checked.entries:
            checked.specs.update(result.specs)
    return checked


@dataclass(frozen=True)
class _EntryChecked:
    """One entry's check: whether the schema accepts it for certain (False: ask
    jsonschema, which words the problems), the problems found beside the schema's, and the
    checked specs it holds by (model id, digest)."""

    certain: bool
    problems: list[tuple[yamlpos.PathKey, Finding]]
    specs: dict[tuple[str, str], ModelSpec]


def _check_entries(
    document: yamlpos.YamlDocument, where: str, version: Any, entries: Sequence[tuple[str, Any]]
) -> list[_EntryChecked]:
    return [_check_entry(document, where, version, model_id, entry) for model_id, entry in entries]


def _check_entry(
    document: yamlpos.YamlDocument, where: str, version: Any, model_id: str, entry: Any
) -> _EntryChecked:
    if not isinstance(entry, dict):
        return _EntryChecked(False, [], {})  # the schema reports it
    shape = _shape(entry, yamlpos.MAX_DEPTH)
    at = ("models", model_id)
    if shape.too_deep:
        message = f"values are nested more than {yamlpos.MAX_DEPTH} levels deep"
        return _EntryChecked(
            False, [(at, _finding(document, where, at, message, "index/depth"))], {}
        )
    certain = _entry_certainly_valid(version, entry, shape)
    problems: list[tuple[yamlpos.PathKey, Finding]] = []
    held = entry.get("specs")
    if entry_format(version, entry) == 1 and "spec" in entry:
        records = {"": (*at, "spec")}
    elif entry_format(version, entry) == 2 and isinstance(held, dict):
        records = {digest: (*at, "specs", digest) for digest in held}
        problems.extend(_reference_problems(document, where, model_id, entry, held))
    else:
        return _EntryChecked(certain, problems, {})  # the schema reports it
    specs = {}
    for digest, spec_at in records.items():
        spec = _checked_spec(document, spec_at, where, problems)
        if spec is None:
            continue
        if spec.id != model_id:
            message = f"the entry of {model_id!r} holds the model {spec.id!r}"
            id_at = (*spec_at, "id")
            problems.append((id_at, _finding(document, where, id_at, message, "index/id")))
        elif digest and spec_digest(spec) != digest:
            message = f"is not the digest of the spec it holds ({spec_digest(spec)})"
            found = _finding(document, where, spec_at, message, "index/spec-digest")
            problems.append((spec_at, found))
        else:
            specs[(model_id, digest)] = spec
    return _EntryChecked(certain, problems, {} if problems else specs)


def _checked_spec(
    document: yamlpos.YamlDocument,
    at: yamlpos.PathKey,
    where: str,
    problems: list[tuple[yamlpos.PathKey, Finding]],
) -> ModelSpec | None:
    result = mlproject.check_record(document, at, where)
    prefix = schemacheck.dotted(at)
    for problem in result.findings:
        key = f"{prefix}.{problem.key}" if problem.key else prefix
        problems.append((at, replace(problem, key=key)))
    return result.spec


def _reference_problems(
    document: yamlpos.YamlDocument,
    where: str,
    model_id: str,
    entry: dict[str, Any],
    held: dict[str, Any],
) -> list[tuple[yamlpos.PathKey, Finding]]:
    """A format-2 entry refers to its specs by digest: each must be one it holds."""
    references: list[tuple[yamlpos.PathKey, Any]] = [
        (("models", model_id, "spec"), entry.get("spec"))
    ]
    placed = entry.get("environments")
    for name, record in placed.items() if isinstance(placed, dict) else ():
        if isinstance(record, dict):
            references.append(
                (("models", model_id, "environments", name, "spec"), record.get("spec"))
            )
    problems = []
    for at, digest in references:
        if isinstance(digest, str) and digest not in held:
            message = f"names the spec {digest}, which the entry's specs do not hold"
            problems.append((at, _finding(document, where, at, message, "index/spec-ref")))
    return problems


@dataclass(frozen=True)
class _Shape:
    too_deep: bool  # lists and mappings nested more than the limit
    holds_float: bool


def _shape(value: Any, limit: int) -> _Shape:
    """Whether ``value`` nests lists and mappings more than ``limit`` levels deep (checked
    without recursion, before any check that recurses), and whether it holds a float (which
    the compiled schema check cannot judge): one walk for both, scalars looked at in their
    container without a trip through the stack. JSON keys are strings."""
    if not isinstance(value, dict | list):
        return _Shape(too_deep=False, holds_float=type(value) is float)
    pending = [(value, 0)]
    floats = False
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth >= limit and children:  # a value deeper than the limit
            return _Shape(too_deep=True, holds_float=floats)
        for child in children:
            if isinstance(child, dict | list):
                pending.append((child, depth + 1))
            elif type(child) is float:
                floats = True
    return _Shape(too_deep=False, holds_float=floats)


def _certainly_valid(data: Any, entries: Iterable[bool]) -> bool:
    """True when the document passes index.schema.json for certain: its own keys (format,
    shared_files, ...) by the compiled schema, and each entry (``entries``: whether
    ``_entry_certainly_valid``). False means "ask jsonschema", which words the problems."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        return False
    schema = schemacheck.inlined(resources.schema("index"))
    return schemacheck.fast_valid(schema, {**data, "models": {}}) and all(entries)


def _entry_certainly_valid(version: Any, entry: dict[str, Any], shape: _Shape) -> bool:
    """True when the entry passes index.schema.json's rule for the format it is written in
    (``entry_format``, which the schema's if/then/else says the same way) for certain —
    the whole document at once would take the schema's "if" branch, an exception in the
    compiled code, for every entry, and one float anywhere (a spec's slo_objective) would
    send every entry to jsonschema. Checked by the compiled rule, or by jsonschema when the
    entry holds a float."""
    rule = _entry_rule(entry_format(version, entry))
    if shape.holds_float:
        return schemacheck.validator_for(rule).is_valid(entry)
    return schemacheck.valid_without_floats(rule, entry)


@lru_cache(maxsize=2)
def _entry_rule(version: int) -> dict[str, Any]:
    """index.schema.json's rule for one entry written in format ``version``."""
    schema = resources.schema("index")
    definitions = schema["$defs"]
    rule = definitions["modelV1" if version == 1 else "modelV2"]
    return schemacheck.inlined({"$defs": definitions, **rule})


def environment_folders(files: Iterable[str]) -> set[str]:
    """The environments whose folders hold some of ``files`` (the top folder of a path,
    jenkins/ aside): where a model written in format 1 ran."""
    return {path.split("/", 1)[0] for path in files if "/" in path} - {JENKINS_FOLDER}


def _damaged(
    model_id: str, record: Any, problems: list[tuple[yamlpos.PathKey, Finding]]
) -> Damaged:
    """What can still be trusted of a damaged entry: the parts no problem is about."""

    def sound(*path: str) -> bool:
        at = ("models", model_id, *path)
        return not any(where[: len(at)] == at or at[: len(where)] == where for where, _ in problems)

    entry = record if isinstance(record, dict) else {}
    files = entry.get("files")
    source = entry.get("source")
    repo = source.get("repo") if isinstance(source, dict) else None
    kept_files = tuple(files) if isinstance(files, list) and sound("files") else None
    placed = entry.get("environments")
    names = environment_folders(kept_files or ())
    if isinstance(placed, dict):
        names.update(name for name in placed if isinstance(name, str))
    return Damaged(
        id=model_id,
        record=record,
        problems=tuple(sorted(found for _, found in problems)),
        files=kept_files,
        # The repository it names, even one that is no valid name (an older Modelship wrote
        # folder names such as "acme/my model"): it still holds the id, and once a complete
        # scan no longer sees it, the entry is gone and its id free again.
        repo=repo if isinstance(repo, str) and repo else None,
        environments=tuple(sorted(names)),
    )


def _positioned(text: str, document: Any) -> yamlpos.YamlDocument:
    """The document with the line and column of every key (JSON is YAML), or without
    positions when YAML reads the text otherwise."""
    try:
        positioned = yamlpos.load(text)
    except yamlpos.YamlSyntaxError:
        return yamlpos.YamlDocument(document)
    return positioned if positioned.data == document else yamlpos.YamlDocument(document)


def _provenance(data: dict[str, Any]) -> Provenance:
    return Provenance(**data)


def _entry_v1(
    model_id: str, data: dict[str, Any], specs: Mapping[tuple[str, str], ModelSpec]
) -> IndexEntry:
    """A format-1 entry: one spec and commit, run in every environment whose folder holds
    one of its files."""
    model = Model(specs[(model_id, "")], _provenance(data["source"]))
    errors = tuple(data.get("errors", ()))
    files = tuple(data["files"])
    placed = EnvironmentEntry(
        model=model,
        namespace=data["namespace"],
        instances=data["instances"],
        slo=data["slo"],
        image=data["image"],
        state=data["state"],
        errors=errors,
    )
    return IndexEntry(
        model=model,
        state=data["state"],
        files=files,
        errors=errors,
        environments=dict.fromkeys(sorted(environment_folders(files)), placed),
    )


def _entry_v2(
    model_id: str, data: dict[str, Any], specs: Mapping[tuple[str, str], ModelSpec]
) -> IndexEntry:
    def model(record: dict[str, Any]) -> Model:
        return Model(specs[(model_id, record["spec"])], _provenance(record["source"]))

    environments = {}
    for name, record in data["environments"].items():
        promotion = record.get("promotion")
        environments[name] = EnvironmentEntry(
            model=model(record),
            namespace=record["namespace"],
            instances=record["instances"],
            slo=record["slo"],
            image=record["image"],
            state=record["state"],
            errors=tuple(record.get("errors", ())),
            promotion=Promotion(**promotion) if promotion is not None else None,
        )
    return IndexEntry(
        model=model(data),
        state=data["state"],
        files=tuple(data["files"]),
        errors=tuple(data.get("errors", ())),
        environments=environments,
        digests=Digests(**data.get("digests", {})),
        waiting={name: tuple(images) for name, images in data.get("waiting_for_image", {}).items()},
    )
