"""Change sets for people and tools: text, JSON, the commit message, and a GitHub Actions
step's summary and outputs (the pull-request markdown is ``pr_markdown``).   (pure)"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from generator import treediff
from generator.changeset import (
    ADDED,
    CHANGED,
    KEPT,
    KINDS,
    REJECTED,
    REMOVED,
    ChangeSet,
    EnvironmentChange,
    FileChange,
    ModelChange,
    Running,
)
from generator.findings import Finding, printable
from generator.mlproject import Canary
from generator.present import change_lines, finding_views, github_actions
from generator.present import markdown as md
from generator.treediff import TreeChanges


def summary(changes: ChangeSet) -> str:
    return f"{changes.summary()} models"


def file_diff(change: FileChange) -> str:
    return treediff.file_diff(change.path, change.old, change.new)


def full_diff(changes: ChangeSet) -> str:
    """The unified diff of every changed file, index.json included, like ``git diff``."""
    return "".join(file_diff(change) for change in changes.files)


ACTIONS_DONE = {"promote": "promoted", "rollback": "rolled back"}
WAITING = "waiting for image"


def promotion_note(running: Running) -> str:
    """``promoted 2026-12-01T09:30:00Z by Jane Doe``, or "" outside a promoted environment."""
    promotion = running.promotion
    if promotion is None:
        return ""
    return (
        f"{ACTIONS_DONE.get(promotion.action, promotion.action)} {promotion.at} by {promotion.by}"
    )


def canary_note(canary: Canary) -> str:
    """``canary 0123456 at 20%``: the canary's build and its share of the requests."""
    return f"canary {canary.commit[:7]} at {canary.weight}%"


def canary_json(canary: Canary | None) -> dict[str, Any] | None:
    if canary is None:
        return None
    return {"commit": canary.commit, "version": canary.version, "weight": canary.weight}


def environment_line(change: EnvironmentChange) -> str:
    """What runs of a model in one environment, and how that changes:
    ``production 4f1255f → 9b2e61c (promoted 2026-12-01T09:30:00Z by Jane): version
    5e5a7d1→0123456, instances 2→3``, ``production 4f1255f (staging is at 9b2e61c)``,
    ``staging removed (ran 4f1255f)``. Escaped: who promoted comes from a promotions file or
    a git identity."""
    before, after = change.before, change.after
    name = change.environment
    waits = f"{WAITING} {', '.join(change.waiting)}"
    if after is None and change.waiting:
        return printable(f"{name} not deployed yet ({waits}, not in the registry yet)")
    if after is None:
        assert before is not None
        return f"{name} removed (ran {before.commit[:7]})"
    if before is None:
        text = f"{name} {after.commit[:7]} (new here)"
    elif before.key == after.key:
        text = f"{name} {after.commit[:7]}"
    elif before.commit == after.commit:
        text = f"{name} {after.commit[:7]} (another spec)"
    else:
        text = f"{name} {before.commit[:7]} → {after.commit[:7]}"
    notes = []
    if after.state == KEPT:
        notes.append(KEPT)
    if after.canary is not None:
        notes.append(canary_note(after.canary))
    elif before is not None and before.canary is not None:
        notes.append("canary removed")
    if change.waiting:
        notes.append(f"{waits}, not in the registry yet")
    if after.promotion is not None and (before is None or before.promotion != after.promotion):
        notes.append(promotion_note(after))
    if change.behind and change.source_after is not None:
        notes.append(f"{change.source} is at {change.source_after.commit[:7]}")
    text = printable(text + (f" ({'; '.join(notes)})" if notes else ""))
    what = what_changed(change)
    return f"{text}: {', '.join(what)}" if what else text


def what_changed(change: EnvironmentChange) -> list[str]:
    """The values index.json records that differ there (``instances 2→3``, ...), escaped."""
    before = change.before.entry if change.before is not None else None
    after = change.after.entry if change.after is not None else None
    if before is None or after is None:
        return []
    return change_lines.differences(before, after)


