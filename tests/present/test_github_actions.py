"""GitHub Actions mode, driven with the variables, files and event payloads a runner provides."""

import json
import os
import re
import shutil

import pytest

from generator.errors import ExitCode, ExternalError, UsageError
from generator.findings import Finding, Severity
from generator.present import github_actions
from testsupport.github_runner import (
    HEAD_SHA,
    pull_request_payload,
    push_payload,
    read_outputs,
    repository_dispatch_payload,
    runner,
    schedule_payload,
)
from testsupport.helpers import ROOT, mlproject, modelship

SLO_MESSAGE = (
    'slo: must be an integer number of microseconds between 1000 and 10000000 (got "fast")'
)
NAME_MESSAGE = "name: is normally the repository name ('churn-model'), got 'churn-model-v2'"


def broken_model_repo(tmp_path, event_name, payload):
    step = runner(tmp_path, "acme/churn-model", event_name, payload)
    (step.workspace / "MLproject").write_text(mlproject(name="churn-model-v2", slo="fast"))
    return step


# --- modelship validate --------------------------------------------------------------


def test_validate_on_a_pull_request_annotates_the_offending_lines(tmp_path):
    step = broken_model_repo(tmp_path, "pull_request", pull_request_payload("acme/churn-model"))
    result = modelship("validate", cwd=step.workspace, env=step.env)
    assert result.returncode == ExitCode.FINDINGS
    assert result.stdout.splitlines() == [
        "::warning file=MLproject,line=1,col=7,title=Modelship (mlproject/name-mismatch)"
        f"::MLproject:1:7: warning: {NAME_MESSAGE}",
        "::error file=MLproject,line=8,col=6,title=Modelship (mlproject/type)"
        f"::MLproject:8:6: {SLO_MESSAGE}",
        "1 error, 1 warning in 1 file",
    ]
    assert result.stderr == ""


def test_validate_on_a_pull_request_writes_the_step_summary_and_outputs(tmp_path):
    step = broken_model_repo(tmp_path, "pull_request", pull_request_payload("acme/churn-model"))
    modelship("validate", cwd=step.workspace, env=step.env)
    assert step.summary_text() == (
        "## Modelship validate\n"
        "\n"
        "*pull request \\#42 of acme\\/churn\\-model at 9f3c2a1*\n"
        "\n"
        "**Failed:** 1 error, 1 warning in 1 file\n"
        "\n"
        "| Severity | Location | Key | Message |\n"
        "| --- | --- | --- | --- |\n"
        "| warning | `MLproject:1:7` | `name` | is normally the repository name "
        "\\(\\'churn\\-model\\'\\)\\, got \\'churn\\-model\\-v2\\' |\n"
        "| error | `MLproject:8:6` | `slo` | must be an integer number of microseconds "
        'between 1000 and 10000000 \\(got \\"fast\\"\\) |\n'
        "\n"
    )
    assert step.output_text() == "errors=1\nwarnings=1\n"


def test_validate_on_a_push_of_a_valid_mlproject(tmp_path):
    step = runner(tmp_path, "acme/churn-model", "push", push_payload("acme/churn-model"))
    (step.workspace / "MLproject").write_text(mlproject())
    result = modelship("validate", "--strict", cwd=step.workspace, env=step.env)
    assert result.returncode == ExitCode.OK
    assert result.stdout == "0 errors, 0 warnings in 1 file\n"
    assert step.summary_text() == (
        "## Modelship validate\n"
        "\n"
        "*push to main of acme\\/churn\\-model at 9f3c2a1*\n"
        "\n"
        "**Passed:** 0 errors, 0 warnings in 1 file\n"
        "\n"
    )
    assert step.output_text() == "errors=0\nwarnings=0\n"


