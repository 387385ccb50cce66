"""The safety decisions, as pure functions of the previous index and this run's scan."""

from dataclasses import replace

from generator import evaluate, index, reconcile
from generator.index import STATE_DEPLOYED, STATE_KEPT
from generator.sources.base import FetchFailure, RepoSnapshot, Scan, SingleRead
from testsupport.helpers import mlproject
from testsupport.scans import FOUR, PLATFORM, model, previous_of, snapshot


def decide(previous, scan, allow_mass_delete=False):
    evaluation = evaluate.evaluate(PLATFORM, scan, previous)
    return reconcile.reconcile(PLATFORM, evaluation, previous, allow_mass_delete)


def test_an_incomplete_scan_deletes_nothing_and_leaves_unseen_models_as_they_were():
    previous = previous_of(*FOUR)
    seen = snapshot("alpha", model("alpha", slo=90000), sha="b")
    without = snapshot("beta", None)  # seen, but its MLproject is gone
    outcome = decide(
        previous, Scan((seen, without), complete=False, incomplete_reason="rate limit")
    )
    assert outcome.removed == ()
    assert outcome.refusal is None
    assert outcome.incomplete_reason == "rate limit"
    assert sorted(k.entry.id for k in outcome.kept) == ["beta", "delta", "gamma"]
    assert all(k.as_was for k in outcome.kept)
    models = {m.id: m for m in outcome.models}
    assert models["alpha"].spec.slo == 90000
    for name in ("beta", "gamma", "delta"):
        assert models[name] == previous.models[name].model
        assert outcome.states[name] == index.ModelState(STATE_DEPLOYED)


def test_the_same_scan_when_complete_removes_what_it_did_not_see():
    previous = previous_of(*FOUR)
    outcome = decide(previous, Scan((FOUR[0], FOUR[1], snapshot("gamma", None))), True)
    assert sorted(e.id for e in outcome.removed) == ["delta", "gamma"]
    assert outcome.kept == ()


def test_a_single_repository_read_removes_nothing_and_is_no_failure():
    previous = previous_of(*FOUR)
    gone = Scan((), single=SingleRead("acme/alpha-model", "was not found on GitHub"))
    outcome = decide(previous, gone)
    assert outcome.removed == ()
    assert outcome.incomplete_reason is None
    assert sorted(k.entry.id for k in outcome.kept) == ["alpha", "beta", "delta", "gamma"]
    assert all(k.as_was for k in outcome.kept)
    assert {m.id: m for m in outcome.models} == {k: e.model for k, e in previous.models.items()}
    changed = Scan(
        (snapshot("beta", model("beta", slo=90000), sha="b"),), single=SingleRead("acme/beta-model")
    )
    outcome = decide(previous, changed)
    assert outcome.removed == ()
    assert {m.id: m.spec.slo for m in outcome.models}["beta"] == 90000
    assert sorted(k.entry.id for k in outcome.kept) == ["alpha", "delta", "gamma"]


def test_a_repository_that_fails_to_fetch_keeps_its_model_on_error():
    previous = previous_of(*FOUR)
    scan = Scan((*FOUR[:3],), failures=(FetchFailure("acme/delta-model", "HTTP 502"),))
    outcome = decide(previous, scan)
    [kept] = outcome.kept
    assert kept.entry == previous.models["delta"]
    assert outcome.states["delta"] == index.ModelState(
        STATE_KEPT, ("cannot read the repository: HTTP 502",)
    )
    assert outcome.removed == ()
    assert previous.models["delta"].model in outcome.models


def test_a_repository_that_fails_validation_keeps_its_last_good_model():
    previous = previous_of(*FOUR)
    broken = snapshot("beta", model("beta", slo="fast"), sha="c")
    outcome = decide(previous, Scan((FOUR[0], broken, *FOUR[2:])))
    [kept] = outcome.kept
    assert kept.entry.id == "beta"
    assert kept.entry.model.provenance.commit == "a" * 40, "the last good commit"
    [error] = outcome.states["beta"].errors
    assert error.startswith("MLproject:8:6: slo: must be an integer number of microseconds")


def test_a_repository_that_fails_policy_keeps_its_model_too():
    previous = previous_of(*FOUR)
    moved = snapshot("gamma", model("gamma", team="marketing"), sha="c")
    outcome = decide(previous, Scan((*FOUR[:2], moved, FOUR[3])))
    assert [k.entry.id for k in outcome.kept] == ["gamma"]
    assert "team 'marketing' is not a team of this platform" in outcome.states["gamma"].errors[0]


def test_a_new_model_with_errors_is_rejected_and_a_kept_one_is_not():
    previous = previous_of(*FOUR)
    newcomer = snapshot("epsilon", model("epsilon", slo="fast"), sha="e")
    claims = snapshot("zeta", model("alpha"), sha="f")  # an id alpha's repository holds
    broken = snapshot("beta", model("beta", slo="fast"), sha="c")  # kept on error
    outcome = decide(previous, Scan((FOUR[0], broken, *FOUR[2:], newcomer, claims)))
    assert [k.entry.id for k in outcome.kept] == ["beta"]
    assert [(r.repo, r.commit) for r in outcome.rejected] == [
        ("acme/epsilon-model", "e" * 40),
        ("acme/zeta-model", "f" * 40),
    ]
    [slo] = outcome.rejected[0].errors
    assert slo.startswith("MLproject:8:6: slo: must be an integer number of microseconds")
    assert "alpha" in outcome.rejected[1].errors[0]