def shown_environments(model: ModelChange) -> tuple[EnvironmentChange, ...]:
    """The environments of a model worth a line: what changed there, is behind, or waits
    for an image."""
    return tuple(e for e in model.environments if e.changed or e.behind or e.waiting)


def as_text(changes: ChangeSet) -> str:
    """The summary for a terminal: every value one escaped line (errors come from
    repositories, and through index.json from any earlier run)."""
    lines = [summary(changes)]
    shown = changes.changed_models
    width = max((len(printable(m.id)) for m in shown), default=0)
    for model in shown:
        model_id, source, team = printable(model.id), printable(model.source), printable(model.team)
        lines.append(f"  {model.kind:<13}  {model_id:<{width}}  {source}  {team}")
        lines.extend(f"      {environment_line(e)}" for e in shown_environments(model))
        lines.extend(f"      {printable(error)}" for error in model.errors)
    if changes.shared:
        lines.append("  shared files:")
        lines.extend(f"    {printable(change.path)}" for change in changes.shared)
    return "\n".join(lines) + "\n"


def as_json(changes: ChangeSet, notes: Sequence[str] = ()) -> dict[str, Any]:
    def files(changed: Iterable[FileChange]) -> list[dict[str, str]]:
        return [{"path": f.path, "change": _file_kind(f), "diff": file_diff(f)} for f in changed]

    return {
        "summary": {kind: changes.count(kind) for kind in KINDS},
        "models": [
            {
                "id": m.id,
                "change": m.kind,
                "repo": m.repo,
                "commit": m.commit,
                "team": m.team,
                "errors": list(m.errors),
                "environments": [_environment_json(e) for e in m.environments],
                "files": files(m.files),
            }
            for m in changes.changed_models
        ],
        "shared_files": files(changes.shared),
        "notes": list(notes),
    }


def _running_json(running: Running | None) -> dict[str, Any] | None:
    if running is None:
        return None
    found: dict[str, Any] = {
        "commit": running.commit,
        "version": running.version,
        "state": running.state,
        "canary": canary_json(running.canary),
    }
    if running.promotion is not None:
        found["promotion"] = {
            "action": running.promotion.action,
            "at": running.promotion.at,
            "by": running.promotion.by,
        }
    return found


def _environment_json(change: EnvironmentChange) -> dict[str, Any]:
    return {
        "environment": change.environment,
        "before": _running_json(change.before),
        "after": _running_json(change.after),
        "changed": change.changed,
        "what_changed": what_changed(change),
        "promoted_from": change.source,
        "behind": change.behind,
        "waiting_for_image": list(change.waiting),
    }


def provenance_trailers(version: str, platform_commit: str | None, dirty: bool) -> list[str]:
    """What rendered a publish commit, as git trailers: the Modelship version and the platform
    repository's commit (``+ uncommitted changes`` when its files had some)."""
    trailers = [f"Rendered-by: modelship {version}"]
    if platform_commit is not None:
        trailers.append(
            f"Platform-commit: {platform_commit}" + (" + uncommitted changes" if dirty else "")
        )
    return trailers


def commit_message(platform_name: str, changes: ChangeSet, trailers: Sequence[str] = ()) -> str:
    """The publish commit's message: one line per model, with its full source repo@sha, and
    under it what changes in each environment; then ``trailers`` (provenance_trailers)."""
    lines = [f"modelship: render {platform_name} ({changes.summary()})", ""]
    verbs = {ADDED: "add", CHANGED: "update", REMOVED: "remove", KEPT: "keep"}
    for model in changes.changed_models:
        if model.kind == REJECTED:
            line = f"reject {model.repo}@{model.commit or '?'} (its errors; deployed nowhere)"
        else:
            line = f"{verbs[model.kind]} {model.id} from {model.repo}@{model.commit}"
        if model.kind == KEPT:
            line += " (its repository failed; the last good version stays)"
        waits = [e.environment for e in model.environments if e.waiting]
        if waits:
            line += f" (waiting for its image in {', '.join(waits)})"
        lines.append(printable(line))
        lines.extend(f"  {environment_line(e)}" for e in shown_environments(model))
        if model.kind in (KEPT, REJECTED):
            lines.extend(f"  error: {printable(error)}" for error in model.errors)
    if changes.shared:
        lines.extend(["", "shared files:"])
        lines.extend(f"  {printable(change.path)}" for change in changes.shared)
    if trailers:
        lines.extend(["", *trailers])
    return "\n".join(lines) + "\n"


