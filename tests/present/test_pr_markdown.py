"""Change sets and how they read: the classification, the PR comment's size limit, commit messages."""

import re

from generator import changeset, evaluate, index, reconcile
from generator.changeset import ChangeSet, FileChange, ModelChange
from generator.config import loader
from generator.present import change_views, pr_markdown
from generator.rendering.plan import plan as plan_tree
from generator.sources.base import FetchFailure, RepoSnapshot, Scan
from testsupport import helpers
from testsupport.helpers import ROOT, mlproject

PLATFORM = loader.load(ROOT / "platform.yaml")


def tree(*snapshots, previous=None, failures=()):
    previous = previous or index.Index()
    evaluation = evaluate.evaluate(PLATFORM, Scan(tuple(snapshots), failures), previous)
    outcome = reconcile.reconcile(PLATFORM, evaluation, previous, allow_mass_delete=True)
    return plan_tree(PLATFORM, outcome.models, helpers.renderer(), outcome.states)


def snap(name, sha="a", **overrides):
    text = mlproject(name=f"{name}-model", id=name, **overrides)
    return RepoSnapshot(f"acme/{name}-model", "", "main", sha * 40, text)


def test_classify_tells_every_kind_of_change_apart():
    old = tree(snap("same"), snap("edited"), snap("gone"), snap("failing"))
    previous = index.loads(old[index.INDEX_PATH])
    new = tree(
        snap("same"),
        snap("edited", sha="b", slo=5000),
        snap("fresh"),
        previous=previous,
        failures=(FetchFailure("acme/failing-model", "HTTP 502"),),
    )
    changes = changeset.classify(old, new)
    kinds = {m.id: m.kind for m in changes.models}
    assert kinds == {
        "edited": "changed",
        "failing": "kept-on-error",
        "fresh": "added",
        "gone": "removed",
        "same": "unchanged",
    }
    by_id = {m.id: m for m in changes.models}
    assert by_id["edited"].source == "acme/edited-model@bbbbbbb"
    assert by_id["gone"].source == "acme/gone-model@aaaaaaa"
    assert by_id["failing"].errors == ("cannot read the repository: HTTP 502",)
    assert by_id["failing"].files == (), "kept files are rendered again, unchanged"
    assert by_id["same"].files == ()
    assert all(f.new is None for f in by_id["gone"].files)
    assert index.INDEX_PATH in [f.path for f in changes.shared]
    assert changes.summary() == "1 added, 1 changed, 1 removed, 1 kept-on-error, 1 unchanged"


def test_classify_of_identical_trees_is_empty():
    same = tree(snap("a1"), snap("b2"))
    changes = changeset.classify(same, dict(same))
    assert changes.empty
    assert changes.changed_models == ()


def model(model_id, lines, kind="changed", errors=()):
    body = "".join(f"line {n}\n" for n in range(lines)).encode()
    files = (FileChange(f"staging/{model_id}/deployment.yaml", None, body),) if lines else ()
    return ModelChange(model_id, kind, f"acme/{model_id}-model", "c" * 40, "rnd", files, errors)


def test_small_diffs_are_shown_whole():
    changes = ChangeSet((model("churn", 5),), ())
    comment = pr_markdown.markdown(changes)
    assert not comment.truncated
    assert "+line 4\n```\n</details>" in comment.text


def test_one_huge_model_is_cut_and_the_small_ones_stay_whole():
    changes = ChangeSet((model("big", 20000), model("small-a", 10), model("small-b", 10)), ())
    comment = pr_markdown.markdown(changes, full_diff_name="all.diff")
    assert comment.truncated
    assert len(comment.text.encode()) <= pr_markdown.LIMIT
    sections = comment.text.split("<details>")[1:]
    big, small_a, small_b = sections
    assert "_Cut to fit GitHub's size limit:" in big
    assert "The full diff is in `all.diff`." in big
    assert "+line 9\n" in small_a
    assert "Cut to fit" not in small_a + small_b
    assert len(big.encode()) > 50_000, "the big one gets the room the small ones leave"


