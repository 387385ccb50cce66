"""GitHub Actions mode: annotations, the step summary, step outputs and the event payload.

On when ``GITHUB_ACTIONS=true``, which every runner sets. It follows the runner's own
contract (actions/toolkit's @actions/core, the runner's ActionCommandManager):

- a finding becomes the workflow command ``::error file=…,line=…,col=…,title=…::message``
  (``::warning`` for warnings). The runner reads commands on stdout and stderr alike.
  The message escapes ``%``, CR and LF; properties also ``:`` and ``,``. ``file`` is
  relative to ``$GITHUB_WORKSPACE``, so the annotation lands on the file's line;
- Markdown is appended to ``$GITHUB_STEP_SUMMARY`` (at most 1 MiB per step);
- outputs are appended to ``$GITHUB_OUTPUT`` as ``name=value``, or as a
  ``name<<DELIMITER`` block when the value spans lines;
- ``$GITHUB_EVENT_PATH`` holds the webhook payload of ``$GITHUB_EVENT_NAME``.

A command adds its result to its step with one call::

    actions.step_result("Modelship publish", body_markdown, {"commit": sha, "changed-models": ids})

which does nothing outside Actions mode.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import ExternalError, UsageError
from generator.findings import Finding
from generator.present import markdown

ENABLED_VARIABLE = "GITHUB_ACTIONS"
SUMMARY_LIMIT = 1024 * 1024  # bytes; GitHub drops a larger step summary whole
MODEL_CHANGED = "model-changed"  # the repository_dispatch type a model repository sends

OutputValue = str | int | bool | Sequence[str]

_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
FULL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+")
_TRUNCATED = (
    "\n\n*The summary was cut here: GitHub keeps at most 1 MiB per step. "
    "The step log has everything.*\n"
)


def escape_data(value: str) -> str:
    """A workflow command's message: ``%``, CR and LF become ``%25``, ``%0D``, ``%0A``."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value: as data, and ``:`` → ``%3A``, ``,`` → ``%2C``."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def workflow_command(name: str, message: str, properties: Mapping[str, str | int]) -> str:
    """``::name key=value,key=value::message``, escaped as the runner unescapes it."""
    listed = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name}{' ' if listed else ''}{listed}::{escape_data(message)}"


def annotation(finding: Finding, file: str | None) -> str:
    """The ``::error``/``::warning`` command for ``finding``; on ``file`` (relative to the
    workspace) at its line and column, or on the run as a whole when ``file`` is None."""
    properties: dict[str, str | int] = {}
    if file is not None:
        properties = {"file": file, "line": finding.line, "col": finding.column}
    properties["title"] = f"Modelship ({finding.rule})"
    return workflow_command(finding.severity.value, str(finding), properties)


def output_entry(name: str, value: OutputValue) -> str:
    """One entry of ``$GITHUB_OUTPUT``. Lists become JSON arrays (``fromJSON()`` in a
    workflow), booleans ``true``/``false``; a value with line breaks becomes a
    ``name<<DELIMITER`` block whose delimiter is derived from the value itself, so the
    file is deterministic and no value can contain its own delimiter."""
    if not _OUTPUT_NAME.fullmatch(name):
        raise ValueError(f"not a step output name: {name!r}")
    text = _output_text(value)
    if "\n" not in text and "\r" not in text:
        return f"{name}={text}\n"
    delimiter = f"ghadelimiter_{hashlib.sha256(text.encode('utf-8')).hexdigest()}"
    if delimiter in text:
        raise ValueError(f"step output {name} contains its own delimiter")
    return f"{name}<<{delimiter}\n{text}\n{delimiter}\n"


