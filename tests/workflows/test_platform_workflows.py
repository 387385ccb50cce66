"""The platform repository's workflows, render.yml and pr-preview.yml: their run steps
executed with bash as the runner runs them, in a runner's workspace holding a real
checkout (a bare `origin` beside it), with the variables, files and webhook payloads
GitHub Actions gives a step — and what they leave: commits, pushes, the pull-request
comment on the loopback GitHub, annotations, the step summary and the step outputs."""

import shutil

import pytest
import yaml

from generator import index
from generator.errors import ExitCode
from generator.github import pull_requests
from generator.present import github_actions
from testsupport.fakes.github_server import DEFAULT_TOKEN
from testsupport.gitfixtures import bare_remote, clean_env, edit, git, platform_repo, tree_at
from testsupport.github_runner import (
    HEAD_SHA,
    pull_request_payload,
    push_payload,
    read_outputs,
    repository_dispatch_payload,
    run_step,
    runner,
    schedule_payload,
)
from testsupport.helpers import ROOT, modelship

RENDER = yaml.safe_load((ROOT / ".github/workflows/render.yml").read_text())
PREVIEW = yaml.safe_load((ROOT / ".github/workflows/pr-preview.yml").read_text())
PLATFORM = "acme/modelship"
JOB_TOKEN = "ghs_theJobsOwnGITHUB_TOKEN"


def on(document):
    return document[True]  # PyYAML reads the key `on` as True (YAML 1.1)


def step_of(document, job, name):
    [step] = [s for s in document["jobs"][job]["steps"] if s.get("name") == name]
    return step


# -- what the files say -------------------------------------------------------------------


def test_render_runs_on_every_event_that_can_change_the_rendered_tree():
    events = on(RENDER)
    assert events["push"]["branches"] == ["main"]
    assert {"platform.yaml", "templates/**", "promotions/**"} <= set(events["push"]["paths"])
    assert "rendered/**" not in events["push"]["paths"]
    assert events["repository_dispatch"] == {"types": [github_actions.MODEL_CHANGED]}
    assert [entry["cron"] for entry in events["schedule"]] == ["17 * * * *"]
    assert set(events["workflow_dispatch"]["inputs"]) == {
        "publish",
        "repository",
        "allow_mass_delete",
    }


def test_two_publishers_never_run_at_once_and_none_is_cancelled():
    assert RENDER["concurrency"] == {"group": "modelship-publish", "cancel-in-progress": False}
    assert "concurrency" not in RENDER["jobs"]["publish"]


def test_pr_preview_never_runs_a_pull_requests_code_with_a_write_token_from_a_fork():
    assert set(on(PREVIEW)) == {"pull_request"}  # never pull_request_target
    job = PREVIEW["jobs"]["preview"]
    checkout = step_of(PREVIEW, "preview", "Check out")
    assert checkout["with"] == {"fetch-depth": 2, "persist-credentials": False}
    step = step_of(PREVIEW, "preview", "Render and comment the diff")
    assert step["env"]["FROM_THIS_REPOSITORY"] == (
        "${{ github.event.pull_request.head.repo.full_name == github.repository }}"
    )
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_untrusted_event_fields_never_reach_a_script():
    """Script injection: a payload field (a dispatch's repository, a pull request's title)
    pasted into a run script would run as shell. modelship reads the payload file."""
    for document in (RENDER, PREVIEW):
        for job in document["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", "")


# -- a runner's workspace ------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path):
    """Makes `step(event, payload)`: the platform repository checked out in a runner's
    workspace, published to its bare origin, with Modelship installed at .venv as the
    workflow's install step leaves it."""

    def make(event_name, payload, *, github=None):
        step = runner(tmp_path, PLATFORM, event_name, payload)
        remote = bare_remote(tmp_path / "origin.git")
        folder = platform_repo(step.workspace, remote)
        if github is not None:
            github.org.add_repo("modelship")
            path = folder / "platform.yaml"
            data = yaml.safe_load(path.read_text())
            data["github"]["api_url"] = github.url
            data["publish"]["pull_request"]["repository"] = PLATFORM
            path.write_text(yaml.safe_dump(data, sort_keys=False))
            git(folder, "commit", "--quiet", "--all", "-m", "GitHub at the loopback server")
        published = modelship("publish", "--push", cwd=folder, env=clean_env())
        assert published.returncode == ExitCode.OK, published.stderr
        (folder / ".venv").symlink_to(ROOT / ".venv")
        return step, remote

    return make


