"""MLproject text → ModelSpec, or the Findings that explain why not.   (pure)

Three passes, all findings collected before anything is returned:
YAML (syntax, duplicate keys), the JSON schema (types, ranges, unknown keys),
then the rules a schema cannot say (one MLflow environment, PEP 508 packages,
entry point shapes MLflow would crash on).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from generator import resources, schemacheck, wording, yamlpos
from generator.findings import Finding, Severity, has_errors

MLFLOW_ENV_KEYS = ("docker_env", "python_env", "conda_env")
INPUT_TYPES = ("integers", "floats", "doubles", "bytes", "strings")
# The schemes a package URL (``name @ URL``) may use: the image build fetches it, and these
# are the ones that authenticate the server and encrypt the transfer.
PACKAGE_URL_SCHEMES = ("https", "git+https")


@dataclass(frozen=True)
class Canary:
    """A second version of the model beside it: the build of its repository at ``commit``,
    holding the trained model ``version`` (None: the spec's own), taking ``weight`` percent
    of the requests at the gateway."""

    commit: str
    weight: int
    version: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """The validated platform metadata of one MLproject.

    ``slo`` and ``instances`` are None when the file leaves them to the
    platform's defaults.
    """

    name: str
    id: str
    team: str
    description: str
    version: str
    input_type: str
    default_output: str
    main_language: str = "python"
    exposed: bool = False
    pickle: bool = True
    slo: int | None = None
    instances: int | None = None
    packages: tuple[str, ...] = ()
    skip_environments: tuple[str, ...] = ()
    mlflow_env: str | None = None
    entry_points: tuple[str, ...] = ()
    slo_objective: float | None = None  # None: the platform's monitoring.objective
    canary: Canary | None = None

    @property
    def runtime(self) -> str:
        """The key of ``jenkins.base_images`` the model's image is built on: its main-language,
        with ``-mlflow`` for an MLflow model (``pickle: false``), whose server needs mlflow."""
        return self.main_language if self.pickle else f"{self.main_language}-mlflow"


@dataclass(frozen=True)
class ParseResult:
    spec: ModelSpec | None
    findings: tuple[Finding, ...] = field(default=())
    # Where each top-level value is written, for rules checked later (policy.py).
    positions: dict[str, yamlpos.Position] = field(default_factory=dict)


def is_mlproject_filename(name: str) -> bool:
    """MLflow's rule: the file whose lower-cased name is ``mlproject``."""
    return name.lower() == "mlproject"


# Real MLproject files are a few hundred bytes; this is far beyond any of them and small
# enough that no source reads more than this of a file before refusing it.
MAX_BYTES = 256 * 1024


def too_large(name: str, size: int) -> str:
    return wording.too_large(name, size, MAX_BYTES, "an MLproject")


def several_files(names: Iterable[str]) -> str | None:
    """Why a repository with more than one MLproject file (names differing in letter case)
    cannot be read, or None: MLflow refuses such a project, and sources would disagree on
    which one counts."""
    found = sorted(names)
    if len(found) < 2:
        return None
    return (
        f"the repository has {len(found)} MLproject files ({', '.join(found)}); MLflow "
        "refuses a project with more than one: keep one"
    )


class _Collector:
    """Builds Findings for one file, positioned from its YAML document."""

    def __init__(self, path: str, repo: str, document: yamlpos.YamlDocument | None) -> None:
        self.path = path
        self.repo = repo
        self.document = document
        self.findings: list[Finding] = []

    def add(
        self,
        at: tuple[Any, ...],
        message: str,
        rule: str,
        severity: Severity = Severity.ERROR,
        on_key: bool = False,
        position: yamlpos.Position | None = None,
    ) -> None:
        if position is None and self.document is not None:
            position = (
                self.document.key_position(at) if on_key else self.document.value_position(at)
            )
        position = position or yamlpos.Position(1, 1)
        self.findings.append(
            Finding(
                path=self.path,
                line=position.line,
                column=position.column,
                key=schemacheck.dotted(at),
                message=message,
                rule=f"mlproject/{rule}",
                severity=severity,
                repo=self.repo,
            )
        )


def parse(text: str, path: str = "MLproject", repo: str = "") -> ParseResult:
    """Parse and validate one MLproject. ``repo`` is ``owner/name`` when known."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        message = too_large(PurePosixPath(path).name, size)
        return ParseResult(
            None, (Finding(path, 1, 1, "", message, "mlproject/too-large", repo=repo),)
        )
    if (found := _AMBIGUOUS_BREAK.search(text)) is not None:
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        message = (
            f"the file holds U+{ord(found.group()):04X}, which YAML 1.1 (Modelship, MLflow) "
            "reads as a line break and YAML 1.2 (editors, GitHub) does not: the two would "
            "see different keys; remove it, or write it as an escape in a quoted string"
        )
        return ParseResult(
            None, (Finding(path, line, column, "", message, "mlproject/line-break", repo=repo),)
        )
    try:
        document = yamlpos.load(text)
    except yamlpos.YamlSyntaxError as error:
        position = error.position
        message = f"invalid YAML: {error.message}"
        finding = Finding(path, position.line, position.column, "", message, "mlproject/yaml")
        return ParseResult(None, (replace(finding, repo=repo),))

    collector = _Collector(path, repo, document)
    if document.data is None:
        collector.add((), "the file is empty; see `modelship schema` for the keys", "empty")
        return ParseResult(None, tuple(collector.findings))
    for duplicate in document.duplicates:
        collector.add(
            duplicate.path,
            f"duplicate key (first defined at line {duplicate.first.line})",
            "duplicate-key",
            position=duplicate.position,
        )
    values = _Collector(path, repo, document)
    _check_values(values, document, "mlproject")
    data = document.data
    hinted: set[str] = set()
    if isinstance(data, dict):
        hinted = _check_value_hints(collector, data)
        _check_number_forms(collector, hinted)
        _check_environments(collector, data)
        _check_entry_points(collector, data)
        _check_name(collector, data, repo)
    # A "quote it" hint says more than the schema's type error for the same key.
    collector.findings.extend(
        f for f in values.findings if not (f.key in hinted and f.rule == "mlproject/type")
    )
    findings = tuple(sorted(collector.findings))
    if has_errors(findings):
        return ParseResult(None, findings)
    positions = {key[0]: pos for key, pos in document.values.items() if len(key) == 1}
    return ParseResult(_spec(data), findings, positions)


# index.json records a ModelSpec as dataclasses.asdict() writes it: one key is spelt otherwise
# than in an MLproject, and two record what the MLproject's environment and entry points were.
RECORD_RENAMED = {"main_language": "main-language"}
RECORD_ONLY = ("mlflow_env", "entry_points")
_LEFT_TO_PLATFORM = ("slo", "instances")  # None in a record: the MLproject left them out
# Keys a record leaves out when the MLproject does: records written before they existed,
# and those written since, are the same bytes for a model that does not use them.
_OMITTED_WHEN_ABSENT = ("slo_objective", "canary")


def record_of(spec: ModelSpec) -> dict[str, Any]:
    """The spec as index.json records it: ``dataclasses.asdict`` (a canary as a mapping),
    lists for tuples, and none of the keys an MLproject leaves out when it does (a canary's
    version among them). Written out rather than by ``asdict``, which copies every value."""
    record: dict[str, Any] = {}
    for key in _SPEC_FIELDS:
        value = getattr(spec, key)
        if type(value) is tuple:
            value = list(value)
        elif value is None:
            if key in _OMITTED_WHEN_ABSENT:
                continue
        elif type(value) is Canary:
            value = {
                name: part for name in _CANARY_FIELDS if (part := getattr(value, name)) is not None
            }
        record[key] = value
    return record


_SPEC_FIELDS = tuple(f.name for f in fields(ModelSpec))
_CANARY_FIELDS = tuple(f.name for f in fields(Canary))


_NO_DEFAULT = object()
_RECORD_DEFAULTS = {
    f.name: list(f.default) if isinstance(f.default, tuple) else f.default
    for f in fields(ModelSpec)
    if f.default is not MISSING
}


def check_record(document: yamlpos.YamlDocument, at: yamlpos.PathKey, path: str) -> ParseResult:
    """A ModelSpec as index.json records it, at ``at`` in ``document``, checked by the rules of
    an MLproject — the same schema and value rules, applied to the MLproject the record stands
    for — and then required to be exactly what that MLproject gives: a record holds only what
    a valid MLproject can, so what ``validate`` accepts is what index.json accepts."""
    part = document.below(at, RECORD_RENAMED)
    collector = _Collector(path, "", part)
    record = part.data
    if not isinstance(record, dict):
        collector.add((), "must be a mapping of the model's MLproject values", "record")
        return ParseResult(None, tuple(collector.findings))
    environment = record.get("mlflow_env")
    if environment is not None and environment not in MLFLOW_ENV_KEYS:
        collector.add(
            ("mlflow_env",),
            f"must be {', '.join(sorted(MLFLOW_ENV_KEYS))} or null (got {environment!r})",
            "record",
        )
    project = _project_of(record)
    if "entry_points" not in project:
        collector.add(("entry_points",), "must be a list of entry point names", "record")
    as_written = yamlpos.YamlDocument(
        project, part.keys, part.values, part.plain_scalars, part.duplicates
    )
    _check_values(collector, as_written, "index")
    findings = tuple(sorted(f for f in collector.findings if f.is_error))
    if findings:
        return ParseResult(None, findings)
    spec = _spec(project, mlflow_env=environment)
    written = document.value_at(at)
    # A key the record leaves out is at its default: a record written before the key
    # existed (skip_environments) holds what an MLproject without it gives.
    full = record_of(spec)
    expected = {
        key: value
        for key, value in full.items()
        if key in written or _RECORD_DEFAULTS.get(key, _NO_DEFAULT) != value
    }
    if written != expected:
        differing = sorted(key for key in expected if written.get(key) != expected[key])
        for key in differing or ["entry_points"]:
            collector.add(
                (RECORD_RENAMED.get(key, key),),
                f"is not as an MLproject gives it: {full[key]!r}",
                "record",
            )
        return ParseResult(None, tuple(sorted(collector.findings)))
    return ParseResult(spec)


def sound_record(record: dict[str, Any]) -> ModelSpec:
    """The ModelSpec of a record index.json holds, for an index.json known sound
    (``index_stamps``): what ``check_record`` gives for it, without checking it again."""
    renamed = {RECORD_RENAMED.get(key, key): value for key, value in record.items()}
    return _spec(_project_of(renamed), mlflow_env=renamed.get("mlflow_env"))


def _project_of(record: dict[str, Any]) -> dict[str, Any]:
    """The MLproject values a record (its keys as an MLproject spells them) stands for: its
    entry points as an MLproject holds them, by name (their content is not recorded), and
    none when the record's are not a list of names."""
    project = {
        key: value
        for key, value in record.items()
        if key not in RECORD_ONLY and not (value is None and key in _LEFT_TO_PLATFORM)
    }
    names = record.get("entry_points", [])
    if isinstance(names, list) and all(_hashable(name) for name in names):
        project["entry_points"] = {name: {} for name in names}
    return project


def _hashable(value: Any) -> bool:
    return not isinstance(value, list | dict)


def _check_values(collector: _Collector, document: yamlpos.YamlDocument, rule_prefix: str) -> None:
    """The rules every value a model's spec holds must pass, for an MLproject and for its
    record in index.json alike: the JSON schema, then what it cannot say."""
    collector.findings.extend(
        schemacheck.check(
            document, resources.schema("mlproject"), collector.path, rule_prefix, collector.repo
        )
    )
    if isinstance(document.data, dict):
        _check_packages(collector, document.data)


_FROM_KEYS = object()  # _spec's mlflow_env: the MLproject's environment key


def _spec(data: dict[str, Any], mlflow_env: Any = _FROM_KEYS) -> ModelSpec:
    """The ModelSpec of a valid MLproject; a key it leaves out takes ModelSpec's default.
    ``mlflow_env``: the environment a record in index.json names, instead of the one the
    MLproject's keys say."""
    optional = {
        field: data[key]
        for key, field in (
            ("main-language", "main_language"),
            ("exposed", "exposed"),
            ("pickle", "pickle"),
            ("slo", "slo"),
            ("instances", "instances"),
            ("slo_objective", "slo_objective"),
        )
        if key in data
    }
    if "canary" in data:
        optional["canary"] = Canary(**data["canary"])
    return ModelSpec(
        name=data["name"],
        id=data["id"],
        team=data["team"],
        description=data["description"],
        version=data["version"],
        input_type=data["input_type"],
        default_output=data["default_output"],
        packages=tuple(data.get("packages") or ()),
        skip_environments=tuple(sorted(data.get("skip_environments") or ())),
        mlflow_env=(
            next((key for key in MLFLOW_ENV_KEYS if data.get(key)), None)
            if mlflow_env is _FROM_KEYS
            else mlflow_env
        ),
        entry_points=tuple(sorted(data.get("entry_points") or {})),
        **optional,
    )


def _check_value_hints(collector: _Collector, data: dict[str, Any]) -> set[str]:
    """Values YAML turned into numbers that the author meant as text; returns their keys."""
    hinted: set[str] = set()
    for key in ("version", "default_output", "description", "name", "id"):
        if key in data and isinstance(data[key], int | float) and not isinstance(data[key], bool):
            raw = collector.document.plain_scalars.get((key,)) if collector.document else None
            if raw is not None:
                collector.add(
                    (key,),
                    f'YAML read {raw} as a number; quote it: {key}: "{raw}"',
                    "quote-value",
                )
                hinted.add(key)
    return hinted


_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\Z")
# Line breaks of YAML 1.1 only: a text holding one is read differently by YAML 1.2 readers.
_AMBIGUOUS_BREAK = re.compile("[\x85\u2028\u2029]")


def _number_form(raw: str) -> str:
    """How YAML 1.1 read the integer ``raw`` that is not a plain decimal number."""
    body = raw.lstrip("+-").lower()
    if ":" in body:
        return "base 60"
    if body.startswith("0x"):
        return "hexadecimal"
    if body.startswith("0b"):
        return "binary"
    if body.startswith("0"):
        return "octal"
    if "_" in body:
        return "underscores"
    return "plus sign"


def _check_number_forms(collector: _Collector, hinted: set[str]) -> None:
    """Integers written in a form YAML 1.1 reads in a surprising base (``010`` is 8, ``1:40:00``
    is 6000) or that YAML 1.2 readers take for text (``100_000``): said, never silent."""
    document = collector.document
    if document is None:
        return
    for path, raw in sorted(document.plain_scalars.items(), key=lambda item: str(item[0])):
        if _DECIMAL.match(raw) or (len(path) == 1 and path[0] in hinted):
            continue
        value = document.value_at(path)
        if isinstance(value, int) and not isinstance(value, bool):
            collector.add(
                path,
                f"YAML reads {raw} as the number {value} ({_number_form(raw)}); write {value} "
                "if that is what you mean, or quote it if it is text",
                "number-form",
                Severity.WARNING,
            )


def _check_environments(collector: _Collector, data: dict[str, Any]) -> None:
    present = [key for key in MLFLOW_ENV_KEYS if key in data]
    if len(present) > 1:
        for key in present[1:]:
            collector.add(
                (key,),
                f"a project can use only one environment; it also sets {present[0]}",
                "multiple-environments",
                on_key=True,
            )


def _check_packages(collector: _Collector, data: dict[str, Any]) -> None:
    packages = data.get("packages")
    if not isinstance(packages, list):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(packages):
        if not isinstance(entry, str) or not _valid_package_item(entry):
            continue  # the schema reported it
        reading = _package_reading(entry)
        if isinstance(reading, _PackageProblem):
            collector.add(("packages", index), reading.message, reading.rule)
            continue
        name, written = reading
        if name in seen:
            collector.add(
                ("packages", index),
                f"{written} is already listed at packages[{seen[name]}]",
                "duplicate-package",
                Severity.WARNING,
            )
        seen.setdefault(name, index)


@dataclass(frozen=True)
class _PackageProblem:
    message: str
    rule: str


# Pure functions of a package string, cached: most models list the same few packages, and
# index.json checks every model's packages on every run.
@lru_cache(maxsize=8192)
def _valid_package_item(entry: str) -> bool:
    """Whether the schema's rule for one package string holds (the schema reports it if not)."""
    rule = resources.schema("mlproject")["properties"]["packages"]["items"]
    return bool(schemacheck.validator_for(rule).is_valid(entry))


@lru_cache(maxsize=8192)
def _package_reading(entry: str) -> tuple[str, str] | _PackageProblem:
    """A package string's normalised name and its name as written, or why it is refused."""
    try:
        requirement = Requirement(entry)
    except InvalidRequirement as error:
        reason = str(error).splitlines()[0]
        return _PackageProblem(f"not a PEP 508 requirement ({reason}) (got {entry!r})", "pep508")
    if requirement.url is not None and (problem := _package_url_problem(requirement.url)):
        return _PackageProblem(f"{problem} (got {entry!r})", "package-url")
    return requirement.name.lower().replace("_", "-"), requirement.name


def _package_url_problem(url: str) -> str | None:
    """Why a package URL breaks the platform's policy (see SECURITY.md), or None."""
    try:
        parts = urlsplit(url)
        credentials = parts.username is not None or parts.password is not None
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() not in PACKAGE_URL_SCHEMES or not parts.hostname:
        schemes = " or ".join(f"{scheme}://" for scheme in PACKAGE_URL_SCHEMES)
        return f"a package URL must start with {schemes} and name a host"
    if credentials:
        return (
            "a package URL must not hold credentials (user:password@): they would be written "
            "into index.json, the Jenkins job and git history; give the build agent access"
        )
    return None


def _check_entry_points(collector: _Collector, data: dict[str, Any]) -> None:
    entry_points = data.get("entry_points")
    if not isinstance(entry_points, dict):
        return
    for name, entry in entry_points.items():
        if not isinstance(entry, dict):
            continue  # the schema reported it
        where = ("entry_points", name)
        for key in sorted(set(entry) - {"parameters", "command"}, key=str):
            collector.add(
                (*where, key),
                "MLflow ignores this key; an entry point has only 'parameters' and 'command'",
                "entry-point-key",
                Severity.WARNING,
                on_key=True,
            )
        if "parameters" in entry and entry["parameters"] is None:
            collector.add(
                (*where, "parameters"),
                "is empty; remove it or list parameters (MLflow fails on an empty mapping)",
                "empty-parameters",
            )
        parameters = entry.get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        for parameter, spec in parameters.items():
            _check_parameter(collector, (*where, "parameters", parameter), spec)
        command = entry.get("command")
        if "command" not in entry:
            collector.add(where, "missing 'command'; MLflow cannot run it", "no-command")
        elif isinstance(command, str):
            _check_placeholders(collector, (*where, "command"), command, parameters)


def _check_parameter(collector: _Collector, at: tuple[Any, ...], spec: Any) -> None:
    """MLflow reads only ``type`` and ``default``; ``{type:int}`` (no space) is a typo."""
    if isinstance(spec, dict):
        for key in sorted(set(spec) - {"type", "default"}, key=str):
            hint = ""
            if isinstance(key, str) and key.replace(" ", ":").startswith("type:"):
                hint = f"; write 'type: {key[5:].strip()}' with a space after the colon"
            collector.add(
                (*at, key),
                f"MLflow ignores this key and treats the parameter as a string{hint}",
                "parameter-key",
                Severity.WARNING,
                on_key=True,
            )


def _check_placeholders(
    collector: _Collector, at: tuple[Any, ...], command: str, parameters: dict[str, Any]
) -> None:
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(command) if f is not None}
    except ValueError as error:
        collector.add(at, f"MLflow cannot format this command: {error}", "command-format")
        return
    for placeholder in sorted(fields):
        if placeholder not in parameters:
            collector.add(
                at,
                f"{{{placeholder}}} is not a declared parameter; MLflow will fail at run time",
                "command-placeholder",
                Severity.WARNING,
            )


def _check_name(collector: _Collector, data: dict[str, Any], repo: str) -> None:
    name = data.get("name")
    repo_name = repo.rsplit("/", 1)[-1]
    if repo_name and isinstance(name, str) and name != repo_name:
        collector.add(
            ("name",),
            f"is normally the repository name ({repo_name!r}), got {name!r}",
            "name-mismatch",
            Severity.WARNING,
        )
