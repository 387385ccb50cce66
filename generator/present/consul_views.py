"""What `modelship sync-consul` prints: the plan and what was applied, as text or JSON (pure).

Keys are printed, values never: a value is an MLproject's free text, and a live key another
writer made may hold any character, so a key that is not plain is printed JSON-quoted.
"""

from __future__ import annotations

import re
from typing import Any

from generator import wording
from generator.consul import kv_plan
from generator.consul.client import Connection
from generator.consul.kv_plan import CREATE, DELETE, UPDATE
from generator.consul.sync import Outcome

_PLAIN = re.compile(r"[A-Za-z0-9_./-]+\Z")
ACTIONS = (CREATE, UPDATE, DELETE)


def printable_key(key: str) -> str:
    return key if _PLAIN.match(key) else kv_plan.shown_key(key)


def as_text(outcome: Outcome, environment: str, connection: Connection, dry_run: bool) -> str:
    rendered = outcome.rendered
    lines = [
        f"{environment}: {rendered.path} at {rendered.commit[:7]} -> Consul "
        f"{connection.where()}, keys below {outcome.folder}"
    ]
    lines.extend(f"  {c.action:<7} {printable_key(c.key)}" for c in outcome.plan.changes)
    lines.append(outcome.plan.summary())
    lines.append(_result(outcome, dry_run))
    return "\n".join(lines) + "\n"


def _result(outcome: Outcome, dry_run: bool) -> str:
    if outcome.refusal is not None:
        return "refused: nothing written"
    if dry_run:
        return "dry run: nothing written"
    if outcome.transactions == 0:
        applied = "nothing to change"
    else:
        applied = (
            f"applied {wording.plural(outcome.operations, 'change')} in "
            f"{wording.plural(outcome.transactions, 'transaction')}"
        )
    if outcome.conflicts:
        keys = ", ".join(printable_key(key) for key in outcome.conflicts)
        applied += f" ({outcome.rounds} rounds: another writer changed {keys})"
    return applied


def as_json(
    outcome: Outcome, environment: str, connection: Connection, dry_run: bool
) -> dict[str, Any]:
    plan = outcome.plan
    return {
        "environment": environment,
        "consul": {
            "address": connection.address,
            "datacenter": connection.datacenter,
            "namespace": connection.namespace,
        },
        "rendered": {"path": outcome.rendered.path, "commit": outcome.rendered.commit},
        "prefix": outcome.folder,
        "read_index": outcome.read_index,
        "dry_run": dry_run,
        "changes": [{"action": c.action, "key": c.key} for c in plan.changes],
        "counts": {
            **{action: len(plan.of(action)) for action in ACTIONS},
            "unchanged": plan.unchanged,
        },
        "removed_models": list(outcome.removed_models),
        "refusal": outcome.refusal,
        "applied": {"transactions": outcome.transactions, "changes": outcome.operations},
        "rounds": outcome.rounds,
        "conflicts": list(outcome.conflicts),
    }