def test_annotation_paths_are_relative_to_the_workspace_whatever_the_working_folder(tmp_path):
    step = runner(tmp_path, "acme/models", "push", push_payload("acme/models"))
    model = step.workspace / "models" / "churn-model"
    model.mkdir(parents=True)
    (model / "MLproject").write_text(mlproject(slo="fast"))
    expected = (
        "::error file=models/churn-model/MLproject,line=8,col=6,title=Modelship (mlproject/type)::"
    )
    # as `working-directory: models/churn-model` would run it
    inside = modelship("validate", cwd=model, env=step.env)
    assert inside.stdout.splitlines()[0] == f"{expected}MLproject:8:6: {SLO_MESSAGE}"
    # from the workspace root, and with an absolute path
    for argument, shown in (
        ("models/churn-model", "models/churn-model/MLproject"),
        (str(model / "MLproject"), str(model / "MLproject")),
    ):
        result = modelship("validate", argument, cwd=step.workspace, env=step.env)
        assert result.stdout.splitlines()[0] == f"{expected}{shown}:8:6: {SLO_MESSAGE}"


def test_a_file_outside_the_workspace_is_annotated_on_the_run_not_on_a_file(tmp_path):
    step = runner(tmp_path, "acme/churn-model", "push", push_payload("acme/churn-model"))
    outside = tmp_path / "elsewhere" / "churn-model"
    outside.mkdir(parents=True)
    (outside / "MLproject").write_text(mlproject(slo="fast"))
    result = modelship("validate", str(outside), cwd=step.workspace, env=step.env)
    assert result.stdout.splitlines()[0] == (
        f"::error title=Modelship (mlproject/type)::{outside}/MLproject:8:6: {SLO_MESSAGE}"
    )


def test_annotations_escape_what_github_would_read_as_command_syntax(tmp_path):
    step = runner(tmp_path, "acme/models", "push", push_payload("acme/models"))
    folder = step.workspace / "a,b:c%d"
    folder.mkdir()
    (folder / "MLproject").write_text(mlproject(slo="1,5:10%"))
    result = modelship("validate", "a,b:c%d", cwd=step.workspace, env=step.env)
    assert result.stdout.splitlines()[1] == (
        "::error file=a%2Cb%3Ac%25d/MLproject,line=8,col=6,title=Modelship (mlproject/type)"
        "::a,b:c%25d/MLproject:8:6: slo: must be an integer number of microseconds "
        'between 1000 and 10000000 (got "1,5:10%25")'
    )


def test_validate_json_keeps_stdout_json_and_annotates_on_stderr(tmp_path):
    step = broken_model_repo(tmp_path, "pull_request", pull_request_payload("acme/churn-model"))
    result = modelship("validate", "--format", "json", cwd=step.workspace, env=step.env)
    document = json.loads(result.stdout)
    assert (document["errors"], document["warnings"]) == (1, 1)
    assert result.stderr.splitlines()[1] == (
        "::error file=MLproject,line=8,col=6,title=Modelship (mlproject/type)"
        f"::MLproject:8:6: {SLO_MESSAGE}"
    )
    assert step.output_text() == "errors=1\nwarnings=1\n"


def test_the_summary_is_appended_after_what_earlier_commands_of_the_step_wrote(tmp_path):
    step = runner(tmp_path, "acme/churn-model", "push", push_payload("acme/churn-model"))
    (step.workspace / "MLproject").write_text(mlproject())
    step.summary.write_text("# Model checks\n\n")
    step.output.write_text("python-version=3.12\n")
    for _ in range(2):
        modelship("validate", cwd=step.workspace, env=step.env)
    summary = step.summary_text()
    assert summary.startswith("# Model checks\n\n## Modelship validate\n")
    assert summary.count("## Modelship validate\n") == 2
    assert step.output_text() == "python-version=3.12\n" + "errors=0\nwarnings=0\n" * 2


