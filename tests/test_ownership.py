"""Who holds an id (and a name) when repositories are renamed, change letter case, move their
MLproject or change their id — decided on data, from the previous index and this run's scan."""

import shutil

from generator import evaluate, reconcile
from generator.errors import ExitCode
from generator.index import STATE_DEPLOYED, STATE_KEPT
from generator.sources.base import RepoSnapshot, Scan
from testsupport.helpers import mlproject, modelship, platform_dir, read_tree
from testsupport.scans import FOUR, PLATFORM, model, previous_of, snapshot


def renamed(original, full_name, text=None):
    return RepoSnapshot(
        full_name=full_name,
        clone_url=f"https://github.com/{full_name}.git",
        default_branch="main",
        head_sha=original.head_sha,
        mlproject=original.mlproject if text is None else text,
    )


def run_evaluation(previous, scan):
    evaluation = evaluate.evaluate(PLATFORM, scan, previous)
    return evaluation, reconcile.reconcile(PLATFORM, evaluation, previous)


def test_a_renamed_repository_keeps_its_model_when_the_scan_is_complete():
    previous = previous_of(*FOUR)
    moved = renamed(FOUR[0], "acme/alpha-renamed-model")
    evaluation, outcome = run_evaluation(previous, Scan((moved, *FOUR[1:])))
    assert not evaluation.has_errors, evaluation.findings
    assert outcome.removed == ()
    [alpha] = [m for m in outcome.models if m.id == "alpha"]
    assert alpha.provenance.repo == "acme/alpha-renamed-model"
    assert outcome.states.get("alpha") is None, "deployed, not kept"


def test_a_change_of_letter_case_is_the_same_repository():
    previous = previous_of(*FOUR)
    recased = renamed(FOUR[0], "acme/Alpha-Model")
    evaluation, outcome = run_evaluation(previous, Scan((recased, *FOUR[1:])))
    assert not evaluation.has_errors, evaluation.findings
    assert outcome.removed == ()
    assert [m.provenance.repo for m in outcome.models if m.id == "alpha"] == ["acme/Alpha-Model"]
    broken = renamed(FOUR[0], "acme/Alpha-Model", model("alpha", slo="fast"))
    _, outcome = run_evaluation(previous, Scan((broken, *FOUR[1:])))
    assert outcome.removed == ()
    [kept] = outcome.kept
    assert (kept.entry.id, outcome.states["alpha"].state) == ("alpha", STATE_KEPT)


def test_while_the_scan_is_incomplete_an_unseen_incumbent_keeps_its_id():
    previous = previous_of(*FOUR)
    moved = renamed(FOUR[0], "acme/alpha-renamed-model")
    partial = Scan((moved,), complete=False, incomplete_reason="rate limit")
    evaluation, outcome = run_evaluation(previous, partial)
    assert "acme/alpha-renamed-model" in evaluation.failed_repos
    assert any("already belongs to acme/alpha-model" in f.message for f in evaluation.findings)
    [alpha] = [m for m in outcome.models if m.id == "alpha"]
    assert alpha.provenance.repo == "acme/alpha-model"
    assert outcome.removed == ()


def test_an_mlproject_moved_to_another_repository_moves_the_model():
    previous = previous_of(*FOUR)
    emptied = snapshot("alpha", None)
    successor = renamed(FOUR[0], "acme/alpha-next-model")
    evaluation, outcome = run_evaluation(previous, Scan((emptied, successor, *FOUR[1:])))
    assert not evaluation.has_errors, evaluation.findings
    assert [m.provenance.repo for m in outcome.models if m.id == "alpha"] == [
        "acme/alpha-next-model"
    ]
    assert outcome.removed == ()


def test_two_claimants_of_a_departed_repositorys_id_are_both_rejected():
    previous = previous_of(*FOUR)
    left = renamed(FOUR[0], "acme/left-model")
    right = renamed(FOUR[0], "acme/right-model")
    evaluation, outcome = run_evaluation(previous, Scan((left, right, *FOUR[1:])))
    assert {"acme/left-model", "acme/right-model"} <= set(evaluation.failed_repos)
    assert [e.id for e in outcome.removed] == ["alpha"]


def test_an_id_change_during_an_incomplete_scan_renders_the_repository_once():
    previous = previous_of(*FOUR)
    changed = snapshot("alpha", mlproject(name="alpha-model", id="alpha-two"), sha="b")
    partial = Scan((changed,), complete=False, incomplete_reason="rate limit")
    _, outcome = run_evaluation(previous, partial)
    repos = [m.provenance.repo for m in outcome.models]
    assert repos.count("acme/alpha-model") == 1, repos
    assert [m.id for m in outcome.models if m.provenance.repo == "acme/alpha-model"] == [
        "alpha-two"
    ]
    assert [e.id for e in outcome.removed] == ["alpha"]
    for name in ("beta", "gamma", "delta"):
        assert outcome.states[name].state == STATE_DEPLOYED
        assert [k.as_was for k in outcome.kept if k.entry.id == name] == [True]


def test_render_after_renaming_a_model_repository_keeps_the_model(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    before = read_tree(folder / "rendered")
    repos = folder / "examples" / "repos"
    shutil.move(repos / "size-advice-model", repos / "size-hint-model")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert "already belongs" not in result.stderr
    after = read_tree(folder / "rendered")
    assert after.keys() == before.keys(), "no file of the model went away"
    assert b"acme/size-hint-model" in after["index.json"]
    assert b"acme/size-advice-model" not in after["index.json"]
