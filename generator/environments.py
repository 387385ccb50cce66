"""Which models run in each environment, and at which spec and commit.   (pure)

An environment that follows the sources runs every model of the run (accepted, or kept
on error) that platform.yaml admits there and that does not opt out of it
(``skip_environments``). A promoted environment runs a model only at the state its
promotions file pins (``promotions/<env>.yaml``: commit and spec digest), taken from
what is known of the model — this run's source, the previous index.json, or the
rendered repository's history (``catalog``). A pin whose state cannot be found, or
that no longer fits the model, is an error for that model, never a fall-back to its
newest commit and never a deletion: the model stays as it ran (``kept-on-error``).

A model the run removes (its repository is gone) is removed from every environment;
its pin is left for ``modelship promote`` to drop. Per environment, one run may not
remove more than ``safety.max_delete_share`` of the models that ran there.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from generator.config.settings import Environment, Platform
from generator.findings import Finding, Severity
from generator.index import (
    STATE_KEPT,
    Damaged,
    EnvironmentEntry,
    Index,
    ModelState,
    Promotion,
    SpecKey,
)
from generator.mlproject import ModelSpec
from generator.model import Model
from generator.pins import Pin, Promotions
from generator.policy import same_repo
from generator.reconcile import mass_delete_refusal

RULE = "promotion"


@dataclass(frozen=True)
class Placed:
    """A model as it runs in one environment."""

    model: Model
    state: ModelState = field(default_factory=ModelState)
    promotion: Promotion | None = None


@dataclass(frozen=True)
class EnvironmentPlan:
    environment: Environment
    placed: Mapping[str, Placed]  # by model id, sorted
    removed: tuple[str, ...]  # ran here before this run, and not after it
    # Model id → the images its new state waits for here (the registry gate): it runs
    # its previous state meanwhile (placed, waiting-for-image), or nothing when it is new.
    waiting: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Placements:
    environments: tuple[EnvironmentPlan, ...]
    findings: tuple[Finding, ...]
    refusals: tuple[str, ...]  # one per environment the mass-delete guard refuses


def exclusion(platform: Platform, env: Environment, spec: ModelSpec) -> str:
    """Why ``spec`` does not run in ``env`` ("" when it does)."""
    if env.name in spec.skip_environments:
        return f"its MLproject skips {env.name} (skip_environments)"
    if not env.models.admits(spec.team, spec.id):
        return f"platform.yaml's environments.{env.name}.models leaves it out"
    if spec.team not in platform.teams:
        return f"its team {spec.team!r} is no longer in platform.yaml"
    return ""


def wanted(
    platform: Platform, promotions: Mapping[str, Promotions], catalog: Mapping[SpecKey, Model]
) -> set[SpecKey]:
    """The pinned states ``catalog`` lacks: what to look for in the rendered history."""
    return {
        pin.key
        for env in platform.environments
        if env.promoted
        for pin in promotions.get(env.name, Promotions(env.name)).pins.values()
        if pin.key not in catalog
    }


def stranded(
    platform: Platform,
    models: Sequence[Model],
    promotions: Mapping[str, Promotions],
    catalog: Mapping[SpecKey, Model],
    healed: Sequence[Damaged],
) -> dict[str, Finding]:
    """The damaged entries this run would render anew (their repository is valid again) that
    a promoted environment they ran in cannot run anew, because its pin of them cannot be run
    there: by id, the error that says so. Rendered anew, such a model would be deleted from
    that environment; it stays exactly as it was everywhere instead, until the pin can be run
    (``promote`` or ``rollback`` it) or the entry is repaired by hand."""
    by_id = {model.id: model for model in models}
    found: dict[str, Finding] = {}
    for env in platform.environments:
        pins = promotions.get(env.name, Promotions(env.name))
        for item in healed:
            pin, model = pins.pins.get(item.id), by_id.get(item.id)
            if pin is None or model is None or env.name not in item.environments:
                continue
            problem = _pin_problem(platform, model, pin, catalog)
            if problem and item.id not in found:
                message = (
                    f"{problem}; the damaged index.json entry of {item.id} is not rendered anew, "
                    f"which would delete it from {env.name}: it stays exactly as it was"
                )
                found[item.id] = pins.finding(
                    item.id, message, f"{RULE}/pin", repo=model.provenance.repo
                )
    return found


def place(
    platform: Platform,
    models: Sequence[Model],
    states: Mapping[str, ModelState],
    previous: Index,
    promotions: Mapping[str, Promotions],
    catalog: Mapping[SpecKey, Model],
    allow_mass_delete: bool = False,
    preserved: Collection[str] = (),
) -> Placements:
    """What runs in every environment after this run; ``models`` are the run's (accepted
    and kept), ``states`` their state when it is not plain deployed, ``preserved`` the ids
    of models kept exactly as they were (their index.json entry is damaged), which stay
    wherever they ran and which no pin moves.

    The mass-delete guard counts, per environment, the models that ran there — damaged
    entries included, as the platform's guard counts them — and those that no longer do."""
    by_id = {model.id: model for model in models}
    findings: list[Finding] = []
    plans: list[EnvironmentPlan] = []
    refusals: list[str] = []
    for env in platform.environments:
        before = previous.in_environment(env.name)
        if env.promoted:
            pins = promotions.get(env.name, Promotions(env.name))
            unmoved = replace(
                pins, pins={key: pin for key, pin in pins.pins.items() if key not in preserved}
            )
            placed = _promoted(platform, env, by_id, before, unmoved, catalog, findings)
        else:
            placed = {
                model.id: Placed(model, states.get(model.id, ModelState()))
                for model in sorted(models, key=lambda m: m.id)
                if not exclusion(platform, env, model.spec)
            }
        damaged = set(previous.damaged_in(env.name))
        removed = tuple(sorted(set(before) - set(placed)))
        removing = sorted({*removed, *(damaged - set(placed) - set(preserved))})
        plans.append(EnvironmentPlan(env, placed, removed))
        if not allow_mass_delete:
            total = len(before) + len(damaged)
            refusal = mass_delete_refusal(removing, total, platform, env.name)
            if refusal:
                refusals.append(refusal)
    return Placements(tuple(plans), tuple(sorted(findings)), tuple(refusals))


