"""The registry gate: no Deployment points at an image that does not exist.   (pure)

Placement (``environments.place``) says which state of each model runs in each environment;
the gate then holds back every state whose image is not in the registry yet. It works in
two steps around one question put at the edge (``image_check``):

1. ``questions``: the images to ask about — those a placed model needs that it did not run
   with in that environment before (an image that already ran is not asked about again);
2. ``gate``: given the images known to exist, a model whose new images all exist moves; one
   that ran here before and lacks one stays at the state it ran (its index.json entry,
   state ``waiting-for-image``, promotion and all); a new one that lacks one is not placed. Either
   way the images it waits for are recorded (``EnvironmentPlan.waiting``), so ``list``,
   ``diff`` and the pull request show them, and the next run asks again.

Nothing is removed by the gate: it only keeps or holds back. A platform may turn it off
(``image_gate.enabled: false``): then every state is placed as it is.

The images a placed model needs are ``needed_images``: its state's own image and, with a
canary, the canary's (``deployment.image_refs``). A canary waits for its image like any new
version: when only the canary's image is missing, the model moves without its canary — the
stable version runs alone and takes every request — and the canary's image is recorded as
awaited, so the next run asks again and adds the canary once it exists.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from generator.config.settings import Platform
from generator.environments import Placed, Placements
from generator.index import STATE_WAITING, EnvironmentEntry, Index, ModelState
from generator.rendering.deployment import image_reference, image_refs


def needed_images(platform: Platform, placed: Placed) -> tuple[str, ...]:
    """The images ``placed`` needs to run, each ``host/repository:tag``: its own, and its
    canary's."""
    return image_refs(platform, placed.model)


def ran_images(platform: Platform, entry: EnvironmentEntry | None) -> frozenset[str]:
    """The images a model ran with in an environment, as index.json recorded them: its
    image, and its canary's when the state it ran had one."""
    if entry is None:
        return frozenset()
    return frozenset({entry.image, *image_refs(platform, entry.model)[1:]})


def _new_images(platform: Platform, placed: Placed, before: EnvironmentEntry | None) -> list[str]:
    ran = ran_images(platform, before)
    return [image for image in needed_images(platform, placed) if image not in ran]


def without_canary(placed: Placed) -> Placed:
    """``placed`` with its stable version alone: what runs while its canary's image waits."""
    model = placed.model
    return replace(placed, model=replace(model, spec=replace(model.spec, canary=None)))


def questions(platform: Platform, placements: Placements, previous: Index) -> frozenset[str]:
    """Every image to ask the registry about (none when the gate is off)."""
    if not platform.image_gate.enabled:
        return frozenset()
    asked: set[str] = set()
    for plan in placements.environments:
        before = previous.in_environment(plan.environment.name)
        for model_id, placed in plan.placed.items():
            asked.update(_new_images(platform, placed, before.get(model_id)))
    return frozenset(asked)


def gate(
    platform: Platform, placements: Placements, previous: Index, existing: Collection[str]
) -> Placements:
    """``placements`` with every state whose new images are not all in ``existing`` held
    back: the model stays at what it ran before (``waiting-for-image``), or, new, waits."""
    if not platform.image_gate.enabled:
        return placements
    plans = []
    for plan in placements.environments:
        before = previous.in_environment(plan.environment.name)
        placed: dict[str, Placed] = {}
        waiting: dict[str, tuple[str, ...]] = {}
        for model_id, running in plan.placed.items():
            ran = before.get(model_id)
            missing = sorted(set(_new_images(platform, running, ran)) - set(existing))
            if not missing:
                placed[model_id] = running
                continue
            waiting[model_id] = tuple(missing)
            if image_reference(platform, running.model) not in missing:
                placed[model_id] = without_canary(running)  # only the canary waits
                continue
            if ran is not None:
                placed[model_id] = Placed(
                    ran.model, ModelState(STATE_WAITING, running.state.errors), ran.promotion
                )
        plans.append(replace(plan, placed=placed, waiting=waiting))
    return replace(placements, environments=tuple(plans))


def waiting_note(environment: str, model_id: str, images: tuple[str, ...], runs: str) -> str:
    """What a person reads of a model held back in one environment; ``runs`` is the commit
    it runs there meanwhile ("" when it is new)."""
    awaited = ", ".join(images)
    meanwhile = f"it runs {runs} there until then" if runs else "it is not deployed there yet"
    return (
        f"{model_id} waits for its image in {environment}: {awaited} is not in the registry "
        f"yet (its build has not pushed it); {meanwhile}"
    )
