"""What runs in each environment (generator/environments.py): an environment that follows the
sources runs every model it admits; a promoted one runs each model at its pin, or keeps it
as it ran when the pin cannot be run — never a fall-back to the newest commit."""

from dataclasses import replace

import pytest

from generator import environments, index
from generator.config import loader
from generator.config.settings import InstanceRule
from generator.findings import Severity
from generator.index import STATE_KEPT, EnvironmentEntry, Index, IndexEntry, ModelState
from generator.pins import Pin, Promotions
from generator.yamlpos import Position
from testsupport.core_models import model
from testsupport.helpers import ROOT

PLATFORM = loader.load(ROOT / "platform.yaml")


def pin(of, action="promote"):
    commit, digest = index.spec_key(of)
    return Pin(of.provenance.repo, commit, digest, action, "2026-12-01T09:30:00Z", "Jane")


def promotions(*pinned):
    return {
        "production": Promotions(
            "production",
            {m.id: pin(m) for m in pinned},
            "promotions/production.yaml",
            {m.id: Position(5 + i, 3) for i, m in enumerate(pinned)},
        )
    }


def previous_in_production(*running):
    entries = {}
    for m in running:
        placed = EnvironmentEntry(m, "models-rnd", 2, 100000, "img", promotion=None)
        entries[m.id] = IndexEntry(m, environments={"production": placed})
    return Index(entries)


NOTHING = Index()


def place(models, previous=NOTHING, pins=None, catalog=None, platform=PLATFORM, **options):
    catalog = catalog if catalog is not None else {index.spec_key(m): m for m in models}
    return environments.place(platform, models, {}, previous, pins or {}, catalog, **options)


def running(placements, env):
    [plan] = [p for p in placements.environments if p.environment.name == env]
    return plan.placed


def test_staging_runs_every_model_and_production_only_what_is_pinned():
    churn, fraud = model("churn"), model("fraud", team="fraud")
    placements = place([churn, fraud], pins=promotions(churn))
    assert set(running(placements, "staging")) == {"churn", "fraud"}
    production = running(placements, "production")
    assert set(production) == {"churn"}
    assert production["churn"].model == churn
    assert production["churn"].promotion == index.Promotion(
        "promote", "2026-12-01T09:30:00Z", "Jane"
    )
    assert placements.findings == ()


def test_a_new_commit_moves_staging_and_production_stays_at_its_pin():
    promoted, newer = model("churn", "a"), model("churn", "b", slo=90000)
    placements = place(
        [newer],
        previous_in_production(promoted),
        promotions(promoted),
        {
            index.spec_key(promoted): promoted,
            index.spec_key(newer): newer,
        },
    )
    assert running(placements, "staging")["churn"].model == newer
    assert running(placements, "production")["churn"].model == promoted


def test_a_pin_whose_state_is_unknown_keeps_the_model_as_it_runs_with_an_error():
    promoted, newer, lost = model("churn", "a"), model("churn", "b"), model("churn", "c")
    placements = place([newer], previous_in_production(promoted), promotions(lost))
    kept = running(placements, "production")["churn"]
    assert kept.model == promoted, "never a fall-back to the newest commit"
    assert kept.state.state == STATE_KEPT
    [finding] = placements.findings
    assert finding.is_error
    assert (finding.path, finding.line, finding.column, finding.key) == (
        "promotions/production.yaml",
        5,
        3,
        "models.churn",
    )
    assert "is neither in index.json nor in the rendered repository's history" in finding.message
    assert "production keeps churn as it runs (acme/churn-model@aaaaaaa)" in finding.message
    assert kept.state.errors == (finding.message,)
    assert placements.refusals == ()


def test_a_pin_whose_state_is_unknown_for_a_model_not_running_there_is_an_error_only():
    newer, lost = model("churn", "b"), model("churn", "c")
    placements = place([newer], pins=promotions(lost))
    assert running(placements, "production") == {}
    [finding] = placements.findings
    assert "churn does not run in production" in finding.message


def test_the_pin_of_a_model_no_longer_on_the_platform_is_a_warning():
    gone = model("gone")
    placements = place([], previous_in_production(gone), promotions(gone))
    assert running(placements, "production") == {}
    [finding] = placements.findings
    assert finding.severity == Severity.WARNING
    assert "gone is not on the platform any more" in finding.message
    assert placements.environments[0].removed == ("gone",)