def test_many_models_share_the_room_fairly():
    changes = ChangeSet(tuple(model(f"m{n:03}", 300 + n) for n in range(100)), ())
    comment = pr_markdown.markdown(changes)
    assert len(comment.text.encode()) <= pr_markdown.LIMIT
    shown = [int(s) for s in re.findall(r"size limit: (\d+) of", comment.text)]
    assert len(shown) == 100
    assert max(shown) - min(shown) <= 2
    assert pr_markdown.LIMIT - len(comment.text.encode()) < 2_000, "the room is used"


def test_thousands_of_models_cut_the_table_and_count_the_rest():
    changes = ChangeSet(tuple(model(f"model-{n:05}", 3, kind="added") for n in range(3000)), ())
    comment = pr_markdown.markdown(changes, full_diff_name="full.diff")
    text = comment.text
    assert len(text.encode()) <= pr_markdown.LIMIT
    assert re.search(r"\| … \| [\d,]+ more models \| \| \|", text)
    assert text.splitlines()[0].endswith(
        "3000 added, 0 changed, 0 removed, 0 kept-on-error, 0 unchanged models"
    )
    assert "the full diff is in `full.diff`" in text


def test_a_limit_smaller_than_the_summaries_lists_what_fits():
    changes = ChangeSet(tuple(model(f"m{n}", 50) for n in range(50)), ())
    comment = pr_markdown.markdown(changes, limit=6_000)
    assert len(comment.text.encode()) <= 6_000
    assert "more models; see the full diff." in comment.text


def test_backticks_in_a_file_cannot_close_the_fence():
    content = b"description: use ```rm -rf /``` carefully\n"
    files = (FileChange("staging/x/deployment.yaml", None, content),)
    changes = ChangeSet((ModelChange("x1", "added", "acme/x", "d" * 40, "rnd", files),), ())
    text = pr_markdown.markdown(changes).text
    assert "````diff\n" in text
    assert "\n````\n</details>" in text


def test_free_text_in_notes_and_errors_is_inert():
    hostile = "<img src=x onerror=alert(1)> **bold** [link](http://evil) @org/team"
    changes = ChangeSet((model("x1", 0, kind="kept-on-error", errors=(hostile,)),), ())
    text = pr_markdown.markdown(changes, notes=[hostile]).text
    assert not re.search(r"(?<!\\)<img", text.replace(f"```text\n{hostile}\n```", ""))
    assert f"```text\n{hostile}\n```" in text, "errors are shown verbatim in a code block"
    assert "> \\<img src\\=x onerror\\=alert\\(1\\)\\> \\*\\*bold\\*\\*" in text


def test_commit_message_names_every_changed_model_with_its_full_source():
    changes = ChangeSet(
        (
            model("new-one", 1, kind="added"),
            model("old-one", 1, kind="removed"),
            model("stuck", 0, kind="kept-on-error", errors=("MLproject:1:1: id: bad",)),
            model("quiet", 0, kind="unchanged"),
        ),
        (FileChange("index.json", b"{}", b"{ }"),),
    )
    message = change_views.commit_message("acme-ml", changes)
    assert message.splitlines() == [
        "modelship: render acme-ml (1 added, 0 changed, 1 removed, 1 kept-on-error, 1 unchanged)",
        "",
        f"add new-one from acme/new-one-model@{'c' * 40}",
        f"remove old-one from acme/old-one-model@{'c' * 40}",
        f"keep stuck from acme/stuck-model@{'c' * 40} (its repository failed; the last good "
        "version stays)",
        "  error: MLproject:1:1: id: bad",
        "",
        "shared files:",
        "  index.json",
    ]


def test_a_removed_model_lists_its_files_instead_of_their_content():
    files = tuple(
        FileChange(f"{env}/kubernetes/models-rnd/gone/deployment.yaml", b"x: 1\n" * 100, None)
        for env in ("production", "staging")
    )
    changes = ChangeSet((ModelChange("gone", "removed", "acme/gone", "e" * 40, "rnd", files),), ())
    text = pr_markdown.markdown(changes).text
    assert "<summary><code>gone</code> removed, 2 files</summary>" in text
    assert (
        "```text\ndeleted production/kubernetes/models-rnd/gone/deployment.yaml\n"
        "deleted staging/kubernetes/models-rnd/gone/deployment.yaml\n```" in text
    )
    assert "-x: 1" not in text
