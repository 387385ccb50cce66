"""MLproject text → ModelSpec, or the Findings that explain why not.   (pure)

Three passes, all findings collected before anything is returned:
YAML (syntax, duplicate keys), the JSON schema (types, ranges, unknown keys),
then the rules a schema cannot say (one MLflow environment, PEP 508 packages,
entry point shapes MLflow would crash on).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from generator import resources, schemacheck, yamlpos
from generator.findings import Finding, Severity, has_errors

MLFLOW_ENV_KEYS = ("docker_env", "python_env", "conda_env")
INPUT_TYPES = ("integers", "floats", "doubles", "bytes", "strings")


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


@dataclass(frozen=True)
class ParseResult:
    spec: ModelSpec | None
    findings: tuple[Finding, ...] = field(default=())
    # Where each top-level value is written, for rules checked later (policy.py).
    positions: dict[str, yamlpos.Position] = field(default_factory=dict)


def is_mlproject_filename(name: str) -> bool:
    """MLflow's rule: the file whose lower-cased name is ``mlproject``."""
    return name.lower() == "mlproject"


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
    schema_findings = schemacheck.check(
        document, resources.schema("mlproject"), path, "mlproject", repo
    )
    data = document.data
    if isinstance(data, dict):
        hinted = _check_value_hints(collector, data)
        # A "quote it" hint says more than the schema's type error for the same key.
        schema_findings = [
            f for f in schema_findings if not (f.key in hinted and f.rule == "mlproject/type")
        ]
        _check_environments(collector, data)
        _check_packages(collector, data)
        _check_entry_points(collector, data)
        _check_name(collector, data, repo)
    collector.findings.extend(schema_findings)
    findings = tuple(sorted(collector.findings))
    if has_errors(findings):
        return ParseResult(None, findings)
    positions = {key[0]: pos for key, pos in document.values.items() if len(key) == 1}
    return ParseResult(_spec(data), findings, positions)


# index.json records a ModelSpec as dataclasses.asdict() writes it: one key is spelt otherwise
# than in an MLproject, and two record what the MLproject's environment and entry points were.
RECORD_RENAMED = {"main_language": "main-language"}
RECORD_ONLY = ("mlflow_env", "entry_points")


def check_record(document: yamlpos.YamlDocument, at: yamlpos.PathKey, path: str) -> ParseResult:
    """A ModelSpec as index.json records it, at ``at`` in ``document``, checked by the
    MLproject schema and rules: a record holds only what a valid MLproject can."""
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
    names = record.get("entry_points", [])
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        collector.add(("entry_points",), "must be a list of entry point names", "record")
    project = {
        key: value
        for key, value in record.items()
        if key not in RECORD_ONLY and not (value is None and key in ("slo", "instances"))
    }
    collector.findings.extend(
        schemacheck.check(replace(part, data=project), resources.schema("mlproject"), path, "index")
    )
    _check_packages(collector, project)
    findings = tuple(sorted(f for f in collector.findings if f.is_error))
    if findings:
        return ParseResult(None, findings)
    spec = replace(_spec(project), mlflow_env=environment, entry_points=tuple(names))
    return ParseResult(spec)


def _spec(data: dict[str, Any]) -> ModelSpec:
    """The ModelSpec of a valid MLproject; a key it leaves out takes ModelSpec's default."""
    optional = {
        field: data[key]
        for key, field in (
            ("main-language", "main_language"),
            ("exposed", "exposed"),
            ("pickle", "pickle"),
            ("slo", "slo"),
            ("instances", "instances"),
        )
        if key in data
    }
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
        mlflow_env=next((key for key in MLFLOW_ENV_KEYS if data.get(key)), None),
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
        if not isinstance(entry, str) or not entry:
            continue  # the schema reported it
        try:
            requirement = Requirement(entry)
        except InvalidRequirement as error:
            reason = str(error).splitlines()[0]
            collector.add(
                ("packages", index),
                f"not a PEP 508 requirement ({reason}) (got {entry!r})",
                "pep508",
            )
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            collector.add(
                ("packages", index),
                f"{requirement.name} is already listed at packages[{seen[name]}]",
                "duplicate-package",
                Severity.WARNING,
            )
        seen.setdefault(name, index)


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
