"""`modelship sync-consul`: make the keys below the platform's prefix in one environment's
Consul equal ``rendered/<env>/consul/kv.json`` as committed at the rendered repository's
HEAD — what a sync agent applies — with check-and-set transactions.

A round reads kv.json and the live keys, plans (generator.consul.kv_plan), and sends the plan
in transactions of at most 64 operations. A transaction Consul rolls back because another
writer changed one of its keys since the read (409, ``index is stale``) ends the round:
the next one reads both again — a newer kv.json too, when the other writer was a newer
sync — and plans anew, at most ``CONFLICT_ROUNDS`` times. Earlier transactions of a round
stay applied (each is all or nothing), so a run that fails half-way is finished by the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from generator import rendered_repo, wording
from generator.config.settings import Platform
from generator.consul import kv_plan
from generator.consul.client import LiveRead, TxnAnswer
from generator.consul.kv_plan import DELETE, DesiredKey, SyncPlan
from generator.errors import ConfigError, ExternalError, UsageError
from generator.rendering.targets import consul as consul_target

CONFLICT_ROUNDS = 4  # rounds of read, plan and write before concurrent writers win


class KeyValueStore(Protocol):
    def read(self, folder: str) -> LiveRead: ...

    def transact(self, operations: list[dict[str, object]]) -> TxnAnswer: ...


@dataclass(frozen=True)
class Rendered:
    """kv.json as committed at the rendered repository's HEAD."""

    desired: dict[str, DesiredKey]
    path: str  # e.g. rendered/staging/consul/kv.json
    commit: str


def rendered_reader(platform: Platform, environment: str) -> Callable[[], Rendered]:
    """Reads ``<env>/consul/kv.json`` at HEAD, anew on every call (a separate rendered
    repository is fetched first, as a sync agent would)."""

    def read() -> Rendered:
        repository = rendered_repo.open_rendered(platform)
        inside = consul_target.kv_path(environment)
        shown = f"{repository.prefix}/{inside}"
        data, commit = rendered_repo.head_file(repository, inside)
        if commit is None:
            raise UsageError(
                f"the rendered repository {repository.repo.working_tree_dir} has no commit "
                f"yet, so there is no {shown} to apply; run `modelship publish` first. "
                "Nothing was changed in Consul"
            )
        if data is None:
            raise UsageError(
                f"{shown} is not in the rendered repository's HEAD ({commit[:7]}); render and "
                "publish the environment first. Nothing was changed in Consul"
            )
        try:
            desired = kv_plan.parse_kv_json(data, shown, platform.consul_prefix)
        except ConfigError as error:
            raise ConfigError(
                f"{error.message} (at {commit[:7]}); nothing was changed in Consul"
            ) from None
        return Rendered(desired, shown, commit)

    return read


@dataclass(frozen=True)
class Outcome:
    folder: str  # <prefix>/: every key read and written is below it
    rendered: Rendered
    plan: SyncPlan  # the last round's
    read_index: int  # X-Consul-Index of the last read
    removed_models: tuple[str, ...]
    refusal: str | None  # a refused mass delete: nothing of the plan was written
    transactions: int  # applied, over every round
    operations: int  # applied, over every round
    rounds: int
    conflicts: tuple[str, ...]  # keys another writer changed between a read and a write


def synchronize(
    store: KeyValueStore,
    read_rendered: Callable[[], Rendered],
    prefix: str,
    max_delete_share: float,
    *,
    mass_delete_floor: int = 0,
    allow_mass_delete: bool = False,
    dry_run: bool = False,
    namespace: str | None = None,
    note: Callable[[str], None] = lambda _: None,
) -> Outcome:
    folder = kv_plan.folder(prefix)
    transactions = operations = deleted = 0
    conflicts: list[str] = []
    for round_number in range(1, CONFLICT_ROUNDS + 1):
        rendered = read_rendered()
        live = store.read(folder)
        plan = kv_plan.plan(live.keys, rendered.desired, prefix)
        deleting = plan.of(DELETE)
        removed = kv_plan.removed_models(deleting, live.keys, prefix)
        refusal = None
        if not allow_mass_delete:
            # counted over the whole run: what earlier rounds deleted counts too
            refusal = kv_plan.mass_delete_refusal(
                deleted + len(deleting),
                plan.live_count + deleted,
                max_delete_share,
                removed,
                prefix,
                floor=mass_delete_floor,
                whole_models_only=deleted == 0
                and {kv_plan.model_of(c.key, prefix) for c in deleting} == set(removed),
            )

        done = Outcome(
            folder,
            rendered,
            plan,
            live.index,
            removed,
            refusal,
            transactions,
            operations,
            round_number,
            tuple(conflicts),
        )
        if refusal is not None or dry_run or not plan.changes:
            return done
        conflicted = False
        planned = kv_plan.batches(plan.changes, prefix, namespace)
        for number, batch in enumerate(planned, 1):
            try:
                answer = store.transact(list(batch.operations))
            except ExternalError as error:
                if transactions == 0:
                    raise ExternalError(f"{error.message}. Nothing was changed") from None
                raise ExternalError(
                    f"{error.message}. {_applied(transactions, operations)} before transaction "
                    f"{number} of {len(planned)} failed; run sync-consul again to finish"
                ) from None
            if not answer.applied:
                keys = [_key_of(batch, e.op_index) for e in answer.conflicts]
                conflicts.extend(keys)
                note(
                    f"another writer changed {', '.join(map(kv_plan.shown_key, keys))} "
                    f"after it was read; transaction {number} of {len(planned)} was rolled "
                    "back whole, reading again"
                )
                conflicted = True
                break
            transactions += 1
            operations += len(batch.changes)
            deleted += sum(1 for change in batch.changes if change.action == DELETE)
        if not conflicted:
            return replace(done, transactions=transactions, operations=operations)
    raise ExternalError(
        f"keys below {folder} kept changing under sync-consul: {CONFLICT_ROUNDS} rounds of "
        f"read, plan and write each met a concurrent writer; {_applied(transactions, operations)}. "
        "Run sync-consul again once the other writer is done"
    )


def _applied(transactions: int, operations: int) -> str:
    return (
        f"{wording.plural(transactions, 'transaction')} "
        f"({wording.plural(operations, 'change')}) had been applied (each whole)"
    )


def _key_of(batch: kv_plan.Batch, op_index: int) -> str:
    """The key of the operation Consul names by its index in the transaction."""
    if 0 <= op_index < len(batch.changes):
        return batch.changes[op_index].key
    return f"operation {op_index}"
