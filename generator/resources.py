"""Where the built-in templates and schemas live.

In a wheel they are packaged under ``generator/_data``; in a source checkout
(and an editable install) they are the top-level ``templates/`` and
``schemas/`` folders of the repository.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


@cache
def schema(name: str) -> dict[str, Any]:
    """A JSON schema from ``schemas/``, e.g. ``schema("mlproject")``."""
    path = builtin_dir("schemas") / f"{name}.schema.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
