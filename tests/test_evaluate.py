"""evaluate: each snapshot's MLproject judged on its own, however it is parsed."""

import functools

from generator import evaluate, spread
from generator.index import Index
from generator.sources.base import RepoSnapshot, Scan
from testsupport.helpers import ROOT

VALID = (ROOT / "examples/repos/size-advice-model/MLproject").read_text()


def snapshot(mlproject: str) -> RepoSnapshot:
    return RepoSnapshot(
        full_name="churn-model",
        clone_url="",
        default_branch="main",
        head_sha="0" * 40,
        mlproject=mlproject,
    )


def test_two_snapshots_of_one_name_each_get_their_own_findings():
    # `validate models/churn-model "old models/churn-model"`: two folders, one name.
    broken = VALID.replace("slo: 80000", "slo: 0")
    assert broken != VALID
    scan = Scan(snapshots=(snapshot(VALID), snapshot(broken)))
    for parse_all in (evaluate.parse_each, functools.partial(spread.parse_mlprojects, least=2)):
        found = evaluate.evaluate(None, scan, Index(), parse_all=parse_all)
        assert [f.key for f in found.findings if f.is_error] == ["slo"]
        assert len(found.models) == 1