@pytest.mark.parametrize("flag", [None, "false", ""])
def test_nothing_of_actions_mode_without_github_actions_true(tmp_path, flag):
    step = broken_model_repo(tmp_path, "pull_request", pull_request_payload("acme/churn-model"))
    env = dict(step.env)
    if flag is None:
        del env["GITHUB_ACTIONS"]
    else:
        env["GITHUB_ACTIONS"] = flag
    result = modelship("validate", cwd=step.workspace, env=env)
    assert result.returncode == ExitCode.FINDINGS
    assert result.stdout.splitlines() == [
        f"MLproject:1:7: warning: {NAME_MESSAGE}",
        f"MLproject:8:6: {SLO_MESSAGE}",
        "1 error, 1 warning in 1 file",
    ]
    assert "::" not in result.stdout + result.stderr
    assert step.summary_text() == ""
    assert step.output_text() == ""


def test_an_unreadable_event_payload_is_a_clear_error(tmp_path):
    step = runner(tmp_path, "acme/churn-model", "push", push_payload("acme/churn-model"))
    (step.workspace / "MLproject").write_text(mlproject())
    step.event.write_text("{not json")
    result = modelship("validate", cwd=step.workspace, env=step.env)
    assert result.returncode == ExitCode.EXTERNAL
    assert result.stderr.startswith(
        f"modelship: error: {step.event}: the GitHub event payload is not JSON:"
    )
    assert "Traceback" not in result.stderr


# --- modelship render ----------------------------------------------------------------


@pytest.fixture
def platform_workspace(tmp_path):
    """The example platform repository checked out in a runner's workspace."""
    step = runner(tmp_path, "acme/modelship", "push", push_payload("acme/modelship"))
    for name in ("platform.yaml", "examples", "promotions", "rendered"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, step.workspace / name)
        else:
            shutil.copy(source, step.workspace / name)
    return step


def test_render_outputs_and_summary_list_the_changed_files(platform_workspace):
    step = platform_workspace
    path = step.workspace / "examples/repos/size-advice-model/MLproject"
    path.write_text(path.read_text() + "instances: 3\n")
    result = modelship("render", cwd=step.workspace, env=step.env)
    assert result.returncode == ExitCode.OK, result.stderr
    # A plain folder's commit is a hash of its files: every file naming the commit changes,
    # in staging (production runs what was promoted; staging runs one instance of each).
    changed = [
        "index.json",
        "jenkins/size-advice.yaml",
        "staging/consul/kv.json",
        "staging/gateway/routes/size-advice.conf",
        "staging/kubernetes/models-rnd/size-advice/deployment.yaml",
    ]
    assert step.output_text() == (
        "models=6\nfiles-added=0\nfiles-changed=5\nfiles-removed=0\n"
        "changed=true\nerrors=0\nwarnings=0\n"
    )
    assert result.stderr == "rendered 6 models into rendered: 0 added, 5 changed, 0 removed\n"
    summary = step.summary_text()
    assert summary.startswith(
        "## Modelship render\n\n*push to main of acme\\/modelship at 9f3c2a1*\n\n"
        "rendered 6 models into rendered\\: 0 added\\, 5 changed\\, 0 removed\n\n"
        "| File | Change |\n| --- | --- |\n"
    )
    assert [line for line in summary.splitlines() if line.endswith(" | changed |")] == [
        f"| `{path}` | changed |" for path in changed
    ]
    check = modelship("render", "--check", cwd=step.workspace, env=step.env)
    assert check.returncode == ExitCode.OK
    assert step.output_text().endswith(
        "models=6\nfiles-added=0\nfiles-changed=0\nfiles-removed=0\n"
        "changed=false\nerrors=0\nwarnings=0\n"
    )


