"""What `modelship sync-consul` changes in Consul: the rendered kv.json against the live keys
under the platform's prefix → create, update and delete, in transactions Consul accepts (pure).

Every write is a check-and-set on the ModifyIndex the live key was read with (``cas`` with
index 0 for a key that did not exist, ``delete-cas`` for a delete), so a key another writer
changed after the read fails the whole transaction instead of being overwritten unseen.
Only keys strictly below ``<prefix>/`` are ever planned: never the prefix itself (nor its
folder key ``<prefix>/``), never a key beside it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator import wording
from generator.errors import ConfigError

MAX_TXN_OPS = 64  # operations in one transaction: Consul's limit (agent/txn_endpoint.go)
# Bytes of one transaction's body: Consul's default txn_max_req_len (512 KiB), less room
# for a proxy's headers.
MAX_TXN_BYTES = 500 * 1024
MAX_FLAGS = 2**64  # Consul's flags are an unsigned 64-bit integer

CREATE, UPDATE, DELETE = "create", "update", "delete"


@dataclass(frozen=True)
class LiveKey:
    """A key as Consul holds it, read with ``?recurse``."""

    key: str
    value: bytes
    flags: int
    modify_index: int


@dataclass(frozen=True)
class DesiredKey:
    """A key as kv.json renders it."""

    key: str
    value: bytes
    flags: int


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete
    key: str
    value: bytes = b""  # the value written; empty for a delete
    flags: int = 0
    index: int = 0  # the ModifyIndex the write is checked against; 0: the key must not exist

    def operation(self, namespace: str | None) -> dict[str, Any]:
        """The change as one operation of Consul's /v1/txn."""
        kv: dict[str, Any] = {"Key": self.key, "Index": self.index}
        if self.action == DELETE:
            kv["Verb"] = "delete-cas"
        else:
            kv.update(
                Verb="cas", Value=base64.b64encode(self.value).decode("ascii"), Flags=self.flags
            )
        if namespace is not None:
            kv["Namespace"] = namespace
        return {"KV": kv}


@dataclass(frozen=True)
class SyncPlan:
    changes: tuple[Change, ...]  # sorted by key
    unchanged: int
    live_count: int  # live keys below the prefix

    def of(self, action: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action == action)

    def summary(self) -> str:
        counts = {action: len(self.of(action)) for action in (CREATE, UPDATE, DELETE)}
        return (
            f"{counts[CREATE]} to create, {counts[UPDATE]} to update, "
            f"{counts[DELETE]} to delete, {self.unchanged} unchanged"
        )


@dataclass(frozen=True)
class Batch:
    """One transaction: its changes and the operations sent for them, in the same order
    (Consul names a failed operation by its index)."""

    changes: tuple[Change, ...]
    operations: tuple[dict[str, Any], ...] = field(repr=False)


def folder(prefix: str) -> str:
    """``modelship/models`` → ``modelship/models/``: what is read and pruned. With the
    slash, ``modelship/models-old/...`` is not below it."""
    return prefix.rstrip("/") + "/"


def owned(key: str, prefix: str) -> bool:
    """A key Modelship may write or delete: strictly below the prefix's folder."""
    below = folder(prefix)
    return key.startswith(below) and key != below