def test_a_single_repository_run_keeps_the_other_rejections_and_a_fix_ends_one():
    newcomer = snapshot("epsilon", model("epsilon", slo="fast"), sha="e")
    other = snapshot("zeta", model("zeta", slo="fast"), sha="f")
    first = decide(previous_of(*FOUR), Scan((*FOUR, newcomer, other)))
    previous = replace(previous_of(*FOUR), rejected={r.repo: r for r in first.rejected})
    fixed = snapshot("epsilon", model("epsilon"), sha="9")
    outcome = decide(previous, Scan((fixed,), single=SingleRead("acme/epsilon-model")))
    assert [r.repo for r in outcome.rejected] == ["acme/zeta-model"]
    assert "epsilon" in {m.id for m in outcome.models}
    complete = decide(previous, Scan((*FOUR, fixed)))
    assert complete.rejected == (), "a complete scan that does not see zeta forgets it"


def test_removing_more_than_the_allowed_share_is_refused_unless_allowed():
    previous = previous_of(*FOUR)  # 4 models; the example platform allows 25 %
    one_gone = decide(previous, Scan(tuple(FOUR[:3])))
    assert [e.id for e in one_gone.removed] == ["delta"]
    assert one_gone.refusal is None, "1 of 4 is exactly the limit"
    two_gone = decide(previous, Scan(tuple(FOUR[:2])))
    assert "refusing to remove 2 of 4 models (50%)" in two_gone.refusal
    assert ": delta, gamma; nothing was written" in two_gone.refusal
    assert "--allow-mass-delete" in two_gone.refusal
    allowed = decide(previous, Scan(tuple(FOUR[:2])), allow_mass_delete=True)
    assert allowed.refusal is None
    assert len(allowed.removed) == 2


def test_the_share_is_read_from_platform_yaml():
    strict = replace(PLATFORM, max_delete_share=0.1, mass_delete_floor=0)
    previous = previous_of(*FOUR)
    evaluation = evaluate.evaluate(strict, Scan(tuple(FOUR[:3])), previous)
    assert reconcile.reconcile(strict, evaluation, previous).refusal is not None


def test_removing_no_more_than_the_floor_is_never_a_mass_delete():
    previous = previous_of(*FOUR[:2])  # a small platform: one removal is half of it
    one_gone = decide(previous, Scan(tuple(FOUR[:1])))
    assert one_gone.refusal is None, "the default floor lets any run remove one model"
    assert [e.id for e in one_gone.removed] == ["beta"]
    no_floor = replace(PLATFORM, mass_delete_floor=0)
    evaluation = evaluate.evaluate(no_floor, Scan(tuple(FOUR[:1])), previous)
    refusal = reconcile.reconcile(no_floor, evaluation, previous).refusal
    assert "refusing to remove 1 of 2 models (50%)" in refusal
    assert "0 models safety.mass_delete_floor always allows: beta;" in refusal
    both_gone = decide(previous, Scan(()))
    assert "refusing to remove 2 of 2 models (100%)" in both_gone.refusal
    assert ": alpha, beta;" in both_gone.refusal


def test_a_refusal_names_at_most_twenty_models():
    names = [f"m{number:02}" for number in range(30)]
    refusal = reconcile.mass_delete_refusal(names, 40, PLATFORM)
    assert "m00, m01," in refusal
    assert "m19 and 10 more;" in refusal
    assert "m20" not in refusal


def test_a_kept_model_whose_team_left_the_platform_is_removed_with_a_finding():
    previous = previous_of(*FOUR)
    teams = {name: team for name, team in PLATFORM.teams.items() if name != "rnd"}
    smaller = replace(PLATFORM, teams=teams)
    failed = Scan(tuple(FOUR[:3]), failures=(FetchFailure("acme/delta-model", "timeout"),))
    evaluation = evaluate.evaluate(smaller, failed, previous)
    outcome = reconcile.reconcile(smaller, evaluation, previous, allow_mass_delete=True)
    assert [e.id for e in outcome.removed] == ["alpha", "beta", "delta", "gamma"]
    assert any(
        "its team 'rnd' is no longer in platform.yaml" in f.message for f in outcome.findings
    )


def test_an_incumbent_kept_on_error_keeps_its_id_against_a_newcomer():
    previous = previous_of(*FOUR)
    broken = snapshot("alpha", model("alpha", slo="fast"), sha="c")
    newcomer = RepoSnapshot(
        "acme/other-model", "", "main", "d" * 40, mlproject(name="other-model", id="alpha")
    )
    evaluation = evaluate.evaluate(PLATFORM, Scan((broken, newcomer, *FOUR[1:])), previous)
    outcome = reconcile.reconcile(PLATFORM, evaluation, previous)
    [alpha] = [m for m in outcome.models if m.id == "alpha"]
    assert alpha.provenance.repo == "acme/alpha-model"
    assert "acme/other-model" in evaluation.failed_repos
    assert any(
        f.repo == "acme/other-model" and "already belongs to acme/alpha-model" in f.message
        for f in evaluation.findings
    )