def test_render_annotates_a_broken_repository_in_the_workspace(platform_workspace):
    step = platform_workspace
    path = step.workspace / "examples/repos/size-advice-model/MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: fast"))
    result = modelship("render", "--dry-run", cwd=step.workspace, env=step.env)
    assert result.returncode == ExitCode.FINDINGS
    assert result.stderr.splitlines()[0] == (
        "::error file=examples/repos/size-advice-model/MLproject,line=10,col=6,"
        "title=Modelship (mlproject/type)::examples/repos/size-advice-model/MLproject:10:6: "
        f"{SLO_MESSAGE}"
    )
    assert "errors=1\nwarnings=0\n" in step.output_text()
    assert "**Failed:** 1 error, 0 warnings in 6 repositories" in step.summary_text()


def test_the_dry_run_diff_cannot_issue_workflow_commands(platform_workspace):
    step = platform_workspace
    path = step.workspace / "examples/repos/size-advice-model/MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    plain_env = {k: v for k, v in step.env.items() if k != "GITHUB_ACTIONS"}
    plain = modelship("render", "--dry-run", cwd=step.workspace, env=plain_env).stdout
    result = modelship("render", "--dry-run", cwd=step.workspace, env=step.env)
    assert result.returncode == ExitCode.OK
    first, *diff, last = result.stdout.splitlines(keepends=True)
    token = first.removeprefix("::stop-commands::").strip()
    assert re.fullmatch(r"modelship-[0-9a-f]{64}", token)
    assert last == f"::{token}::\n"
    assert "".join(diff) == plain
    assert "+++ b/staging/kubernetes/models-rnd/size-advice/deployment.yaml\n" in plain


# --- the pieces ----------------------------------------------------------------------


def test_escaping_follows_actions_toolkit():
    assert github_actions.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github_actions.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert github_actions.workflow_command("warning", "m", {}) == "::warning::m"
    assert (
        github_actions.workflow_command("error", "line1\nline2", {"file": "x,y", "line": 3})
        == "::error file=x%2Cy,line=3::line1%0Aline2"
    )


def test_a_multiline_message_stays_one_workflow_command():
    finding = Finding("MLproject", 2, 3, "description", "one\ntwo", "mlproject/x")
    assert github_actions.annotation(finding, "MLproject") == (
        "::error file=MLproject,line=2,col=3,title=Modelship (mlproject/x)"
        "::MLproject:2:3: description: one\\u000atwo"
    )
    warning = Finding("MLproject", 1, 1, "", "w", "r", Severity.WARNING)
    assert (
        github_actions.annotation(warning, None)
        == "::warning title=Modelship (r)::MLproject:1:1: warning: w"
    )


def test_outputs_use_the_delimiter_syntax_for_multiline_values(tmp_path):
    hostile = "a\nb=1\nghadelimiter_x\nc<<EOF"
    entries = "".join(
        github_actions.output_entry(name, value)
        for name, value in (
            ("commit", HEAD_SHA),
            ("changed-models", ["churn", "fraud-score"]),
            ("changed", True),
            ("count", 3),
            ("body", hostile),
            ("empty", []),
        )
    )
    assert entries.startswith(
        f'commit={HEAD_SHA}\nchanged-models=["churn", "fraud-score"]\nchanged=true\ncount=3\n'
        "body<<ghadelimiter_"
    )
    output = tmp_path / "set_output"
    output.write_text(entries)
    assert read_outputs(output) == {
        "commit": HEAD_SHA,
        "changed-models": '["churn", "fraud-score"]',
        "changed": "true",
        "count": "3",
        "body": hostile,
        "empty": "[]",
    }
    assert github_actions.output_entry("body", hostile) == github_actions.output_entry(
        "body", hostile
    )


def test_output_names_are_checked():
    with pytest.raises(ValueError, match="not a step output name"):
        github_actions.output_entry("bad name", 1)


def test_the_summary_stays_within_githubs_limit(tmp_path):
    summary = tmp_path / "summary"
    github = github_actions.Actions(tmp_path, summary, None, "push", None)
    github.append_summary("| row |\n" * 200_000)
    written = summary.read_bytes()
    assert len(written) <= github_actions.SUMMARY_LIMIT
    assert written.endswith(b"GitHub keeps at most 1 MiB per step. The step log has everything.*\n")
    assert written.startswith(b"| row |\n")


