"""JSON output for tools: one spelling for every command's ``--format json``."""

from __future__ import annotations

import json
from typing import Any

from generator.findings import printable_lines


def to_json(document: Any) -> str:
    """JSON for tools: readable unicode, and every character that could act on a terminal
    spelled as JSON's own escape (the document decodes to the same values)."""
    return (
        printable_lines(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
    )
