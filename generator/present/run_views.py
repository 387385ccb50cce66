"""``render`` and ``publish`` as JSON documents for tools, in the vocabulary of ``diff --format
json`` (``change_views.as_json``): the models and files a run changes, its notes and
findings, and what was done with them. Each is described by its schema in ``schemas/``."""

from __future__ import annotations

from typing import Any

from generator import changeset
from generator.changeset import ChangeSet
from generator.present import change_views, finding_views
from generator.run import RenderRun


def run_json(run: RenderRun, changes: ChangeSet) -> dict[str, Any]:
    """What a render or publish run decided: the models and files it changes (against the
    tree it decided on), its notes and findings, and a refusal."""
    return {
        **change_views.as_json(changes, run.notes()),
        "models_rendered": len(run.outcome.models),
        "refusal": run.refusal,
        "findings": [finding_views.finding_dict(f) for f in run.findings],
    }


def render_json(run: RenderRun, mode: str, written: bool, up_to_date: bool) -> dict[str, Any]:
    """``render --format json``; ``mode`` is write, dry-run or check."""
    changes = changeset.classify(run.current, run.planned)
    return {**run_json(run, changes), "mode": mode, "written": written, "up_to_date": up_to_date}


def publish_json(
    run: RenderRun,
    changes: ChangeSet,
    *,
    commit: str | None,
    branch: str | None,
    pushed: bool,
    pull_request: dict[str, Any] | None,
    said: list[str],
) -> dict[str, Any]:
    """``publish --format json``: the run, the commit, the push and the pull request."""
    return {
        **run_json(run, changes),
        "commit": commit,
        "branch": branch,
        "pushed": pushed,
        "pull_request": pull_request,
        "said": said,
    }