def _output_text(value: OutputValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(list(value), ensure_ascii=False)


@dataclass(frozen=True)
class Event:
    """The webhook payload of the event that started the workflow run."""

    name: str
    payload: Mapping[str, Any]
    source: str  # the payload file, for messages

    def field(self, *keys: str) -> Any:
        """``payload[k1][k2]…``, or None where the payload has no such key."""
        value: Any = self.payload
        for key in keys:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    @property
    def repository(self) -> str | None:
        name = self.field("repository", "full_name")
        return name if isinstance(name, str) else None

    def pull_request_number(self) -> int | None:
        """The pull request of a ``pull_request`` (or ``pull_request_target``) event."""
        if self.name not in {"pull_request", "pull_request_target"}:
            return None
        number = self.field("pull_request", "number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise UsageError(
                f"{self.source}: pull_request.number: a {self.name} event must carry the pull "
                f"request's number (got {number!r})"
            )
        return number

    def changed_model_repository(self) -> str | None:
        """For a ``repository_dispatch`` of type ``model-changed``: the full name of the model
        repository that sent it (``client_payload.repository``); None for any other event."""
        if self.name != "repository_dispatch" or self.field("action") != MODEL_CHANGED:
            return None
        value = self.field("client_payload", "repository")
        if not isinstance(value, str) or not FULL_NAME.fullmatch(value):
            raise UsageError(
                f"{self.source}: client_payload.repository: a {MODEL_CHANGED} dispatch must "
                f"name the model repository as 'owner/name' (got {value!r})"
            )
        return value

    def describe(self) -> str:
        """One line a person knows the run by, e.g. ``pull request #42 of acme/x at 1a2b3c4``."""
        repository = self.repository or "this repository"
        if self.name in {"pull_request", "pull_request_target"}:
            number = self.field("pull_request", "number")
            head = _short(self.field("pull_request", "head", "sha"))
            return f"pull request #{number} of {repository}{head}"
        if self.name == "push":
            ref = self.field("ref")
            branch = ref.removeprefix("refs/heads/") if isinstance(ref, str) else "?"
            return f"push to {branch} of {repository}{_short(self.field('after'))}"
        if self.name == "repository_dispatch":
            sender = self.field("client_payload", "repository")
            origin = f" from {sender}" if isinstance(sender, str) else ""
            return f"{self.field('action')} dispatch to {repository}{origin}"
        return f"{self.name} of {repository}"


def _short(sha: Any) -> str:
    return f" at {sha[:7]}" if isinstance(sha, str) and sha else ""


@dataclass(frozen=True)
class Actions:
    """The files and folders the runner gave this step."""

    workspace: Path
    summary_file: Path | None
    output_file: Path | None
    event_name: str
    event_file: Path | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Actions | None:
        """Actions mode from the runner's variables; None unless ``GITHUB_ACTIONS=true``."""
        if environ.get(ENABLED_VARIABLE) != "true":
            return None

        def path(name: str) -> Path | None:
            value = environ.get(name, "")
            return Path(value) if value else None

        return cls(
            workspace=path("GITHUB_WORKSPACE") or Path.cwd(),
            summary_file=path("GITHUB_STEP_SUMMARY"),
            output_file=path("GITHUB_OUTPUT"),
            event_name=environ.get("GITHUB_EVENT_NAME", ""),
            event_file=path("GITHUB_EVENT_PATH"),
        )

    def workspace_file(self, location: str) -> str | None:
        """``location`` as the workspace-relative POSIX path GitHub shows annotations on;
        None when it is not a file inside the workspace (e.g. a repository on GitHub)."""
        path = Path(location)
        if not path.is_file():
            return None
        try:
            return path.resolve().relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return None

    def annotations(self, findings: Iterable[Finding]) -> str:
        return "".join(f"{annotation(f, self.workspace_file(f.path))}\n" for f in findings)

    def append_summary(self, text: str) -> None:
        if self.summary_file is not None:
            _append(self.summary_file, _within_summary_limit(text), "step summary")

    def set_outputs(self, outputs: Mapping[str, OutputValue]) -> None:
        if self.output_file is not None:
            entries = "".join(output_entry(name, value) for name, value in outputs.items())
            _append(self.output_file, entries, "step outputs")

    def inert(self, text: str) -> str:
        """``text`` wrapped in ``::stop-commands::TOKEN`` … ``::TOKEN::``, so the runner reads
        no line of it as a workflow command. The token is derived from the text, which
        cannot contain it (it would have to contain its own hash)."""
        if not text:
            return text
        token = f"modelship-{hashlib.sha256(text.encode('utf-8')).hexdigest()}"
        if token in text:
            raise ValueError("the text contains its own stop-commands token")
        ending = "" if text.endswith("\n") else "\n"
        return f"::stop-commands::{token}\n{text}{ending}::{token}::\n"

    def event(self) -> Event | None:
        """The event payload, or None when the runner gave none."""
        if self.event_file is None:
            return None
        where = str(self.event_file)
        try:
            payload = json.loads(self.event_file.read_text(encoding="utf-8"))
        except OSError as error:
            raise ExternalError(
                f"cannot read the GitHub event payload {where}: {error.strerror}"
            ) from None
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
            raise ExternalError(f"{where}: the GitHub event payload is not JSON: {error}") from None
        if not isinstance(payload, dict):
            raise ExternalError(f"{where}: the GitHub event payload is not a JSON object")
        return Event(self.event_name, payload, where)


def _within_summary_limit(text: str) -> str:
    text = text if text.endswith("\n") else text + "\n"
    data = text.encode("utf-8")
    if len(data) <= SUMMARY_LIMIT:
        return text
    room = SUMMARY_LIMIT - len(_TRUNCATED.encode("utf-8"))
    kept = data[:room].decode("utf-8", errors="ignore")
    return kept[: kept.rfind("\n") + 1] + _TRUNCATED


def _append(path: Path, text: str, what: str) -> None:
    try:
        with path.open("a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise ExternalError(f"cannot write the GitHub {what} to {path}: {error.strerror}") from None


def current() -> Actions | None:
    """Actions mode as this process's environment says."""
    return Actions.from_environ(os.environ)


def inert(text: str) -> str:
    """``text`` that must not act on the runner, e.g. a diff of files holding MLproject
    values: see ``Actions.inert``. Unchanged outside Actions mode."""
    github = current()
    return github.inert(text) if github is not None else text


def step_result(title: str, body: str, outputs: Mapping[str, OutputValue]) -> None:
    """Add a command's result to its GitHub Actions step: a ``## title`` section with the
    run's event and ``body`` (Markdown) to the step summary, ``outputs`` to the step
    outputs. Does nothing outside Actions mode."""
    github = current()
    if github is None:
        return
    event = github.event()
    context = f"*{markdown.text(event.describe())}*\n\n" if event is not None else ""
    github.append_summary(f"## {markdown.text(title)}\n\n{context}{body.rstrip()}\n\n")
    github.set_outputs(outputs)
