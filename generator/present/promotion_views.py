"""A promotion or rollback for people and tools: text, JSON, the commit message and the pull
request's preface.   (pure)"""

from __future__ import annotations

from typing import Any

from generator.findings import printable
from generator.index import EnvironmentEntry
from generator.present import markdown as md
from generator.promotion import Decision, Move
from generator.wording import plural


def _state(entry: EnvironmentEntry | None) -> str:
    if entry is None:
        return "-"
    return f"{entry.model.provenance.short_commit} (version {entry.model.spec.version[:7]})"


def headline(verb: str, decision: Decision) -> str:
    env = decision.promotions.environment
    parts = [f"{plural(len(decision.moves), 'model')} {verb}"]
    if decision.unchanged:
        parts.append(f"{len(decision.unchanged)} already there")
    if decision.refused:
        parts.append(f"{len(decision.refused)} refused")
    if decision.dropped:
        parts.append(f"{plural(len(decision.dropped), 'pin')} of removed models dropped")
    return f"{env}: {', '.join(parts)}"


def _move_line(move: Move, width: int) -> str:
    return f"  {move.model:<{width}}  {_state(move.before)} → {_state(move.after)}"


def as_text(verb: str, decision: Decision) -> str:
    lines = [headline(verb, decision)]
    named = [m.model for m in decision.moves] + [m for m, _ in decision.refused]
    width = max((len(name) for name in named), default=0)
    lines.extend(_move_line(move, width) for move in decision.moves)
    for model, why in decision.refused:
        lines.append(f"  {model:<{width}}  refused: {why}")
    for model, why in decision.skipped:
        lines.append(f"  {model:<{width}}  skipped: {why}")
    lines.extend(f"  {model}  pin dropped: no longer on the platform" for model in decision.dropped)
    return _escaped(lines)


def _entry_json(entry: EnvironmentEntry | None) -> dict[str, str] | None:
    if entry is None:
        return None
    model = entry.model
    return {
        "repo": model.provenance.repo,
        "commit": model.provenance.commit,
        "version": model.spec.version,
    }


def as_json(decision: Decision, written: str, pull_request_url: str) -> dict[str, Any]:
    return {
        "environment": decision.promotions.environment,
        "moves": [
            {"model": m.model, "before": _entry_json(m.before), "after": _entry_json(m.after)}
            for m in decision.moves
        ],
        "unchanged": list(decision.unchanged),
        "refused": [{"model": m, "reason": why} for m, why in decision.refused],
        "skipped": [{"model": m, "reason": why} for m, why in decision.skipped],
        "dropped": list(decision.dropped),
        "file": written,
        "pull_request": pull_request_url,
    }


def commit_message(platform_name: str, verb: str, decision: Decision) -> str:
    env = decision.promotions.environment
    lines = [
        f"modelship: {verb} {plural(len(decision.moves), 'model')} in {env} ({platform_name})",
        "",
    ]
    for move in decision.moves:
        source = move.after.model.provenance
        lines.append(f"{move.model}: {_state(move.before)} → {source.repo}@{source.commit}")
    lines.extend(f"{model}: pin dropped, no longer on the platform" for model in decision.dropped)
    return _escaped(lines)


def _escaped(lines: list[str]) -> str:
    """Each line escaped: ids and reasons come from the command line, index.json and the
    promotions file, none of which may act on a terminal or a commit viewer."""
    return "".join(f"{printable(line)}\n" for line in lines)


def preface(verb: str, decision: Decision) -> str:
    """The pull request's opening: the promotion as a table, before the rendered diff."""
    rows = [
        (
            md.code(move.model, in_table=True),
            md.text(_state(move.before)),
            md.code(f"{move.after.model.provenance}", in_table=True),
            md.text(f"version {move.after.model.spec.version[:7]}"),
        )
        for move in decision.moves
    ]
    text = f"### {md.text(headline(verb, decision))}\n\n"
    if rows:
        text += md.table(("Model", "Runs now", "To run", "Version"), rows) + "\n"
    for model, why in decision.refused:
        text += f"- {md.code(model)} refused: {md.text(why)}\n"
    if decision.refused:
        text += "\n"
    return text
