"""The digests of the incremental render: what went into a model, and what came out.   (pure)

A model whose digests match the ones index.json recorded is not parsed, validated or
rendered again (README, "Incremental renders"): its spec comes from index.json and its
files from the tree. Each digest covers everything its result depends on, so equal
digests mean equal results; anything not covered, or any doubt, means "do it again".

- ``mlproject``: the MLproject's text and the repository that holds it — all that the
  spec ``mlproject.parse`` gives depends on (the file's location only words findings).
  Recorded only for a parse without any finding, so a skipped parse loses nothing a
  person would read.
- ``inputs``: the platform's settings (``settings``: where the platform's
  folders are aside, which no template reads — a tree is the same wherever the platform
  repository is checked out), every template, and each of the model's
  deployments (its build, and what runs in each environment with the state index.json
  records there) — everything the targets read to write the files the model owns.
- ``files``: those files' paths and bytes, to tell a file changed on disk since.

Beside them index.json records, once, the code that made them (``code``: the version and
the text of every module of Modelship, ``resources.code_digest``): digests recorded by
another code are not trusted, so an upgrade — or any change to the code — renders all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from pathlib import PurePath
from typing import Any

PREFIX = "sha256:"


@dataclass(frozen=True)
class Digests:
    """What index.json records of how a model was made; "" for a digest not recorded."""

    mlproject: str = ""
    inputs: str = ""
    files: str = ""


class TextDigest:
    """The digest of a list of texts, each length-prefixed so no two lists meet, taken in
    as they come (a text need not be kept until the list is complete)."""

    def __init__(self, *parts: str) -> None:
        self._hash = hashlib.sha256()
        self.add(*parts)

    def add(self, *parts: str) -> None:
        for part in parts:
            data = part.encode("utf-8", "surrogatepass")
            self._hash.update(b"%d:" % len(data))
            self._hash.update(data)

    def text(self) -> str:
        return PREFIX + self._hash.hexdigest()


def of_text(*parts: str) -> str:
    """``sha256:<hex>`` of ``parts``."""
    return TextDigest(*parts).text()


def mlproject(text: str, repo: str) -> str:
    return of_text("mlproject", repo, text)


def settings(value: Any) -> str:
    """The settings ``value`` holds (a Platform), as text: like ``repr``, with every path
    left out."""
    if is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}={settings(getattr(value, f.name))}" for f in fields(value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, PurePath):
        return "<path>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{settings(k)}: {settings(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(settings(item) for item in value) + "]"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(settings(item) for item in value)) + "}"
    return repr(value)


def templates(named: Mapping[str, str]) -> str:
    """Every template by name and text."""
    return of_text("templates", *(part for name in sorted(named) for part in (name, named[name])))


def files(contents: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(b"files")
    for path, content in sorted(contents):
        name = path.encode("utf-8", "surrogatepass")
        digest.update(b"%d:%s%d:" % (len(name), name, len(content)))
        digest.update(content)
    return PREFIX + digest.hexdigest()
