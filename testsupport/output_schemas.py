"""Each command's --format json document against its schema in schemas/, with a real
validator (jsonschema, Draft 2020-12)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from generator import resources
from generator.present import json_output


def valid_output(command: str, text: str) -> dict[str, Any]:
    """``text`` parsed, after checking it against ``command``'s output schema; it carries
    that schema's format version."""
    document: dict[str, Any] = json.loads(text)
    schema = resources.schema(json_output.output_schema(command))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    assert document["format"] == json_output.format_version(command)
    return document
