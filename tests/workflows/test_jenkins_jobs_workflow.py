"""render.yml's jenkins-jobs job (this repository's and the one `modelship init` writes):
after every publish its step — run with bash as the runner runs it — applies rendered/jenkins/
with the real Jenkins Job Builder to a loopback Jenkins (testsupport/fakes/jenkins_server.py):
every model's job created or updated, the jobs of removed models deleted and no other, and a
build started for each model the publish changed."""

import json
import os

import pytest
import yaml

from testsupport.fakes.jenkins_server import MANAGED, JenkinsServer
from testsupport.github_runner import run_step, runner, schedule_payload
from testsupport.helpers import ROOT, tool

USER, TOKEN = "modelship", "11f0c0ffee0ddba11c0ffee0ddba11c0"
WORKFLOWS = [".github/workflows/render.yml", "scaffold/.github/workflows/render.yml"]
MODEL_JOBS = {  # the example platform's job names (MLproject names)
    "blaze-visual-similarity-model",
    "fraud-score-model",
    "price-elasticity-model",
    "product-title-classifier-model",
    "search-ranking-model",
    "size-advice-model",
}


def job_of(path):
    return yaml.safe_load((ROOT / path).read_text())["jobs"]["jenkins-jobs"]


def step_of(job, name):
    [step] = [s for s in job["steps"] if s.get("name", "").startswith(name)]
    return step


@pytest.mark.parametrize("path", WORKFLOWS)
def test_the_job_follows_every_publish_once_jenkins_is_configured(path):
    job = job_of(path)
    assert job["needs"] == "publish"
    assert job["if"] == (
        "${{ !cancelled() && needs.publish.result != 'skipped' && "
        "vars.MODELSHIP_JENKINS_URL != '' }}"
    )
    assert job["permissions"] == {"contents": "read"}
    assert step_of(job, "Check out")["with"] == {
        "ref": "${{ github.ref }}",
        "persist-credentials": False,
    }
    env = step_of(job, "Update the jobs")["env"]
    assert env["JENKINS_USER"] == "${{ secrets.JENKINS_USER }}"
    assert env["JENKINS_API_TOKEN"] == "${{ secrets.JENKINS_API_TOKEN }}"
    assert env["CHANGED_MODELS"] == "${{ needs.publish.outputs.changed-models }}"
    readme = (ROOT / "README.md").read_text()
    for name in ("MODELSHIP_JENKINS_URL", "JENKINS_USER", "JENKINS_API_TOKEN"):
        assert name in readme
    # the same job in both: what init writes is what this repository runs
    assert job == job_of(WORKFLOWS[0])


@pytest.fixture
def jenkins():
    with JenkinsServer(USER, TOKEN) as server:
        yield server


def apply(tmp_path, jenkins, changed, user=USER, token=TOKEN):
    """The step, in a runner's workspace holding this repository's rendered/jenkins; Jenkins
    Job Builder stood in for by the one scripts/bootstrap --test installed (the install
    step is a pip install of the same package)."""
    step = runner(tmp_path, "acme/ml-platform", "schedule", schedule_payload())
    if not (step.workspace / "rendered").exists():
        (step.workspace / "rendered").mkdir()
        (step.workspace / "rendered/jenkins").symlink_to(ROOT / "rendered/jenkins")
    jjb = tmp_path / "work/_temp/jjb"
    if not jjb.exists():
        tool("jenkins-jobs")
        jjb.symlink_to(ROOT / ".venv")
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {**step.env, "HOME": str(home), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    contexts = {
        "vars.MODELSHIP_JENKINS_URL": jenkins.url,
        "secrets.JENKINS_USER": user,
        "secrets.JENKINS_API_TOKEN": token,
        "needs.publish.outputs.changed-models": json.dumps(changed),
    }
    job = job_of(WORKFLOWS[0])
    return run_step(step_of(job, "Update the jobs"), env, contexts, step.workspace, tmp_path)


def test_jobs_are_applied_old_managed_ones_deleted_and_changed_ones_built(tmp_path, jenkins):
    state = jenkins.state
    marker = MANAGED.replace("<", "&lt;").replace(">", "&gt;")  # as config.xml holds it
    state.jobs["old-model"] = (  # a removed model's job, made by an earlier update
        f"<flow-definition><description>old{marker}</description></flow-definition>"
    ).encode()
    state.jobs["nightly-report"] = b"<project><description>by hand</description></project>"
    result = apply(tmp_path, jenkins, ["size-advice", "gone-model"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(state.jobs) == {*MODEL_JOBS, "nightly-report"}
    size_advice = state.jobs["size-advice-model"].decode()
    assert "<flow-definition" in size_advice
    assert marker in size_advice  # JJB marks what it manages
    assert state.builds == ["size-advice-model"]  # gone-model has no job file any more
    assert "started a build of size-advice-model" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    # a second run with nothing changed builds nothing and leaves every job as it is
    before = dict(state.jobs)
    again = apply(tmp_path, jenkins, [])
    assert again.returncode == 0, again.stdout + again.stderr
    assert state.jobs == before
    assert state.builds == ["size-advice-model"]


def test_a_refused_token_fails_the_step(tmp_path, jenkins):
    result = apply(tmp_path, jenkins, [], token="wrong")
    assert result.returncode != 0
    assert jenkins.state.jobs == {}


def test_the_variable_without_the_secrets_is_a_clear_error(tmp_path, jenkins):
    result = apply(tmp_path, jenkins, [], user="", token="")
    assert result.returncode == 2
    assert result.stdout.startswith(
        "::error title=Modelship::MODELSHIP_JENKINS_URL is set but the secrets JENKINS_USER"
    )
    assert jenkins.state.requests == []
    assert "JENKINS_API_TOKEN" not in os.environ
