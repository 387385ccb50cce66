"""promotions/<env>.yaml (generator/pins.py) and what promote and rollback decide
(generator/promotion.py), on data: the rendered index says what runs where."""

import pytest

from generator import index, pins, promotion
from generator.config import loader
from generator.errors import ConfigError, ExitCode, UsageError
from generator.index import STATE_KEPT, EnvironmentEntry, Index, IndexEntry
from generator.pins import Pin, Promotions
from generator.promotion import EarlierState
from testsupport.core_models import model
from testsupport.helpers import ROOT

PLATFORM = loader.load(ROOT / "platform.yaml")
PRODUCTION = PLATFORM.environment("production")
AT, BY = "2026-12-02T10:00:00Z", "Jane Doe <jane@acme.example>"


def placed(m, state="deployed"):
    return EnvironmentEntry(m, "models-rnd", 1, 100000, "img", state=state)


def tree(**environments_by_model):
    """An index: model id → {environment: model or (model, state)}."""
    entries = {}
    for model_id, where in environments_by_model.items():
        placements = {}
        for env, value in where.items():
            m, state = value if isinstance(value, tuple) else (value, "deployed")
            placements[env] = placed(m, state)
        source = where.get("staging", next(iter(where.values())))
        source = source[0] if isinstance(source, tuple) else source
        entries[model_id] = IndexEntry(source, environments=placements)
    return Index(entries)


def pinned(*models, action="promote"):
    return Promotions(
        "production",
        {m.id: promotion.pin_of(placed(m), action, "2026-11-01T00:00:00Z", "Old") for m in models},
    )


def test_promote_pins_what_the_source_runs_now():
    old, new = model("churn", "a"), model("churn", "b")
    current = tree(churn={"staging": new, "production": old})
    decision = promotion.promote(PLATFORM, PRODUCTION, current, pinned(old), ["churn"], AT, BY)
    [move] = decision.moves
    assert (move.model, move.before.model, move.after.model) == ("churn", old, new)
    commit, digest = index.spec_key(new)
    assert decision.promotions.pins["churn"] == Pin(
        "acme/churn-model", commit, digest, "promote", AT, BY
    )
    assert decision.changed


def test_promoting_what_is_pinned_already_changes_nothing():
    same = model("churn")
    current = tree(churn={"staging": same, "production": same})
    decision = promotion.promote(PLATFORM, PRODUCTION, current, pinned(same), None, AT, BY)
    assert (decision.moves, decision.unchanged, decision.changed) == ((), ("churn",), False)
    assert decision.promotions.pins["churn"].at == "2026-11-01T00:00:00Z", "the pin keeps its time"


def test_a_model_kept_on_error_or_not_running_in_the_source_is_refused():
    broken, absent = model("churn"), model("fraud", team="fraud")
    current = tree(churn={"staging": (broken, STATE_KEPT)}, fraud={"production": absent})
    decision = promotion.promote(
        PLATFORM, PRODUCTION, current, Promotions("production"), ["churn", "fraud"], AT, BY
    )
    assert decision.moves == ()
    assert decision.refused == (
        ("churn", "it is kept-on-error in staging (its repository fails): fix it first"),
        ("fraud", "it does not run in staging"),
    )


def test_with_all_a_model_that_skips_the_target_is_skipped_and_named_is_refused():
    skips = model("churn", skip_environments=("production",))
    current = tree(churn={"staging": skips})
    every = promotion.promote(PLATFORM, PRODUCTION, current, Promotions("production"), None, AT, BY)
    assert every.skipped == (
        (
            "churn",
            "it may not run in production: its MLproject skips production (skip_environments)",
        ),
    )
    assert every.refused == ()
    named = promotion.promote(
        PLATFORM, PRODUCTION, current, Promotions("production"), ["churn"], AT, BY
    )
    assert [m for m, _ in named.refused] == ["churn"]


def test_an_unknown_model_is_a_usage_error():
    with pytest.raises(UsageError, match=r"nope: no such model in the rendered tree's index\.json"):
        promotion.promote(PLATFORM, PRODUCTION, tree(), Promotions("production"), ["nope"], AT, BY)


def test_pins_of_models_no_longer_on_the_platform_are_dropped():
    gone, kept = model("gone"), model("churn")
    current = tree(churn={"staging": kept, "production": kept})
    decision = promotion.promote(PLATFORM, PRODUCTION, current, pinned(gone, kept), None, AT, BY)
    assert decision.dropped == ("gone",)
    assert set(decision.promotions.pins) == {"churn"}
    assert decision.changed


def test_rollback_pins_the_state_before_the_current_one():
    first, second, third = model("churn", "a"), model("churn", "b"), model("churn", "c")
    current = tree(churn={"staging": third, "production": third})
    history = [
        EarlierState("r4", placed(third)),
        EarlierState("r3", placed(second, STATE_KEPT)),  # never ran healthily: skipped
        EarlierState("r2", placed(second)),
        EarlierState("r1", placed(first)),
    ]
    decision = promotion.rollback(
        PLATFORM, PRODUCTION, "churn", current, pinned(third), history, None, AT, BY
    )
    [move] = decision.moves
    assert (move.before.model, move.after.model) == (third, second)
    assert decision.promotions.pins["churn"].action == "rollback"
    to_first = promotion.rollback(
        PLATFORM, PRODUCTION, "churn", current, pinned(third), history, "aaaa", AT, BY
    )
    assert to_first.moves[0].after.model == first


