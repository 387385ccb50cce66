"""JSON Schema validation whose errors become positioned Findings.

Schemas carry an ``x-message`` next to a property's constraints: the sentence
a user reads when the value breaks any of them (``slo: must be an integer
number of microseconds between 1000 and 10000000 (got "fast")``).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import fastjsonschema
import jsonschema
from jsonschema.exceptions import ValidationError

from generator.findings import Finding, Severity
from generator.yamlpos import YamlDocument


def _is_integer(checker: object, instance: object) -> bool:
    """JSON Schema counts 20000.0 as an integer; a replica count or a timeout cannot be 4.0."""
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(checker: object, instance: object) -> bool:
    """A finite number: YAML spells NaN and infinity (``.nan``, ``.inf``), JSON cannot, and a
    NaN passes every bound (no comparison with it is true)."""
    if isinstance(instance, float):
        return math.isfinite(instance)
    return _is_integer(checker, instance)


@lru_cache(maxsize=256)
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A schema ``pattern`` compiled with ECMA-262's meaning of ``$``, which JSON Schema
    prescribes: the end of the value. Python's ``$`` also matches before a final newline,
    which would let ``"churn\\n"`` through ``^[a-z]+$``; outside a character class and
    unescaped, ``$`` becomes ``\\Z``."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append("\\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if isinstance(instance, str) and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    validators={"pattern": _pattern},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)


# By the schema object's identity (kept alive here): index.json checks one spec per model
# with the same schema, and serialising it for the cache key each time would cost more.
_by_identity: dict[int, tuple[dict[str, Any], Any]] = {}


def validator_for(schema: dict[str, Any]) -> Any:
    """A (cached) Draft 2020-12 validator whose integers are Python ints."""
    known = _by_identity.get(id(schema))
    if known is None or known[0] is not schema:
        known = (schema, _StrictValidator(schema))
        _by_identity[id(schema)] = known
    return known[1]


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (str, "string"), (type(None), "null"))


def _fast_schema(node: Any) -> Any:
    """``node`` (an inlined schema) as fastjsonschema must read it to accept exactly what
    ``_StrictValidator`` accepts, floats aside (``fast_valid`` leaves those to it): each
    pattern with ECMA's ``$``, and each ``enum`` and ``const`` also requiring the JSON
    type of its values — Python's ``True == 1`` would let ``true`` through ``enum: [1, 2]``."""
    if isinstance(node, list):
        return [_fast_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {
        key: _fast_schema(value)
        for key, value in node.items()
        if key not in ("$schema", "$id", "pattern")
    }
    if isinstance(node.get("pattern"), str):
        result["pattern"] = ecma_pattern(node["pattern"]).pattern
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if isinstance(values, list):
        types = sorted(
            {name for value in values for kind, name in _JSON_TYPES if type(value) is kind}
        )
        result.setdefault("allOf", []).append({"type": types})
    refused = node.get("not")
    if (
        isinstance(refused, dict)
        and set(refused) == {"pattern"}
        and isinstance(refused["pattern"], str)
    ):
        # "not a string matching P" as "a string in which P is found nowhere": the same
        # values (a non-string passes the pattern, so fails the not), without the compiled
        # code raising and catching an exception for every valid value.
        del result["not"]
        nowhere = f"\\A(?![\\s\\S]*?(?:{ecma_pattern(refused['pattern']).pattern}))"
        result.setdefault("allOf", []).append({"type": "string", "pattern": nowhere})
    return result


# By the schema's identity, like the validators: None when fastjsonschema cannot compile it.
_compiled: dict[int, tuple[dict[str, Any], Any]] = {}


def fast_valid(schema: dict[str, Any], data: Any) -> bool:
    """True when ``data`` is valid for certain, checked by a compiled validator (about 20
    times faster than jsonschema); False means "ask jsonschema", which names every problem
    with its position. Documents holding a float always go to jsonschema: fastjsonschema
    counts 4.0 as an integer, and this project's integers are never floats."""
    return not _holds_float(data) and valid_without_floats(schema, data)


def valid_without_floats(schema: dict[str, Any], data: Any) -> bool:
    """``fast_valid`` for ``data`` its caller knows to hold no float (key or value), having
    walked it already for a reason of its own."""
    known = _compiled.get(id(schema))
    if known is None or known[0] is not schema:
        try:
            # use_default=False: it would write the schema's defaults into the data.
            compiled = fastjsonschema.compile(_fast_schema(inlined(schema)), use_default=False)
        except (fastjsonschema.JsonSchemaDefinitionException, RecursionError, ValueError):
            compiled = None
        known = (schema, compiled)
        _compiled[id(schema)] = known
    if known[1] is None:
        return False
    try:
        known[1](data)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def _holds_float(data: Any) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            if any(type(key) is float for key in item):  # YAML keys may be numbers
                return True
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is float:
            return True
    return False


_inlined: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every local ``{"$ref": "#/$defs/name", ...}`` replaced by that
    definition (its own keys, such as a description, kept beside it): the same checks
    without resolving a reference per value, which costs index.json's thousands of entries
    most of their checking time. The definitions must not refer to themselves."""
    known = _inlined.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    definitions = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            target = walk(definitions[reference.removeprefix("#/$defs/")])
            return {**target, **{k: walk(v) for k, v in node.items() if k != "$ref"}}
        return {key: walk(value) for key, value in node.items()}

    result = walk({key: value for key, value in schema.items() if key != "$defs"})
    _inlined[id(schema)] = (schema, result)
    return result


def dotted(path: tuple[Any, ...]) -> str:
    """``("entry_points", "main", "parameters")`` → ``entry_points.main.parameters``;
    list indexes as ``packages[1]``; a key YAML read as null or a boolean as JSON spells it
    (``null``, ``true``), never as Python does."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            name = _key_text(part)
            text += f".{name}" if text else name
    return text


SHOWN_LENGTH = 120


def shown(document: YamlDocument, path: tuple[Any, ...], value: Any) -> str:
    """How to echo a bad value back: as written when it was a plain scalar; cut when long."""
    raw = document.plain_scalars.get(path)
    if raw is not None and not isinstance(value, str):
        text = raw
    else:
        text = json.dumps(_jsonable(value), default=str, ensure_ascii=False)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


def _jsonable(value: Any) -> Any:
    """``value`` with every mapping key as text: YAML keys may be numbers, dates or null."""
    if isinstance(value, dict):
        return {_key_text(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(key, default=str).strip('"')


def check(
    document: YamlDocument,
    schema: dict[str, Any],
    path: str,
    rule_prefix: str,
    repo: str = "",
) -> list[Finding]:
    """Validate ``document.data`` against ``schema``; one Finding per problem."""
    return sorted(found for _, found in located(document, schema, path, rule_prefix, repo))


def located(
    document: YamlDocument,
    schema: dict[str, Any],
    path: str,
    rule_prefix: str,
    repo: str = "",
) -> list[tuple[tuple[Any, ...], Finding]]:
    """Like ``check``, each Finding with the path of the value it is about."""
    if fast_valid(schema, document.data):
        return []
    unique: dict[tuple[int, int, str, str], tuple[tuple[Any, ...], Finding]] = {}
    for error in validator_for(schema).iter_errors(document.data):
        for at, found in _findings(error, document, path, rule_prefix, repo):
            unique.setdefault((found.line, found.column, found.key, found.message), (at, found))
    return list(unique.values())


def _findings(
    error: ValidationError, document: YamlDocument, path: str, rule_prefix: str, repo: str
) -> Iterator[tuple[tuple[Any, ...], Finding]]:
    location = tuple(error.absolute_path)

    def finding(
        at: tuple[Any, ...], message: str, rule: str, on_key: bool = False
    ) -> tuple[tuple[Any, ...], Finding]:
        where = document.key_position(at) if on_key else document.value_position(at)
        return at, Finding(
            path=path,
            line=where.line,
            column=where.column,
            key=dotted(at),
            message=message,
            rule=f"{rule_prefix}/{rule}",
            severity=Severity.ERROR,
            repo=repo,
        )

    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(known), key=str):
            hint = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            message = "unknown key"
            if hint:
                message += f"; did you mean '{hint[0]}'?"
            elif known:
                message += f"; known keys are {', '.join(known)}"
            yield finding((*location, key), message, "unknown-key", on_key=True)
        return
    if error.validator == "required" and isinstance(error.instance, dict):
        for key in error.validator_value:
            if key not in error.instance:
                yield finding(location, f"missing required key '{key}'", "required")
        return
    if error.validator in {"anyOf", "oneOf"} and error.context and "x-message" not in error.schema:
        # Report the branch that got furthest, since the schema has no sentence of its own.
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) > len(error.absolute_path):
            yield from _findings(deepest, document, path, rule_prefix, repo)
            return
    message = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if message is None:
        message = error.message
    yield finding(
        location, f"{message} (got {shown(document, location, error.instance)})", error.validator
    )
