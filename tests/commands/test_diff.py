"""modelship diff: against the rendered repository's HEAD, in text, markdown and JSON."""

import json

import pytest

from generator.errors import ExitCode
from generator.present.pr_markdown import LIMIT
from testsupport.gitfixtures import bare_remote, clean_env, edit, platform_repo, publish
from testsupport.helpers import mlproject, modelship


@pytest.fixture
def published(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "remote.git"))
    assert publish(folder).returncode == ExitCode.OK
    return folder


def diff(folder, *args):
    return modelship("diff", *args, cwd=folder, env=clean_env())


def test_diff_compares_with_head_not_the_working_tree(published):
    deployment = next((published / "rendered").rglob("size-advice/deployment.yaml"))
    deployment.write_text("edited by hand\n")
    result = diff(published)
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stdout == "0 added, 0 changed, 0 removed, 0 kept-on-error, 6 unchanged models\n"
    assert modelship("render", "--check", cwd=published).returncode == ExitCode.FINDINGS


def test_text_lists_the_changed_model_then_the_unified_diff(published):
    edit(published, "size-advice-model", "slo: 80000", "slo: 90000")
    result = diff(published)
    assert result.returncode == ExitCode.OK
    lines = result.stdout.splitlines()
    assert lines[0] == "0 added, 1 changed, 0 removed, 0 kept-on-error, 5 unchanged models"
    assert lines[1].split()[:2] == ["changed", "size-advice"]
    assert lines[1].split()[-1] == "rnd"
    # staging follows the new commit; production stays at the one promoted, now behind
    new = lines[1].split()[2].split("@")[1]
    old = lines[3].split()[1]
    assert old != new
    assert lines[2] == f"      production {old} (staging is at {new})"
    # and what changed there, before the raw file diffs
    assert lines[3] == f"      staging {old} → {new}: slo 80000→90000, image tag {old}→{new}"
    assert "--- a/index.json\n+++ b/index.json\n" in result.stdout
    assert '-          "slo": 80000,\n+          "slo": 90000,\n' in result.stdout
    assert "+++ b/staging/kubernetes/models-rnd/size-advice/deployment.yaml" in result.stdout
    assert "b/production/kubernetes/models-rnd/size-advice" not in result.stdout


def test_markdown_is_a_review_comment(published):
    edit(published, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(published, "fraud-score-model", "slo: 20000", "slo: fast")
    (published / "examples/repos/churn-model").mkdir()
    (published / "examples/repos/churn-model/MLproject").write_text(mlproject())
    result = diff(published, "--format", "markdown")
    assert result.returncode == ExitCode.FINDINGS  # fraud-score has an error
    text = result.stdout
    lines = text.splitlines()
    assert lines[0] == (
        "### Modelship acme-ml: 1 added, 1 changed, 0 removed, 1 kept-on-error, 4 unchanged models"
    )
    assert "| change | model | source | team | environments |" in lines
    rows = [line for line in lines if line.startswith("| ") and "`" in line]
    assert [row.split("|")[1].strip() for row in rows] == ["added", "kept-on-error", "changed"]
    assert "| added | `churn` | `acme/churn-model@" in text
    assert "| kept-on-error | `fraud-score` | `acme/fraud-score-model@" in text
    assert "<summary><code>size-advice</code> changed, 4 files</summary>" in text
    assert "| rnd | production 0190304 \\(staging is at " in text
    assert "<summary><code>fraud-score</code> kept-on-error, 1 error, 0 files</summary>" in text
    assert "MLproject:10:6: slo: must be an integer number of microseconds" in text
    assert "```diff\n--- a/staging/kubernetes/models-rnd/size-advice/deployment.yaml" in text
    assert "production/kubernetes/models-rnd/size-advice" not in text
    assert "index.json" not in text, "the index is noise in a review"
    assert len(text.encode()) <= LIMIT


def test_json_for_tools(published):
    edit(published, "size-advice-model", "slo: 80000", "slo: 90000")
    document = json.loads(diff(published, "--format", "json").stdout)
    assert document["summary"] == {
        "added": 0,
        "changed": 1,
        "removed": 0,
        "kept-on-error": 0,
        "unchanged": 5,
        "rejected": 0,
    }
    [model] = document["models"]
    assert (model["id"], model["change"], model["team"]) == ("size-advice", "changed", "rnd")
    assert model["repo"] == "acme/size-advice-model"
    assert len(model["commit"]) == 40
    assert {f["change"] for f in model["files"]} == {"modified"}
    production, staging = model["environments"]
    assert (production["environment"], production["changed"], production["behind"]) == (
        "production",
        False,
        True,
    )
    assert production["promoted_from"] == "staging"
    assert production["after"]["commit"] == staging["before"]["commit"]
    assert (staging["changed"], staging["behind"]) == (True, False)
    assert staging["after"]["commit"] == model["commit"]
    assert [f["path"] for f in document["shared_files"]] == ["index.json", "staging/consul/kv.json"]


def test_a_diff_too_big_for_github_is_cut_per_model_and_written_in_full(tmp_path):
    repos = {
        f"m{number:02}-model": mlproject(
            name=f"m{number:02}-model",
            id=f"m{number:02}",
            packages=[f"package-{n}" for n in range(20)],
        )
        for number in range(40)
    }
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "r.git"), repos)
    result = diff(folder, "--format", "markdown", "--full-diff", "review/full.diff")
    assert result.returncode == ExitCode.OK, result.stderr
    text = result.stdout
    assert len(text.encode()) <= LIMIT
    for number in range(40):
        # staging only (production runs what is promoted), with one replica: no budget
        assert f"<summary><code>m{number:02}</code> added, 8 files</summary>" in text
    assert text.count("_Cut to fit GitHub's size limit:") == 41  # 40 models, the shared files
    assert "The full diff is in `review/full.diff`." in text
    dry_run = modelship("render", "--dry-run", cwd=folder)
    assert (folder / "review/full.diff").read_text() == dry_run.stdout
    assert "the full diff is in review/full.diff" in result.stderr
    # Unasked, the read-only diff writes nothing, and the comment says where the rest is.
    unasked = diff(folder, "--format", "markdown")
    assert unasked.returncode == ExitCode.OK, unasked.stderr
    assert "`modelship diff` prints the full diff._" in unasked.stdout
    assert not (folder / "modelship.diff").exists()
    assert "full diff is in" not in unasked.stderr