def _promoted(
    platform: Platform,
    env: Environment,
    models: Mapping[str, Model],
    before: Mapping[str, EnvironmentEntry],
    pins: Promotions,
    catalog: Mapping[SpecKey, Model],
    findings: list[Finding],
) -> dict[str, Placed]:
    placed: dict[str, Placed] = {}
    for model_id, pin in sorted(pins.pins.items()):
        model = models.get(model_id)
        if model is None:
            findings.append(
                pins.finding(
                    model_id,
                    f"{model_id} is not on the platform any more, so it runs nowhere; "
                    "the next `modelship promote` drops this pin",
                    f"{RULE}/stale-pin",
                    Severity.WARNING,
                )
            )
            continue
        kept = before.get(model_id)
        renamed = same_repo(pin.repo) != same_repo(model.provenance.repo)
        if renamed and kept is not None and kept.key == pin.key:
            # The repository was renamed (or the id moved) while this state ran here: it
            # goes on running, and the next promotion records the new name.
            findings.append(
                pins.finding(
                    model_id,
                    f"the pin is of {pin.repo}, but {model_id} now comes from "
                    f"{model.provenance.repo}; {env.name} goes on running the state pinned, "
                    "and the next `modelship promote` of it records the new name",
                    f"{RULE}/renamed",
                    Severity.WARNING,
                    repo=model.provenance.repo,
                )
            )
            # The catalog holds this run's model when its source is at that state still:
            # then it runs under the repository's new name.
            running = catalog.get(pin.key, kept.model)
            placed[model_id] = Placed(running, ModelState(), kept.promotion)
            continue
        problem = _pin_problem(platform, model, pin, catalog)
        if problem:
            consequence = (
                f"{env.name} keeps {model_id} as it runs ({kept.model.provenance})"
                if kept is not None
                else f"{model_id} does not run in {env.name}"
            )
            message = f"{problem}; {consequence}"
            findings.append(
                pins.finding(model_id, message, f"{RULE}/pin", repo=model.provenance.repo)
            )
            if kept is not None:
                placed[model_id] = Placed(
                    kept.model, ModelState(STATE_KEPT, (message,)), kept.promotion
                )
            continue
        pinned = catalog[pin.key]
        if exclusion(platform, env, pinned.spec):
            continue
        placed[model_id] = Placed(pinned, ModelState(), Promotion(pin.action, pin.at, pin.by))
    return placed


def _pin_problem(
    platform: Platform, model: Model, pin: Pin, catalog: Mapping[SpecKey, Model]
) -> str:
    """Why ``pin`` cannot be run for ``model`` ("" when it can)."""
    shown = f"{pin.repo}@{pin.commit[:7]}"
    if same_repo(pin.repo) != same_repo(model.provenance.repo):
        return (
            f"the pin is of {pin.repo}, but {model.id} now comes from "
            f"{model.provenance.repo}: promote it from there"
        )
    pinned = catalog.get(pin.key)
    if pinned is None:
        return (
            f"the state pinned ({shown}, spec {pin.spec[:19]}…) is neither in index.json nor "
            "in the rendered repository's history"
        )
    if pinned.id != model.id:
        return f"the state pinned ({shown}) is of the model {pinned.id!r}"
    if pinned.spec.team not in platform.teams:
        return (
            f"the state pinned ({shown}) belongs to the team {pinned.spec.team!r}, which "
            "platform.yaml no longer lists"
        )
    return ""
