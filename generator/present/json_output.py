"""JSON output for tools: one spelling for every command's ``--format json``, and the format
version each document carries.

Every document a command prints is described by ``schemas/<command>-output.schema.json``,
whose ``format`` constant is the document's version: read from there, so the schema a tool
validates with and the version it sees are one number.
"""

from __future__ import annotations

import json
from typing import Any

from generator import resources
from generator.findings import printable_lines


def output_schema(command: str) -> str:
    """The name of the schema of ``command``'s JSON document (``modelship schema NAME``)."""
    return f"{command}-output"


def format_version(command: str) -> int:
    version: int = resources.schema(output_schema(command))["properties"]["format"]["const"]
    return version


def versioned(command: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the ``format`` version of ``command``'s output schema."""
    return {"format": format_version(command), **body}


def to_json(document: Any) -> str:
    """JSON for tools: readable unicode, and every character that could act on a terminal
    spelled as JSON's own escape (the document decodes to the same values)."""
    return (
        printable_lines(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
    )