def parse_kv_json(data: bytes, shown: str, prefix: str) -> dict[str, DesiredKey]:
    """kv.json (``consul kv import`` format) → key → DesiredKey. Raises ConfigError naming
    the file, the line and the key for anything Modelship would not have rendered: the file
    decides what is deleted, so nothing in it is guessed at."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{shown}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    if not text.strip():
        raise ConfigError(f"{shown}: the file is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{shown}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"
        ) from None
    if not isinstance(document, list):
        raise ConfigError(
            f"{shown}:1:1: must be a JSON array of {{key, flags, value}} entries "
            "(the `consul kv import` format)"
        )
    if not document:
        raise ConfigError(f"{shown}: lists no keys")
    desired: dict[str, DesiredKey] = {}
    for (line, column), entry in zip(_element_positions(text), document, strict=True):
        at = f"{shown}:{line}:{column}"
        item = _desired_key(entry, at, prefix)
        if item.key in desired:
            raise ConfigError(f"{at}: key {shown_key(item.key)} is listed twice")
        desired[item.key] = item
    return desired


def _desired_key(entry: Any, at: str, prefix: str) -> DesiredKey:
    if not isinstance(entry, dict):
        raise ConfigError(f"{at}: an entry must be an object with key, flags and value")
    key = entry.get("key")
    if not isinstance(key, str) or not key:
        raise ConfigError(f"{at}: key: must be a non-empty string")
    named = f"{at}: {shown_key(key)}"
    if not owned(key, prefix):
        raise ConfigError(
            f"{named}: is not below the platform's prefix {folder(prefix)} (consul.prefix); "
            "sync-consul writes only there"
        )
    flags = entry.get("flags", 0)
    if isinstance(flags, bool) or not isinstance(flags, int) or not 0 <= flags < MAX_FLAGS:
        raise ConfigError(f"{named}: flags: must be an unsigned 64-bit integer (got {flags!r})")
    value = entry.get("value")
    if not isinstance(value, str):
        raise ConfigError(f"{named}: value: must be a base64 string")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ConfigError(f"{named}: value: not standard base64 ({error})") from None
    return DesiredKey(key, decoded, flags)


def _element_positions(text: str) -> list[tuple[int, int]]:
    """(line, column) where each element of the top-level JSON array starts."""
    decoder = json.JSONDecoder()
    positions = []
    at = text.index("[") + 1
    while True:
        while text[at].isspace() or text[at] == ",":
            at += 1
        if text[at] == "]":
            return positions
        line = text.count("\n", 0, at) + 1
        positions.append((line, at - text.rfind("\n", 0, at)))
        _, at = decoder.raw_decode(text, at)


def plan(live: Iterable[LiveKey], desired: Mapping[str, DesiredKey], prefix: str) -> SyncPlan:
    """The changes that make the live keys below the prefix equal to ``desired``: values and
    flags compared byte for byte, so nothing changed means nothing written."""
    current = {entry.key: entry for entry in live if owned(entry.key, prefix)}
    changes: list[Change] = []
    unchanged = 0
    for key, want in desired.items():
        if not owned(key, prefix):
            raise ValueError(f"{key!r} is not below {prefix!r}")  # parse_kv_json refuses it
        have = current.get(key)
        if have is None:
            changes.append(Change(CREATE, key, want.value, want.flags, 0))
        elif (have.value, have.flags) != (want.value, want.flags):
            changes.append(Change(UPDATE, key, want.value, want.flags, have.modify_index))
        else:
            unchanged += 1
    changes.extend(
        Change(DELETE, key, index=have.modify_index)
        for key, have in current.items()
        if key not in desired
    )
    return SyncPlan(tuple(sorted(changes, key=lambda c: c.key)), unchanged, len(current))


def model_of(key: str, prefix: str) -> str:
    """The model a key belongs to: its first segment below the prefix."""
    return key[len(folder(prefix)) :].split("/", 1)[0]


def removed_models(
    changes: Sequence[Change], live: Iterable[LiveKey], prefix: str
) -> tuple[str, ...]:
    """Models every one of whose live keys the changes delete."""
    deleting = {c.key for c in changes if c.action == DELETE}
    kept = {model_of(e.key, prefix) for e in live if owned(e.key, prefix) and e.key not in deleting}
    return tuple(sorted({model_of(key, prefix) for key in deleting} - kept))


def mass_delete_refusal(
    deleting: int,
    total: int,
    limit: float,
    models: Sequence[str],
    prefix: str,
    floor: int = 0,
    whole_models_only: bool = False,
) -> str | None:
    """Why deleting ``deleting`` of the ``total`` live keys below the prefix is refused, or
    None. Keys are counted, not models: a template that lost most fields of every model
    deletes few models but most keys. A deletion that only removes whole models
    (``whole_models_only``), at most ``floor`` of them (``safety.mass_delete_floor``), is
    never refused: it is what a render that removed them was allowed to do."""
    if total == 0 or deleting / total <= limit:
        return None
    if whole_models_only and len(models) <= floor:
        return None
    whose = ""
    if models:
        whose = f", all keys of {wording.plural(len(models), 'model')}: {', '.join(models)}"
    return (
        f"refusing to delete {deleting} of {total} keys below {folder(prefix)} "
        f"({deleting / total:.0%}{whose}), more than safety.max_delete_share allows "
        f"({limit:.0%}); nothing was written. If this is intended, run again with "
        "--allow-mass-delete"
    )


def batches(
    changes: Sequence[Change],
    prefix: str,
    namespace: str | None = None,
    max_ops: int = MAX_TXN_OPS,
    max_bytes: int = MAX_TXN_BYTES,
) -> list[Batch]:
    """The changes as transactions of at most ``max_ops`` operations and about ``max_bytes``
    of JSON. A model's changes stay in one transaction when they fit, so each model's keys
    change together; models with writes go first, models that only lose keys last, so a run
    that stops half-way has added and updated before it deleted."""
    groups: dict[str, list[Change]] = {}
    for change in sorted(changes, key=lambda c: c.key):
        groups.setdefault(model_of(change.key, prefix), []).append(change)
    ordered = sorted(
        groups.items(), key=lambda item: (all(c.action == DELETE for c in item[1]), item[0])
    )
    result: list[Batch] = []
    current: list[tuple[Change, dict[str, Any]]] = []
    size = 2  # "[]"

    def close() -> None:
        nonlocal current, size
        if current:
            result.append(Batch(tuple(c for c, _ in current), tuple(o for _, o in current)))
        current, size = [], 2

    for _, group in ordered:
        operations = [(change, change.operation(namespace)) for change in group]
        sizes = [len(json.dumps(operation)) + 1 for _, operation in operations]
        if len(current) + len(group) > max_ops or size + sum(sizes) > max_bytes:
            close()  # the model's changes start a transaction of their own
        for item, item_size in zip(operations, sizes, strict=True):
            if len(current) == max_ops or (current and size + item_size > max_bytes):
                close()  # a model too big for one transaction
            current.append(item)
            size += item_size
    close()
    return result


def shown_key(key: str) -> str:
    """A key as printed: JSON-quoted, so that no character in it can pass for another."""
    return json.dumps(key, ensure_ascii=True)
