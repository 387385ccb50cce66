"""promotions/<environment>.yaml: what a promoted environment runs, model by model.   (pure)

Each model is pinned to one of its states: the commit of its repository and the digest
of its spec as index.json records them (``index.spec_digest``), with how it got there
(``promote`` or ``rollback``), when and by whom. The file lives in the platform
repository, is written by ``modelship promote`` and ``rollback`` and reviewed like any
change; a model it does not list does not run in the environment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import yaml

from generator import resources, schemacheck, yamlpos
from generator.errors import ConfigError
from generator.findings import Finding, Severity
from generator.index import SpecKey

FORMAT = 1


@dataclass(frozen=True)
class Pin:
    repo: str  # owner/name
    commit: str  # 40 hex: the model repository's commit
    spec: str  # sha256:<hex>, the spec's digest
    action: str  # promote | rollback
    at: str  # when, ISO 8601 in UTC (given by the command: the core reads no clock)
    by: str  # who

    @property
    def key(self) -> SpecKey:
        return (self.commit, self.spec)


@dataclass(frozen=True)
class Promotions:
    """The pins of one environment, and where each is written (for findings)."""

    environment: str
    pins: Mapping[str, Pin] = field(default_factory=dict)
    where: str = ""  # the file, as findings name it
    positions: Mapping[str, yamlpos.Position] = field(default_factory=dict)

    def finding(
        self,
        model_id: str,
        message: str,
        rule: str,
        severity: Severity = Severity.ERROR,
        repo: str = "",
    ) -> Finding:
        position = self.positions.get(model_id, yamlpos.Position(1, 1))
        return Finding(
            path=self.where or file_name(self.environment),
            line=position.line,
            column=position.column,
            key=f"models.{model_id}",
            message=message,
            rule=rule,
            severity=severity,
            repo=repo,
        )


def file_name(environment: str) -> str:
    return f"{environment}.yaml"


def parse(text: str, where: str, environment: str) -> Promotions:
    """A promotions file, checked; a problem is a configuration error (exit 2) naming the
    file, line and key: a damaged pin never becomes 'this model is not promoted'.

    A sound file is read without positions first (a third of the time at 10,000 pins),
    and read again with them only to report a problem, or when a finding about a pin
    asks where it is written."""
    # A pin is a handful of values, and a platform may pin 10,000 models: the limit grows
    # with the text, which no document can outgrow but through aliases.
    limit = max(yamlpos.MAX_VALUES, len(text))
    try:
        data = yamlpos.plain_data(text, limit)
    except yamlpos.Unsure:
        pass
    else:
        schema = resources.schema("promotions")
        if schemacheck.fast_valid(schema, data) and data["environment"] == environment:
            return _promotions(environment, data, where, _KeyPositions(text, limit))
    try:
        document = yamlpos.load(text, limit)
    except yamlpos.YamlSyntaxError as error:
        position = error.position
        raise ConfigError(
            f"{where}:{position.line}:{position.column}: invalid YAML: {error.message}"
        ) from None
    findings = schemacheck.check(document, resources.schema("promotions"), where, "promotions")
    for duplicate in document.duplicates:
        position = duplicate.position
        findings.append(
            Finding(
                where,
                position.line,
                position.column,
                schemacheck.dotted(duplicate.path),
                f"duplicate key (first defined at line {duplicate.first.line})",
                "promotions/duplicate-key",
            )
        )
    data = document.data
    if not findings and data["environment"] != environment:
        position = document.value_position(("environment",))
        findings.append(
            Finding(
                where,
                position.line,
                position.column,
                "environment",
                f"is {data['environment']!r}, but this is the file of {environment!r}",
                "promotions/environment",
            )
        )
    if findings:
        raise ConfigError(
            f"{where}: not a valid promotions file:\n" + "\n".join(map(str, sorted(findings)))
        )
    return _promotions(environment, data, where, _key_positions(document))


def _promotions(
    environment: str, data: dict[str, Any], where: str, positions: Mapping[str, yamlpos.Position]
) -> Promotions:
    return Promotions(
        environment=environment,
        pins={model_id: Pin(**record) for model_id, record in sorted(data["models"].items())},
        where=where,
        positions=positions,
    )


def _key_positions(document: yamlpos.YamlDocument) -> dict[str, yamlpos.Position]:
    """Where each pin's model id is written."""
    return {
        model_id: document.key_position(("models", model_id))
        for model_id in document.data["models"]
    }


class _KeyPositions(Mapping[str, yamlpos.Position]):
    """``_key_positions`` of a sound file, read (the text parsed again, with positions) when
    first asked: most runs report nothing about a pin."""

    def __init__(self, text: str, limit: int) -> None:
        self._text = text
        self._limit = limit

    @cached_property
    def _table(self) -> dict[str, yamlpos.Position]:
        return _key_positions(yamlpos.load(self._text, self._limit))

    def __getitem__(self, model_id: str) -> yamlpos.Position:
        return self._table[model_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


HEADER = """\
# What {env} runs, model by model: written by `modelship promote` and `modelship rollback`,
# reviewed like any change. A model this file does not list does not run in {env}.
"""


def recorder_problem(by: str) -> str | None:
    """Why a pin cannot record ``by`` as who moved it (the schema's rule), or None."""
    models = resources.schema("promotions")["properties"]["models"]
    rule = models["additionalProperties"]["properties"]["by"]
    if schemacheck.validator_for(rule).is_valid(by):
        return None
    return (
        f"{rule['x-message']}: {rule['minLength']} to {rule['maxLength']} characters, "
        "none of them a control character"
    )


def dumps(promotions: Promotions) -> bytes:
    document = {
        "format": FORMAT,
        "environment": promotions.environment,
        "models": {model_id: asdict(pin) for model_id, pin in sorted(promotions.pins.items())},
    }
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=4096)
    return (HEADER.format(env=promotions.environment) + body).encode("ascii")