def _file_kind(change: FileChange) -> str:
    if change.old is None:
        return "added"
    if change.new is None:
        return "removed"
    return "modified"


# ---------------------------------------------------------------- GitHub Actions steps


def render_markdown(
    headline: str, changes: TreeChanges, findings: Sequence[Finding], repositories: int
) -> str:
    """A render's outcome: ``headline``, the changed files (at most SUMMARY_ROWS), and the
    findings in the repositories it read."""
    text = f"{md.text(headline)}\n"
    kinds = {
        **dict.fromkeys(changes.added, "added"),
        **dict.fromkeys(changes.modified, "changed"),
        **dict.fromkeys(changes.removed, "removed"),
    }
    if kinds:
        rows = [
            (md.code(path, in_table=True), kinds[path])
            for path in changes.paths[: finding_views.SUMMARY_ROWS]
        ]
        table = md.table(("File", "Change"), rows)
        text += f"\n{table}{finding_views.more(len(kinds), 'file')}"
    if findings:
        text += "\n" + finding_views.findings_markdown(findings, repositories, "repository")
    return text


def render_outputs(
    models: int, changes: TreeChanges, findings: Sequence[Finding]
) -> dict[str, github_actions.OutputValue]:
    errors, warnings = finding_views.counts(findings)
    return {
        "models": models,
        "files-added": len(changes.added),
        "files-changed": len(changes.modified),
        "files-removed": len(changes.removed),
        "changed": not changes.empty,
        "errors": errors,
        "warnings": warnings,
    }


def change_outputs(
    changes: ChangeSet, findings: Sequence[Finding]
) -> dict[str, github_actions.OutputValue]:
    """Step outputs of a run that compares two trees model by model (diff, publish): the
    count of each kind of change (``models-added``, ...), the ids of the models that
    change, whether any file changes, and the findings."""
    errors, warnings = finding_views.counts(findings)
    return {
        **{f"models-{kind}": changes.count(kind) for kind in KINDS},
        "changed-models": [model.id for model in changes.changed_models],
        "changed": not changes.empty,
        "errors": errors,
        "warnings": warnings,
    }


def changes_markdown(
    said: Sequence[str],
    changes: ChangeSet,
    findings: Sequence[Finding],
    repositories: int,
    notes: Sequence[str] = (),
) -> str:
    """A step summary of such a run: what it did (``said``, one line each), the model
    counts, a table of the models that change (at most SUMMARY_ROWS), notes, findings."""
    text = "".join(f"{md.text(line)}  \n" for line in said)
    text = (text.removesuffix("  \n") + "\n\n") if said else ""
    text += f"**Models:** {md.text(changes.summary())}\n"
    shown = changes.changed_models
    if shown:
        rows = [
            (
                model.kind,
                md.code(model.id, in_table=True),
                md.code(model.source, in_table=True),
                md.text(model.team),
                md.text("; ".join(environment_line(e) for e in shown_environments(model))),
            )
            for model in shown[: finding_views.SUMMARY_ROWS]
        ]
        table = md.table(("Change", "Model", "Source", "Team", "Environments"), rows)
        text += f"\n{table}{finding_views.more(len(shown), 'model')}"
    for note in notes:
        text += f"\n> {md.text(note)}\n"
    if findings:
        text += "\n" + finding_views.findings_markdown(findings, repositories, "repository")
    return text
