"""The registry gate's decision (generator/image_gate.py), on data: which images to ask
about, and who moves, who stays at the image it ran and who waits. The real registry is
asked in tests/test_registry_gate.py."""

from dataclasses import replace

from generator import environments, image_gate, index
from generator.config import loader
from generator.config.settings import ImageGate
from generator.index import STATE_DEPLOYED, STATE_WAITING
from generator.rendering.plan import plan
from testsupport.core_models import model
from testsupport.helpers import ROOT, pins_of, renderer

PLATFORM = replace(loader.load(ROOT / "platform.yaml"), image_gate=ImageGate(enabled=True))
IMAGE = "registry.acme.example/models"


def placements(models, previous, pinned=()):
    catalog = {**previous.catalog(), **{index.spec_key(m): m for m in (*models, *pinned)}}
    pins = pins_of(PLATFORM, list(pinned)) if pinned else {}
    return environments.place(PLATFORM, models, {}, previous, pins, catalog)


NOTHING = index.Index()


def tree_of(models, pinned=(), previous=NOTHING, existing=None):
    """The tree a run renders, the gate answered by ``existing`` (None: every image)."""
    placed = placements(models, previous, pinned)
    asked = image_gate.questions(PLATFORM, placed, previous)
    gated = image_gate.gate(PLATFORM, placed, previous, asked if existing is None else existing)
    return plan(PLATFORM, models, renderer(), placements=gated)


def index_of(tree):
    return index.loads(tree[index.INDEX_PATH])


def by_env(placements_, env):
    [found] = [p for p in placements_.environments if p.environment.name == env]
    return found


OLD, NEW = model("churn", commit="a"), model("churn", commit="b")
OLD_IMAGE, NEW_IMAGE = f"{IMAGE}/churn:aaaaaaa", f"{IMAGE}/churn:bbbbbbb"


def test_a_new_model_is_asked_about_and_one_whose_image_ran_is_not():
    assert image_gate.questions(PLATFORM, placements([OLD], NOTHING), NOTHING) == {OLD_IMAGE}
    before = index_of(tree_of([OLD]))
    assert image_gate.questions(PLATFORM, placements([OLD], before), before) == set()
    assert image_gate.questions(PLATFORM, placements([NEW], before), before) == {NEW_IMAGE}


def test_a_new_commit_without_its_image_stays_at_the_image_it_ran_and_says_so():
    before = index_of(tree_of([OLD]))
    after = tree_of([NEW], previous=before, existing=set())
    entry = index_of(after).models["churn"]
    staging = entry.environments["staging"]
    assert (staging.image, staging.state) == (OLD_IMAGE, STATE_WAITING)
    assert staging.model.provenance.commit == "a" * 40
    assert entry.model.provenance.commit == "b" * 40  # the source is at the new commit
    assert entry.waiting == {"staging": (NEW_IMAGE,)}
    assert (
        f'image: "{OLD_IMAGE}"'.encode()
        in after["staging/kubernetes/models-rnd/churn/deployment.yaml"]
    )
    assert b"aaaaaaa" not in after["jenkins/churn.yaml"]  # the build job builds the new commit


def test_once_the_image_exists_the_next_render_moves_the_model():
    waiting = index_of(tree_of([NEW], previous=index_of(tree_of([OLD])), existing=set()))
    assert image_gate.questions(PLATFORM, placements([NEW], waiting), waiting) == {NEW_IMAGE}
    moved = index_of(tree_of([NEW], previous=waiting, existing={NEW_IMAGE}))
    staging = moved.models["churn"].environments["staging"]
    assert (staging.image, staging.state) == (NEW_IMAGE, STATE_DEPLOYED)
    assert moved.models["churn"].waiting == {}


def test_a_new_model_without_its_image_is_not_deployed_but_recorded_as_waiting():
    tree = tree_of([OLD], existing=set())
    entry = index_of(tree).models["churn"]
    assert entry.environments == {}
    assert entry.waiting == {"staging": (OLD_IMAGE,)}
    assert entry.files == ("jenkins/churn.yaml",)  # its build job, which pushes the image
    assert not [path for path in tree if "/churn/" in path]


def test_a_promoted_environment_keeps_the_state_and_promotion_it_ran_while_a_pin_waits():
    before = index_of(tree_of([OLD], pinned=[OLD]))
    promoted_before = before.models["churn"].environments["production"]
    placed = placements([NEW], before, pinned=[NEW])
    assert image_gate.questions(PLATFORM, placed, before) == {NEW_IMAGE}
    gated = image_gate.gate(PLATFORM, placed, before, existing=set())
    production = by_env(gated, "production")
    assert production.placed["churn"].model == OLD
    assert production.placed["churn"].promotion == promoted_before.promotion
    assert production.placed["churn"].state.state == STATE_WAITING
    assert production.waiting == {"churn": (NEW_IMAGE,)}


def test_nothing_is_removed_by_the_gate():
    others = [model("fraud", team="fraud", commit="c"), OLD]
    before = index_of(tree_of(others))
    moved = [model("fraud", team="fraud", commit="d"), NEW]
    gated = image_gate.gate(PLATFORM, placements(moved, before), before, existing=set())
    assert sorted(by_env(gated, "staging").placed) == ["churn", "fraud"]
    assert gated.refusals == ()


def test_a_platform_may_turn_the_gate_off():
    off = replace(PLATFORM, image_gate=ImageGate(enabled=False))
    placed = environments.place(off, [OLD], {}, index.Index(), {}, {})
    assert image_gate.questions(off, placed, index.Index()) == set()
    assert image_gate.gate(off, placed, index.Index(), existing=set()) is placed
