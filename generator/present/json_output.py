"""JSON output for tools: one spelling for every command's ``--format json``."""

from __future__ import annotations

import json
from typing import Any


def to_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
