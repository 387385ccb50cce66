"""Models held back by errors, as the people who must act read them: a rejected new model
(never deployed) and a model kept on error appear with their errors in `list` (table and
JSON), `diff` (text, markdown, JSON), the step summary and the publish commit; and a changed
model says in one line per environment what changed, before the raw file diffs."""

import shutil

import pytest

from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, edit, git, platform_repo
from testsupport.inprocess import modelship
from testsupport.output_schemas import valid_output

SLOW = 'MLproject:10:6: slo: must be an integer number of microseconds between 1000 and 10000000 (got "slow")'
MANY = 'MLproject:12:12: instances: must be an integer between 1 and 50 (got "many")'


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    """The example platform published, then: a new repository whose model has an error
    (rejected), fraud-score broken (kept on error), size-advice's SLO changed."""
    tmp = tmp_path_factory.mktemp("held")
    folder = platform_repo(tmp / "platform", bare_remote(tmp / "origin.git"))
    assert modelship("publish", "--push", cwd=folder).returncode == ExitCode.OK
    repos = folder / "examples" / "repos"
    shutil.copytree(repos / "size-advice-model", repos / "churn-model")
    project = repos / "churn-model" / "MLproject"
    text = project.read_text().replace("size-advice", "churn").replace("80000", "slow")
    project.write_text(text)
    edit(folder, "fraud-score-model", "instances: 4", "instances: many")
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    return folder


def test_diff_json_names_the_rejected_model_and_what_changed_per_environment(held):
    result = modelship("diff", "--format", "json", cwd=held)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    document = valid_output("diff", result.stdout)
    assert document["summary"]["rejected"] == 1
    models = {model["id"]: model for model in document["models"]}
    rejected = models["acme/churn-model"]
    assert (rejected["change"], rejected["repo"], rejected["errors"]) == (
        "rejected",
        "acme/churn-model",
        [SLOW],
    )
    assert (rejected["files"], rejected["environments"]) == ([], [])
    assert models["fraud-score"]["change"] == "kept-on-error"
    assert models["fraud-score"]["errors"][0] == MANY
    places = {e["environment"]: e for e in models["size-advice"]["environments"]}
    assert places["staging"]["what_changed"][0] == "slo 80000→90000"
    assert places["staging"]["what_changed"][1].startswith("image tag ")
    assert places["production"]["what_changed"] == [], "production runs its pin still"


def test_diff_text_and_markdown_say_it_before_the_file_diffs(held):
    text = modelship("diff", cwd=held).stdout
    summary, _, _ = text.partition("\n--- a/")
    assert summary.splitlines()[0].endswith(" 4 unchanged, 1 rejected models")
    assert "  rejected       acme/churn-model" in summary
    assert f"      {SLOW}" in summary
    [staging] = [line for line in summary.splitlines() if "slo" in line and "→" in line]
    assert staging.startswith("      staging 0190304 → ")
    assert ": slo 80000→90000, image tag 0190304→" in staging

    markdown = modelship("diff", "--format", "markdown", cwd=held).stdout
    table, _, sections = markdown.partition("<details>")
    assert "| rejected | `acme/churn-model` | `acme/churn-model@" in table
    assert "staging 0190304 → " in table
    assert "\\: slo 80000→90000\\, image tag 0190304→" in table  # Markdown-escaped
    rejected = sections[sections.index("<code>acme/churn-model</code>") :]
    rejected = rejected[: rejected.index("</details>")]
    assert "rejected, 1 error, 0 files" in rejected
    assert "is deployed nowhere" in rejected
    assert SLOW in rejected


def test_publish_tells_them_in_the_commit_and_the_step_summary_and_list_shows_them(held, tmp_path):
    summary = tmp_path / "summary.md"
    summary.touch()
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    published = modelship("publish", "--push", cwd=held, env=actions)
    assert published.returncode == ExitCode.FINDINGS, published.stderr
    assert "rejected: the model of acme/churn-model is deployed nowhere" in published.stderr
    message = git(held, "log", "-1", "--format=%B")
    lines = message.splitlines()
    assert lines[0].endswith(" 4 unchanged, 1 rejected)")
    at = lines.index(next(line for line in lines if line.startswith("reject acme/churn-model@")))
    assert lines[at + 1] == f"  error: {SLOW}"
    at = lines.index(next(line for line in lines if line.startswith("keep fraud-score from")))
    assert f"  error: {MANY}" in lines[at + 1 : at + 4]
    assert any(line.startswith("  staging ") and ": slo 80000→90000" in line for line in lines)
    step = summary.read_text()
    assert "| rejected | `acme/churn-model` |" in step
    assert "| error | `examples/repos/churn-model/MLproject:10:6` | `slo` | must be an" in step

    listed = modelship("list", cwd=held)
    assert listed.returncode == ExitCode.OK, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("acme/churn-model ")]
    cells = row.split()
    assert (cells[1:3], cells[4:6]) == (["-", "-"], ["rejected", "0"])
    assert len(cells[3]) == 7  # the commit read
    errors = listed.stdout.split("\nerrors:\n", 1)[1].splitlines()
    assert f"  fraud-score (kept-on-error): {MANY}" in errors
    assert f"  acme/churn-model (rejected): {SLOW}" in errors

    document = valid_output("list", modelship("list", "--format", "json", cwd=held).stdout)
    [rejected] = document["rejected"]
    assert (rejected["repo"], rejected["state"], rejected["errors"]) == (
        "acme/churn-model",
        "rejected",
        [SLOW],
    )
    fraud = next(model for model in document["models"] if model["id"] == "fraud-score")
    assert (fraud["state"], fraud["errors"]) == ("kept-on-error", [MANY])

    # Fixed: the model is added, and no longer rejected.
    project = held / "examples" / "repos" / "churn-model" / "MLproject"
    project.write_text(project.read_text().replace("slow", "80000"))
    fixed = modelship("publish", "--push", cwd=held)
    assert "add churn from acme/churn-model@" in git(held, "log", "-1", "--format=%B")
    assert fixed.returncode == ExitCode.FINDINGS  # fraud-score is still kept on error
    again = valid_output("list", modelship("list", "--format", "json", cwd=held).stdout)
    assert again["rejected"] == []