def step_env(tmp_path, event_name, payload):
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_WORKSPACE": str(tmp_path),
    }


def test_a_model_changed_dispatch_names_the_model_repository(tmp_path):
    payload = repository_dispatch_payload(
        "acme/modelship", "model-changed", {"repository": "acme/churn-model", "sha": HEAD_SHA}
    )
    event = github_actions.Actions.from_environ(
        step_env(tmp_path, "repository_dispatch", payload)
    ).event()
    assert event.changed_model_repository() == "acme/churn-model"
    assert event.repository == "acme/modelship"
    assert event.describe() == "model-changed dispatch to acme/modelship from acme/churn-model"


@pytest.mark.parametrize("sent", [None, 42, "churn-model", "acme/churn model", "../x/y"])
def test_a_model_changed_dispatch_without_a_repository_full_name_is_refused(tmp_path, sent):
    payload = repository_dispatch_payload("acme/modelship", "model-changed", {"repository": sent})
    event = github_actions.Actions.from_environ(
        step_env(tmp_path, "repository_dispatch", payload)
    ).event()
    with pytest.raises(UsageError, match=r"client_payload\.repository: a model-changed dispatch"):
        event.changed_model_repository()


@pytest.mark.parametrize(
    ("event_name", "payload", "described"),
    [
        ("push", push_payload("acme/modelship"), "push to main of acme/modelship at 9f3c2a1"),
        (
            "pull_request",
            pull_request_payload("acme/modelship", 7),
            "pull request #7 of acme/modelship at 9f3c2a1",
        ),
        ("schedule", schedule_payload(), "schedule of this repository"),
        (
            "repository_dispatch",
            repository_dispatch_payload("acme/modelship", "rebuild", {}),
            "rebuild dispatch to acme/modelship",
        ),
    ],
)
def test_other_events_are_no_model_changed_dispatch(tmp_path, event_name, payload, described):
    event = github_actions.Actions.from_environ(step_env(tmp_path, event_name, payload)).event()
    assert event.name == event_name
    assert event.changed_model_repository() is None
    assert event.describe() == described


def test_event_payload_errors_name_the_file(tmp_path):
    env = step_env(tmp_path, "push", {})
    (tmp_path / "event.json").write_text("[1, 2]")
    with pytest.raises(ExternalError, match=r"event\.json: the GitHub event payload is not a JSON"):
        github_actions.Actions.from_environ(env).event()
    os.remove(tmp_path / "event.json")
    with pytest.raises(ExternalError, match="cannot read the GitHub event payload"):
        github_actions.Actions.from_environ(env).event()


def test_actions_mode_is_off_unless_github_actions_is_true(tmp_path):
    env = step_env(tmp_path, "push", {})
    assert github_actions.Actions.from_environ(env) is not None
    assert github_actions.Actions.from_environ({**env, "GITHUB_ACTIONS": "false"}) is None
    assert github_actions.Actions.from_environ({}) is None


def test_inert_text_is_wrapped_in_stop_commands(tmp_path):
    github = github_actions.Actions(tmp_path, None, None, "pull_request", None)
    hostile = "+  description: x\n ::error::not from modelship\n"
    wrapped = github.inert(hostile)
    token = wrapped.splitlines()[0].removeprefix("::stop-commands::")
    assert re.fullmatch(r"modelship-[0-9a-f]{64}", token)
    assert wrapped == f"::stop-commands::{token}\n{hostile}::{token}::\n"
    assert github.inert(hostile) == wrapped
    first, text, last = github.inert("no newline").splitlines()
    assert (text, last) == ("no newline", f"::{first.removeprefix('::stop-commands::')}::")
    assert github.inert("") == ""
