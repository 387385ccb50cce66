"""What a GitHub Actions runner gives a step: its variables, files and event payload.

The layout and names follow a GitHub-hosted runner: the workspace at
``work/<repo>/<repo>``, the file commands in ``work/_temp/_runner_file_commands`` (created
empty before the step), the event payload at ``work/_temp/_github_workflow/event.json``.
The payload builders keep the fields of GitHub's documented webhook payloads that
matter here, with their real shapes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEAD_SHA = "9f3c2a1b7d4e5f60718293a4b5c6d7e8f9012345"
BASE_SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f80912345678"


def repository(full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": 186853002,
        "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
        "name": name,
        "full_name": full_name,
        "private": True,
        "owner": {"login": owner, "id": 6811672, "type": "Organization"},
        "html_url": f"https://github.com/{full_name}",
        "url": f"https://api.github.com/repos/{full_name}",
        "clone_url": f"https://github.com/{full_name}.git",
        "default_branch": "main",
        "topics": ["ml-model"],
        "archived": False,
        "visibility": "private",
    }


def pull_request_payload(full_name: str, number: int = 42) -> dict[str, Any]:
    repo = repository(full_name)
    return {
        "action": "opened",
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{full_name}/pulls/{number}",
            "html_url": f"https://github.com/{full_name}/pull/{number}",
            "number": number,
            "state": "open",
            "title": "Tighten the latency SLO",
            "user": {"login": "octocat", "id": 1, "type": "User"},
            "head": {"label": "acme:tune-slo", "ref": "tune-slo", "sha": HEAD_SHA, "repo": repo},
            "base": {"label": "acme:main", "ref": "main", "sha": BASE_SHA, "repo": repo},
            "draft": False,
            "merged": False,
        },
        "repository": repo,
        "organization": {"login": repo["owner"]["login"], "id": 6811672},
        "sender": {"login": "octocat", "id": 1, "type": "User"},
    }


def push_payload(full_name: str, branch: str = "main") -> dict[str, Any]:
    commit = {
        "id": HEAD_SHA,
        "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
        "distinct": True,
        "message": "Retrain with May data",
        "timestamp": "2024-06-01T10:00:00Z",
        "url": f"https://github.com/{full_name}/commit/{HEAD_SHA}",
        "author": {"name": "Octo Cat", "email": "octocat@example.com", "username": "octocat"},
        "committer": {"name": "Octo Cat", "email": "octocat@example.com", "username": "octocat"},
        "added": [],
        "removed": [],
        "modified": ["MLproject"],
    }
    return {
        "ref": f"refs/heads/{branch}",
        "before": BASE_SHA,
        "after": HEAD_SHA,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{full_name}/compare/{BASE_SHA[:12]}...{HEAD_SHA[:12]}",
        "commits": [commit],
        "head_commit": commit,
        "repository": repository(full_name),
        "pusher": {"name": "octocat", "email": "octocat@example.com"},
        "sender": {"login": "octocat", "id": 1, "type": "User"},
    }


def repository_dispatch_payload(
    platform: str, event_type: str, client_payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "action": event_type,
        "branch": "main",
        "client_payload": client_payload,
        "repository": repository(platform),
        "organization": {"login": platform.split("/", maxsplit=1)[0], "id": 6811672},
        "sender": {"login": "modelship-bot", "id": 2, "type": "Bot"},
        "installation": {"id": 375706},
    }


def schedule_payload() -> dict[str, Any]:
    return {"schedule": "17 3 * * *"}


@dataclass(frozen=True)
class Runner:
    """One step's view of the runner."""

    workspace: Path
    summary: Path
    output: Path
    event: Path
    env: dict[str, str]

    def summary_text(self) -> str:
        return self.summary.read_text(encoding="utf-8")

    def output_text(self) -> str:
        return self.output.read_text(encoding="utf-8")


def runner(tmp_path: Path, full_name: str, event_name: str, payload: dict[str, Any]) -> Runner:
    name = full_name.split("/")[1]
    work = tmp_path / "work"
    workspace = work / name / name
    commands = work / "_temp" / "_runner_file_commands"
    workflow = work / "_temp" / "_github_workflow"
    for folder in (workspace, commands, workflow):
        folder.mkdir(parents=True, exist_ok=True)
    summary = commands / "step_summary_5e4f1a2b-0c3d-4e5f-8a9b-0c1d2e3f4a5b"
    output = commands / "set_output_5e4f1a2b-0c3d-4e5f-8a9b-0c1d2e3f4a5b"
    event = workflow / "event.json"
    summary.touch()
    output.touch()
    event.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    env = {
        **os.environ,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": full_name,
        "GITHUB_SHA": HEAD_SHA,
        "GITHUB_REF": f"refs/pull/{payload.get('number', 0)}/merge"
        if event_name == "pull_request"
        else "refs/heads/main",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "RUNNER_TEMP": str(work / "_temp"),
        "NO_COLOR": "1",
    }
    return Runner(workspace, summary, output, event, env)


EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def evaluate(value: Any, contexts: Mapping[str, str]) -> str:
    """``value`` with every ``${{ name }}`` replaced from ``contexts``. Only plain names are
    supported; any other expression fails the test instead of being guessed at."""

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in contexts:
            raise AssertionError(f"the test gives no value for ${{{{ {name} }}}}")
        return contexts[name]

    return EXPRESSION.sub(replace, str(value))


def shell_command(step: Mapping[str, Any], script: Path) -> list[str]:
    """How the runner runs a ``run:`` step on Linux."""
    shell = step.get("shell")
    if shell is None:
        return ["bash", "-e", str(script)]
    assert shell == "bash", f"the test runs bash steps only, not {shell}"
    return ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]


def run_step(
    step: Mapping[str, Any],
    env: Mapping[str, str],
    contexts: Mapping[str, str],
    cwd: Path,
    temp: Path,
) -> subprocess.CompletedProcess[str]:
    """Run one ``run:`` step as the runner does: its script in a file under RUNNER_TEMP,
    its ``env:`` evaluated and added to the step's environment."""
    script = temp / "step-script.sh"
    script.write_text(step["run"], encoding="utf-8")
    step_env = {name: evaluate(value, contexts) for name, value in step.get("env", {}).items()}
    return subprocess.run(
        shell_command(step, script),
        cwd=cwd,
        env={**env, **step_env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def read_outputs(path: Path) -> dict[str, str]:
    """A $GITHUB_OUTPUT file read the way the runner reads it (name=value, name<<DELIMITER)."""
    values: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").split("\n"))
    for line in lines:
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            values[line[:equals]] = line[equals + 1 :]
            continue
        name, delimiter = line[:heredoc], line[heredoc + 2 :]
        body = []
        for body_line in lines:
            if body_line == delimiter:
                break
            body.append(body_line)
        else:
            raise AssertionError(f"{path}: no closing delimiter for {name}")
        values[name] = "\n".join(body)
    return values
