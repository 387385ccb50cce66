"""Scans and indexes for the decision tests: snapshots of repositories of the example
platform, and the index a clean run over them leaves behind."""

from generator import evaluate, index
from generator.config import loader
from generator.rendering.plan import plan as plan_tree
from generator.sources.base import RepoSnapshot, Scan
from testsupport import helpers
from testsupport.helpers import ROOT, mlproject

PLATFORM = loader.load(ROOT / "platform.yaml")


def snapshot(name, text, sha="a", push_teams=None):
    return RepoSnapshot(
        full_name=f"acme/{name}-model",
        clone_url=f"https://github.com/acme/{name}-model.git",
        default_branch="main",
        head_sha=sha * 40,
        mlproject=text,
        push_teams=push_teams,
    )


def model(name, **overrides):
    return mlproject(name=f"{name}-model", id=name, **overrides)


def previous_of(*snapshots):
    """The index a clean run over ``snapshots`` leaves behind."""
    evaluation = evaluate.evaluate(PLATFORM, Scan(tuple(snapshots)), index.Index())
    tree = plan_tree(PLATFORM, evaluation.models, helpers.renderer())
    return index.loads(tree[index.INDEX_PATH])


FOUR = [snapshot(name, model(name)) for name in ("alpha", "beta", "gamma", "delta")]