def test_rollback_without_an_earlier_state_says_how_much_history_it_read():
    only = model("churn", "a")
    current = tree(churn={"staging": only, "production": only})
    with pytest.raises(UsageError) as caught:
        promotion.rollback(
            PLATFORM,
            PRODUCTION,
            "churn",
            current,
            pinned(only),
            [EarlierState("r1", placed(only))],
            None,
            AT,
            BY,
        )
    assert caught.value.exit_code == ExitCode.USAGE
    assert str(caught.value) == (
        "no earlier state of churn in production before the current one in the rendered "
        "repository's history (1 recorded states read)"
    )
    with pytest.raises(UsageError, match="churn does not run in production"):
        promotion.rollback(
            PLATFORM,
            PRODUCTION,
            "churn",
            tree(churn={"staging": only}),
            Promotions("production"),
            [],
            None,
            AT,
            BY,
        )


def test_a_promotions_file_round_trips_and_says_what_it_is():
    promotions = Promotions(
        "production",
        {"churn": Pin("acme/churn-model", "a" * 40, "sha256:" + "b" * 64, "promote", AT, BY)},
    )
    text = pins.dumps(promotions).decode()
    assert text.startswith("# What production runs, model by model:")
    assert "at: '2026-12-02T10:00:00Z'" in text, "a time YAML would read as a timestamp is quoted"
    parsed = pins.parse(text, "promotions/production.yaml", "production")
    assert parsed.pins == promotions.pins
    assert parsed.positions["churn"].line == text.splitlines().index("  churn:") + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models: [\n", "promotions/production.yaml:2:1: invalid YAML"),
        (
            "format: 1\nenvironment: staging\nmodels: {}\n",
            "promotions/production.yaml:2:14: environment: is 'staging', but this is the file of 'production'",
        ),
        (
            "format: 1\nenvironment: production\nmodels:\n  churn:\n    repo: acme/churn-model\n"
            "    commit: HEAD\n    spec: x\n    action: promote\n    at: now\n    by: me\n",
            "promotions/production.yaml:6:13: models.churn.commit: must be the 40 lowercase hex",
        ),
        (
            "format: 1\nenvironment: production\nmodels:\n  churn: {}\n  churn: {}\n",
            "promotions/production.yaml:5:3: models.churn: duplicate key (first defined at line 4)",
        ),
        ("format: 2\nenvironment: production\nmodels: {}\n", "format: must be 1"),
        (
            "format: 1\nenvironment: production\nmodels:\n  churn:\n    repo: acme/churn-model\n"
            f"    commit: '{'a' * 40}'\n    spec: sha256:{'b' * 64}\n    action: promote\n"
            "    at: '2026-13-45T99:99:99Z'\n    by: me\n",
            "promotions/production.yaml:9:9: models.churn.at: must be a UTC time",
        ),
    ],
)
def test_a_damaged_promotions_file_is_a_positioned_configuration_error(text, expected):
    with pytest.raises(ConfigError) as caught:
        pins.parse(text, "promotions/production.yaml", "production")
    assert caught.value.exit_code == ExitCode.USAGE
    assert expected in caught.value.message


def damaged_entry(model_id):
    return index.Damaged(model_id, {"spec": "?"}, (), None, f"acme/{model_id}-model")


def test_a_model_whose_entry_is_damaged_keeps_its_pin_and_is_neither_promoted_nor_rolled_back():
    """It runs as it was everywhere; dropping its pin would take it out of production the
    moment its repository renders it anew."""
    churn, fraud = model("churn"), model("fraud", team="fraud")
    current = tree(fraud={"staging": fraud, "production": fraud})
    current = Index(current.models, damaged={"churn": damaged_entry("churn")})
    pins = pinned(churn, fraud)
    everything = promotion.promote(PLATFORM, PRODUCTION, current, pins, None, AT, BY)
    assert everything.dropped == ()
    assert everything.promotions.pins == pins.pins
    named = promotion.promote(PLATFORM, PRODUCTION, current, pins, ["churn"], AT, BY)
    assert named.refused == (("churn", promotion.DAMAGED),)
    assert named.promotions.pins["churn"] == pins.pins["churn"]
    with pytest.raises(UsageError, match=r"churn cannot be rolled back: its index\.json entry is"):
        promotion.rollback(PLATFORM, PRODUCTION, "churn", current, pins, [], None, AT, BY)
    gone = promotion.promote(PLATFORM, PRODUCTION, Index(current.models), pins, None, AT, BY)
    assert gone.dropped == ("churn",), "a model gone from the tree loses its pin"


def test_a_promotions_file_pinning_ten_thousand_models_is_read():
    commit, digest = "a" * 40, "sha256:" + "b" * 64
    pinned = {
        f"m{n:05d}": Pin(
            f"acme/m{n:05d}-model", commit, digest, "promote", "2026-01-01T00:00:00Z", "x"
        )
        for n in range(15_000)
    }
    text = pins.dumps(Promotions("production", pinned)).decode()
    assert len(pins.parse(text, "production.yaml", "production").pins) == 15_000


def test_aliases_cannot_blow_a_promotions_file_up():
    layers = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    layers += [
        f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 9)
    ]
    with pytest.raises(ConfigError, match="YAML aliases expand this document"):
        pins.parse("\n".join(layers) + "\n", "production.yaml", "production")