def step_env(step):
    return {k: v for k, v in step.env.items() if not k.startswith("GIT_")}


# The example platform turns the registry gate off: its secrets are unset (GitHub gives "").
UNSET_REGISTRY_SECRETS = {
    "secrets.MODELSHIP_REGISTRY_USERNAME": "",
    "secrets.MODELSHIP_REGISTRY_PASSWORD": "",
}


def render_contexts(**overrides):
    """The step's expressions as GitHub evaluates them for an event without inputs."""
    contexts = {
        "secrets.MODELSHIP_GITHUB_TOKEN || github.token": JOB_TOKEN,
        "inputs.publish || vars.MODELSHIP_PUBLISH_MODE || 'push'": "push",
        "inputs.repository": "",
        "inputs.allow_mass_delete": "",
        **UNSET_REGISTRY_SECRETS,
    }
    contexts.update(overrides)
    return contexts


def run_publish(step, tmp_path, **contexts):
    return run_step(
        step_of(RENDER, "publish", "Publish"),
        step_env(step),
        render_contexts(**contexts),
        cwd=step.workspace,
        temp=tmp_path,
    )


def remote_models(remote):
    return index.loads(tree_at(remote, "main")["index.json"]).models


# -- render.yml ----------------------------------------------------------------------------


def test_a_model_changed_dispatch_publishes_only_that_model(workspace, tmp_path):
    payload = repository_dispatch_payload(
        PLATFORM,
        github_actions.MODEL_CHANGED,
        {"repository": "acme/size-advice-model", "sha": HEAD_SHA},
    )
    step, remote = workspace("repository_dispatch", payload)
    edit(step.workspace, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(step.workspace, "fraud-score-model", "slo: 20000", "slo: 30000")
    result = run_publish(step, tmp_path)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert (
        "model-changed dispatch from acme/size-advice-model: reading only acme/size-advice-model\n"
    ) in result.stderr
    assert "pushed to origin/main" in result.stderr
    pushed = git(remote, "rev-parse", "main")
    assert git(remote, "log", "-1", "--format=%cn <%ce>", "main") == (
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    )
    models = remote_models(remote)
    assert models["size-advice"].model.spec.slo == 90000
    assert models["fraud-score"].model.spec.slo == 20000, "not read: stays as index.json has it"
    outputs = read_outputs(step.output)
    assert outputs == {
        "models": "6",
        "models-added": "0",
        "models-changed": "1",
        "models-removed": "0",
        "models-kept-on-error": "0",
        "models-unchanged": "5",
        "models-rejected": "0",
        "changed-models": '["size-advice"]',
        "changed": "true",
        "errors": "0",
        "warnings": "0",
        "commit": pushed,
        "pushed": "true",
        "pull-request-number": "",
        "pull-request-url": "",
    }
    source = models["size-advice"].model.provenance
    old = models["size-advice"].environments["production"].model.provenance.short_commit
    assert step.summary_text() == (
        "## Modelship publish\n\n"
        "*model\\-changed dispatch to acme\\/modelship from acme\\/size\\-advice\\-model*\n\n"
        f"committed {pushed[:7]} \\(main\\)\\: 0 added\\, 1 changed\\, 0 removed\\, "
        "0 kept\\-on\\-error\\, 5 unchanged  \n"
        "pushed to origin\\/main\n\n"
        "**Models:** 0 added\\, 1 changed\\, 0 removed\\, 0 kept\\-on\\-error\\, 5 unchanged\n\n"
        "| Change | Model | Source | Team | Environments |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"| changed | `size-advice` | `{source.repo}@{source.commit[:7]}` | rnd | "
        f"production {old} \\(staging is at {source.short_commit}\\)\\; "
        f"staging {old} → {source.short_commit}\\: slo 80000→90000\\, "
        f"image tag {old}→{source.short_commit} |\n\n"
        "> only acme\\/size\\-advice\\-model was read \\(a single\\-repository run\\)\\: "
        "5 other models stay as index\\.json has them\\, and nothing is removed\n\n"
    )


def test_a_dispatch_from_a_repository_that_is_gone_deletes_nothing(workspace, tmp_path):
    payload = repository_dispatch_payload(
        PLATFORM,
        github_actions.MODEL_CHANGED,
        {"repository": "acme/size-advice-model", "sha": HEAD_SHA},
    )
    step, remote = workspace("repository_dispatch", payload)
    before = git(remote, "rev-parse", "main")
    shutil.rmtree(step.workspace / "examples/repos/size-advice-model")
    result = run_publish(step, tmp_path)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert result.stderr.splitlines()[1] == (
        "::warning title=Modelship (source/single-repository)::acme/size-advice-model:1:1: "
        "warning: acme/size-advice-model is not a folder of the local source "
        "(examples/repos/size-advice-model): its model 'size-advice' stays as deployed; a run "
        "that reads only one repository removes nothing, a full run (without --repository, "
        "e.g. the scheduled one) does"
    )
    assert "nothing to publish" in result.stderr
    assert git(remote, "rev-parse", "main") == before
    assert "size-advice" in remote_models(remote)
    outputs = read_outputs(step.output)
    assert (outputs["commit"], outputs["pushed"], outputs["warnings"]) == ("", "false", "1")
    assert "| warning | `acme/size-advice-model:1:1` |" in step.summary_text()


def test_the_schedule_reads_everything_and_removes_a_deleted_repository(workspace, tmp_path):
    step, remote = workspace("schedule", schedule_payload())
    git(step.workspace, "rm", "--quiet", "-r", "examples/repos/fraud-score-model")
    git(step.workspace, "commit", "--quiet", "-m", "fraud-score is gone")
    result = run_publish(step, tmp_path)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "fraud-score" not in remote_models(remote)
    outputs = read_outputs(step.output)
    assert (outputs["models-removed"], outputs["changed-models"]) == ("1", '["fraud-score"]')
    summary = step.summary_text()
    assert summary.startswith("## Modelship publish\n\n*schedule of this repository*\n\n")
    assert "| removed | `fraud-score` | `acme/fraud-score-model@" in summary


def test_a_refused_mass_delete_is_confirmed_by_hand(workspace, tmp_path):
    step, remote = workspace("schedule", schedule_payload())
    before = git(remote, "rev-parse", "main")
    for name in ("fraud-score-model", "size-advice-model"):
        git(step.workspace, "rm", "--quiet", "-r", f"examples/repos/{name}")
    git(step.workspace, "commit", "--quiet", "-m", "two models go")
    refused = run_publish(step, tmp_path)
    assert refused.returncode == ExitCode.FINDINGS
    assert git(remote, "rev-parse", "main") == before
    assert "> refusing to remove 2 of 6 models \\(33\\%\\)" in step.summary_text()
    assert read_outputs(step.output)["commit"] == ""
    # a maintainer reads the summary, then runs the workflow by hand with the box ticked
    confirmed = run_publish(step, tmp_path, **{"inputs.allow_mass_delete": "true"})
    assert confirmed.returncode == ExitCode.OK, confirmed.stdout + confirmed.stderr
    assert {"fraud-score", "size-advice"}.isdisjoint(remote_models(remote))


def test_an_unknown_publish_mode_fails_with_an_annotation(workspace, tmp_path):
    step, _ = workspace("schedule", schedule_payload())
    mode = "inputs.publish || vars.MODELSHIP_PUBLISH_MODE || 'push'"
    result = run_publish(step, tmp_path, **{mode: "force"})
    assert result.returncode == 2
    assert result.stdout.startswith("::error title=Modelship::unknown publish mode;")


def test_the_pull_request_mode_reads_everything_even_for_a_dispatch(
    workspace, tmp_path, github_server
):
    payload = repository_dispatch_payload(
        PLATFORM,
        github_actions.MODEL_CHANGED,
        {"repository": "acme/size-advice-model", "sha": HEAD_SHA},
    )
    step, remote = workspace("repository_dispatch", payload, github=github_server)
    main = git(remote, "rev-parse", "main")
    edit(step.workspace, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(step.workspace, "fraud-score-model", "slo: 20000", "slo: 30000")
    mode = "inputs.publish || vars.MODELSHIP_PUBLISH_MODE || 'push'"
    result = run_publish(
        step,
        tmp_path,
        **{mode: "pull-request", "secrets.MODELSHIP_GITHUB_TOKEN || github.token": DEFAULT_TOKEN},
    )
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "reading only" not in result.stderr
    assert git(remote, "rev-parse", "main") == main
    assert git(remote, "rev-parse", "modelship/render~1") == main
    [pull] = github_server.org.pulls["modelship"]
    assert "| changed | `fraud-score` |" in pull.body
    assert "| changed | `size-advice` |" in pull.body
    outputs = read_outputs(step.output)
    assert outputs["pull-request-number"] == "1"
    assert outputs["pull-request-url"] == "https://github.com/acme/modelship/pull/1"
    assert outputs["changed-models"] == '["fraud-score", "size-advice"]'
    assert "opened pull request \\#1\\: https\\:\\/\\/github\\.com" in step.summary_text()


def test_a_push_event_publishes_a_platform_change(workspace, tmp_path):
    step, remote = workspace("push", push_payload(PLATFORM))
    template = step.workspace / "templates" / "kubernetes" / "service.yaml.j2"
    template.parent.mkdir(parents=True)
    template.write_text((ROOT / "templates/kubernetes/service.yaml.j2").read_text() + "# ours\n")
    path = step.workspace / "platform.yaml"
    data = yaml.safe_load(path.read_text())
    data["templates"] = "templates"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    git(step.workspace, "add", "--all", "templates", "platform.yaml")
    git(step.workspace, "commit", "--quiet", "-m", "our own Service template")
    result = run_publish(step, tmp_path)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    outputs = read_outputs(step.output)
    assert (outputs["models-changed"], outputs["changed"]) == ("6", "true")
    services = [
        p for p in tree_at(remote, "main") if "/kubernetes/" in p and p.endswith("/service.yaml")
    ]
    assert len(services) == 12  # 6 models in 2 environments
    assert all(tree_at(remote, "main")[p].endswith(b"# ours\n") for p in services)
    assert step.summary_text().startswith(
        "## Modelship publish\n\n*push to main of acme\\/modelship at 9f3c2a1*\n\n"
    )


# -- pr-preview.yml ------------------------------------------------------------------------


def pull_request_checkout(folder, base, *edits):
    """The checkout GitHub makes for a pull request: the merge of the pull request's
    branch (tune-slo, here given new commits) into ``base``, detached. The branch changes
    models and commits rendered/ too, as CI's `render --check` requires."""
    git(folder, "checkout", "--quiet", "-B", "tune-slo", "tune-slo" if has_branch(folder) else base)
    for repo, old, new in edits:
        edit(folder, repo, old, new)
    assert modelship("render", cwd=folder, env=clean_env()).returncode == ExitCode.OK
    git(folder, "commit", "--quiet", "--all", "-m", "tune the SLO")
    git(folder, "checkout", "--quiet", "--detach", base)
    git(folder, "merge", "--quiet", "--no-ff", "-m", "Merge tune-slo into main", "tune-slo")
    return folder


def has_branch(folder):
    return git(folder, "branch", "--list", "tune-slo") != ""


def run_preview(step, tmp_path, from_this_repository):
    return run_step(
        step_of(PREVIEW, "preview", "Render and comment the diff"),
        step_env(step),
        {
            "secrets.MODELSHIP_GITHUB_TOKEN || github.token": DEFAULT_TOKEN,
            **UNSET_REGISTRY_SECRETS,
            "github.event.pull_request.head.repo.full_name == github.repository": (
                "true" if from_this_repository else "false"
            ),
        },
        cwd=step.workspace,
        temp=tmp_path,
    )


def expected_markdown(folder):
    result = modelship(
        "diff", "--format", "markdown", "--against", "HEAD^1", cwd=folder, env=clean_env()
    )
    assert result.returncode == ExitCode.OK, result.stderr
    return result.stdout


def test_a_pull_request_gets_one_comment_with_the_rendered_diff(workspace, tmp_path, github_server):
    step, _ = workspace("pull_request", pull_request_payload(PLATFORM, 1), github=github_server)
    github_server.org.add_pull("modelship", "tune-slo")
    github_server.reset_counts()
    folder = step.workspace
    base = git(folder, "rev-parse", "main")
    pull_request_checkout(folder, base, ("size-advice-model", "slo: 80000", "slo: 90000"))
    # against the merge commit itself the committed rendered/ hides the change
    plain = modelship("diff", cwd=folder, env=clean_env())
    assert plain.stdout.startswith("0 added, 0 changed, 0 removed, 0 kept-on-error, 6 unchanged")
    expected = expected_markdown(folder)
    assert "| changed | `size-advice` |" in expected

    result = run_preview(step, tmp_path, from_this_repository=True)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    [comment] = github_server.org.comments["modelship"]
    assert comment.body == f"{pull_requests.MARKER}\n{expected}"
    assert comment.issue_number == 1
    url = f"https://github.com/acme/modelship/pull/1#issuecomment-{comment.id}"
    assert f"commented on pull request #1: {url}" in result.stderr
    outputs = read_outputs(step.output)
    assert outputs["comment-url"] == url
    assert (outputs["models-changed"], outputs["changed-models"], outputs["truncated"]) == (
        "1",
        '["size-advice"]',
        "false",
    )
    assert step.summary_text() == (
        "## Modelship diff\n\n*pull request \\#1 of acme\\/modelship at 9f3c2a1*\n\n"
        f"{expected.rstrip()}\n\n"
    )
    assert (step.workspace.parent.parent / "_temp" / "modelship-diff.md").read_text() == expected

    # the next push to the pull request replaces the comment
    pull_request_checkout(folder, base, ("size-advice-model", "slo: 90000", "slo: 95000"))
    expected = expected_markdown(folder)
    assert "95000" in expected
    again = run_preview(step, tmp_path, from_this_repository=True)
    assert again.returncode == ExitCode.OK, again.stdout + again.stderr
    [comment] = github_server.org.comments["modelship"]
    assert comment.body == f"{pull_requests.MARKER}\n{expected}"
    assert [r.route for r in github_server.requests] == [
        "comments_list",
        "comments_create",
        "comments_list",
        "comments_update",
    ]
    assert f"updated the comment on pull request #1: {url}" in again.stderr


def test_a_fork_gets_the_diff_in_the_summary_and_no_request_is_made(
    workspace, tmp_path, github_server
):
    payload = pull_request_payload(PLATFORM, 1)
    payload["pull_request"]["head"]["repo"] = {**payload["repository"], "full_name": "eve/fork"}
    step, _ = workspace("pull_request", payload, github=github_server)
    github_server.reset_counts()
    folder = step.workspace
    base = git(folder, "rev-parse", "main")
    pull_request_checkout(folder, base, ("size-advice-model", "slo: 80000", "slo: 90000"))
    expected = expected_markdown(folder)
    result = run_preview(step, tmp_path, from_this_repository=False)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert result.stdout.startswith(
        "::notice title=Modelship::a pull request from a fork gets no comment"
    )
    assert github_server.requests == []
    assert expected in step.summary_text()
    assert "comment-url" not in read_outputs(step.output)


def test_comment_without_a_pull_request_is_a_usage_error(workspace):
    step, _ = workspace("push", push_payload(PLATFORM))
    env = {**step_env(step), "GITHUB_TOKEN": DEFAULT_TOKEN}
    result = modelship("diff", "--comment", cwd=step.workspace, env=env)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == (
        "modelship: error: --comment needs the pull request: run it for a pull_request event "
        "in GitHub Actions, or give --pull-request N\n"
    )


def test_comment_outside_actions_names_the_pull_request_and_finds_the_repository(
    workspace, github_server
):
    step, _ = workspace("push", push_payload(PLATFORM), github=github_server)
    github_server.org.add_pull("modelship", "tune-slo")
    edit(step.workspace, "size-advice-model", "slo: 80000", "slo: 90000")
    env = {**clean_env(), "GITHUB_TOKEN": DEFAULT_TOKEN}
    result = modelship("diff", "--comment", "--pull-request", "1", cwd=step.workspace, env=env)
    assert result.returncode == ExitCode.OK, result.stderr
    [comment] = github_server.org.comments["modelship"]  # publish.pull_request.repository
    assert "| changed | `size-advice` |" in comment.body
    assert result.stdout.startswith("0 added, 1 changed, 0 removed, 0 kept-on-error, 5 unchanged")