def test_a_renamed_repository_goes_on_running_its_pinned_state_under_the_new_name():
    pinned = model("churn", repo="acme/churn-model")
    renamed = model("churn", repo="acme/churn-predictor")
    assert index.spec_key(pinned) == index.spec_key(renamed)
    placements = place([renamed], previous_in_production(pinned), promotions(pinned))
    assert running(placements, "production")["churn"].model == renamed
    [finding] = placements.findings
    assert finding.severity == Severity.WARNING
    assert "now comes from acme/churn-predictor" in finding.message


def test_a_pin_of_another_repository_is_not_run_for_a_newcomer_to_the_id():
    """The id was another repository's, whose model went away; its old pin must not put that
    repository's code into production under the newcomer."""
    old = model("churn", repo="acme/old-churn-model")
    newcomer = model("churn", "b", repo="acme/churn-model")
    placements = place([newcomer], pins=promotions(old), catalog={index.spec_key(old): old})
    assert running(placements, "production") == {}
    [finding] = placements.findings
    assert finding.is_error
    assert "the pin is of acme/old-churn-model, but churn now comes from acme/churn-model" in (
        finding.message
    )


def test_models_opt_out_and_platform_selections_hold_in_both_kinds_of_environment():
    skips = model("churn", skip_environments=("production",))
    search = model("ranking", team="search")
    excluded = model("fraud", team="fraud")
    staging, production = (
        replace(e) for e in sorted(PLATFORM.environments, key=lambda e: e.name != "staging")
    )
    staging = replace(staging, models=replace(staging.models, teams=("rnd", "fraud")))
    production = replace(production, models=replace(production.models, exclude=("fraud",)))
    platform = replace(PLATFORM, environments=(production, staging))
    placements = place(
        [skips, search, excluded], pins=promotions(skips, search, excluded), platform=platform
    )
    assert set(running(placements, "staging")) == {"churn", "fraud"}
    assert set(running(placements, "production")) == {"ranking"}
    assert environments.exclusion(platform, production, skips.spec) == (
        "its MLproject skips production (skip_environments)"
    )


def test_kept_states_are_carried_into_environments_that_follow_the_sources():
    churn = model("churn")
    states = {"churn": ModelState(STATE_KEPT, ("MLproject:3:1: broken",))}
    placements = environments.place(PLATFORM, [churn], states, Index(), {}, {})
    assert running(placements, "staging")["churn"].state == states["churn"]


def test_removing_too_many_models_from_one_environment_is_refused():
    models = [model(f"m{n}") for n in range(4)]
    previous = previous_in_production(*models)
    placements = place(models, previous, promotions(*models[:2]))
    assert placements.refusals == (
        "refusing to remove 2 of 4 models from production (50%), more than "
        "safety.max_delete_share allows (25%) and more than the 1 model "
        "safety.mass_delete_floor always allows: m2, m3; nothing was written. If this is "
        "intended, run again with --allow-mass-delete",
    )
    allowed = place(models, previous, promotions(*models[:2]), allow_mass_delete=True)
    assert allowed.refusals == ()
    assert set(running(allowed, "production")) == {"m0", "m1"}


def test_the_states_to_look_for_in_the_history_are_the_pinned_ones_not_known():
    known, lost = model("churn", "a"), model("churn", "c")
    pins = promotions(lost)
    assert environments.wanted(PLATFORM, pins, {index.spec_key(known): known}) == {
        index.spec_key(lost)
    }
    assert environments.wanted(PLATFORM, pins, {index.spec_key(lost): lost}) == set()


@pytest.mark.parametrize(
    ("rule", "asked", "expected"),
    [
        (InstanceRule(), 3, 3),
        (InstanceRule(count=1), 4, 1),
        (InstanceRule(factor=0.5), 3, 2),
        (InstanceRule(factor=0.5), 1, 1),
        (InstanceRule(factor=3), 20, 50),
        (InstanceRule(factor=0.01), 2, 1),
        (InstanceRule(factor=1.5), 2, 3),
    ],
)
def test_an_environment_sets_instances_by_count_or_factor_within_1_to_50(rule, asked, expected):
    assert rule.apply(asked) == expected
