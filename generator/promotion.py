"""What ``modelship promote`` and ``modelship rollback`` change in a promotions file.   (pure)

``promote`` pins, for each model asked for, the state its source environment runs now
(as the rendered tree's index.json records it) — only a model that runs there and is not
kept on error, and that may run in the target. ``rollback`` pins one model to an earlier
state the target ran, found in the rendered repository's history (the previous one by
default). Both drop the pins of models that are no longer on the platform. Time and
person are given by the command: nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.config.settings import Environment, Platform
from generator.environments import exclusion
from generator.errors import UsageError
from generator.index import (
    ACTION_PROMOTE,
    ACTION_ROLLBACK,
    STATE_DEPLOYED,
    STATE_WAITING,
    EnvironmentEntry,
    Index,
    spec_digest,
)
from generator.pins import Pin, Promotions


@dataclass(frozen=True)
class Move:
    """One model's pin, before and after."""

    model: str
    before: EnvironmentEntry | None  # what the target runs of it now
    after: EnvironmentEntry  # the state it is pinned to now


@dataclass(frozen=True)
class Decision:
    promotions: Promotions  # the file as it is to be
    moves: tuple[Move, ...]  # pins added or changed
    unchanged: tuple[str, ...] = ()  # already pinned to that state
    dropped: tuple[str, ...] = ()  # pins of models no longer on the platform
    refused: tuple[tuple[str, str], ...] = ()  # (model, why it cannot be pinned)
    # (model, why): with every model asked for, those that may not run in the target
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.moves or self.dropped)


def pin_of(entry: EnvironmentEntry, action: str, at: str, by: str) -> Pin:
    model = entry.model
    return Pin(
        repo=model.provenance.repo,
        commit=model.provenance.commit,
        spec=spec_digest(model.spec),
        action=action,
        at=at,
        by=by,
    )


def promote(
    platform: Platform,
    target: Environment,
    index: Index,
    current: Promotions,
    requested: Sequence[str] | None,
    at: str,
    by: str,
) -> Decision:
    """Pin ``requested`` (None: every model) in ``target`` to what its source runs now."""
    source = str(target.promoted_from)
    unknown = sorted(set(requested or ()) - _on_platform(index))
    if unknown:
        raise UsageError(
            f"{', '.join(unknown)}: no such model in the rendered tree's index.json "
            f"({', '.join(sorted(_on_platform(index))) or 'it has none'})"
        )
    running = index.in_environment(source)
    now = index.in_environment(target.name)
    candidates = sorted(requested) if requested is not None else sorted(running)
    pins = _kept_pins(current, index)
    moves: list[Move] = []
    unchanged: list[str] = []
    refused: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for model_id in candidates:
        entry = running.get(model_id)
        why = DAMAGED if model_id in index.damaged else _why_not(source, entry)
        if why:
            refused.append((model_id, why))
            continue
        assert entry is not None
        reason = exclusion(platform, target, entry.model.spec)
        if reason:
            why = f"it may not run in {target.name}: {reason}"
            (skipped if requested is None else refused).append((model_id, why))
            continue
        pin = current.pins.get(model_id)
        if pin is not None and pin.key == entry.key:
            unchanged.append(model_id)
            continue
        pins[model_id] = pin_of(entry, ACTION_PROMOTE, at, by)
        moves.append(Move(model_id, now.get(model_id), entry))
    return Decision(
        promotions=Promotions(target.name, dict(sorted(pins.items())), current.where),
        moves=tuple(moves),
        unchanged=tuple(unchanged),
        dropped=_dropped(current, index),
        refused=tuple(refused),
        skipped=tuple(skipped),
    )


# Why a model whose index.json entry is damaged is neither promoted nor rolled back: it runs
# as it was everywhere, its pins kept, and no pin moves it until it is rendered anew.
DAMAGED = (
    "its index.json entry is damaged: it runs exactly as it was until its repository renders "
    "it anew (see `modelship list`)"
)


def _on_platform(index: Index) -> set[str]:
    """The models of the rendered tree: its sound entries, and those whose entry is damaged
    (kept as they were, so their pins are kept too)."""
    return {*index.models, *index.damaged}


def _why_not(source: str, entry: EnvironmentEntry | None) -> str:
    if entry is None:
        return f"it does not run in {source}"
    if entry.state == STATE_WAITING:
        # It runs its previous state there, while the image of its new one is not in the
        # registry yet: promoting now would pin a state that is not the newest.
        return (
            f"it is {STATE_WAITING} in {source} (the image of its new commit is not in the "
            f"registry yet; {source} still runs {entry.model.provenance.short_commit}): "
            "promote it once its image is pushed and a render has moved it"
        )
    if entry.state != STATE_DEPLOYED:
        return f"it is {entry.state} in {source} (its repository fails): fix it first"
    return ""


def _kept_pins(current: Promotions, index: Index) -> dict[str, Pin]:
    known = _on_platform(index)
    return {model_id: pin for model_id, pin in current.pins.items() if model_id in known}


def _dropped(current: Promotions, index: Index) -> tuple[str, ...]:
    return tuple(sorted(set(current.pins) - _on_platform(index)))


@dataclass(frozen=True)
class EarlierState:
    """A state a model ran at in an environment, as the rendered tree recorded it at
    ``rendered_commit``."""

    rendered_commit: str
    entry: EnvironmentEntry


def rollback(
    platform: Platform,
    target: Environment,
    model_id: str,
    index: Index,
    current: Promotions,
    history: Sequence[EarlierState],
    to: str | None,
    at: str,
    by: str,
) -> Decision:
    """Pin ``model_id`` in ``target`` to an earlier state from ``history`` (newest first):
    the latest that differs from what is pinned now, or the latest at source commit ``to``."""
    if model_id in index.damaged:
        raise UsageError(f"{model_id} cannot be rolled back: {DAMAGED}")
    if model_id not in index.models:
        raise UsageError(f"{model_id}: no such model in the rendered tree's index.json")
    now = index.in_environment(target.name).get(model_id)
    pin = current.pins.get(model_id)
    current_key = pin.key if pin is not None else (now.key if now is not None else None)
    if current_key is None:
        raise UsageError(f"{model_id} does not run in {target.name}: there is nothing to roll back")
    earlier = [
        state.entry
        for state in history
        if state.entry.state == STATE_DEPLOYED and state.entry.key != current_key
    ]
    if to is not None:
        earlier = [e for e in earlier if e.model.provenance.commit.startswith(to)]
    if not earlier:
        wanted = f"at commit {to}" if to is not None else "before the current one"
        raise UsageError(
            f"no earlier state of {model_id} in {target.name} {wanted} in the rendered "
            f"repository's history ({len(history)} recorded states read)"
        )
    chosen = earlier[0]
    reason = exclusion(platform, target, chosen.model.spec)
    if reason:
        raise UsageError(
            f"{model_id} at {chosen.model.provenance} may not run in {target.name}: {reason}"
        )
    pins = _kept_pins(current, index)
    pins[model_id] = pin_of(chosen, ACTION_ROLLBACK, at, by)
    return Decision(
        promotions=Promotions(target.name, dict(sorted(pins.items())), current.where),
        moves=(Move(model_id, now, chosen),),
        dropped=_dropped(current, index),
    )
