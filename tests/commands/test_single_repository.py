"""A single-repository run (`--repository OWNER/NAME`, what a model-changed dispatch does):
only that repository is read, every other model comes from index.json exactly as it was,
and nothing is ever removed — removals are for a full run."""

import json
import shutil

import pytest

from generator import index
from generator.errors import ExitCode
from testsupport.gitfixtures import clean_env, edit, git, publish, published_platform, tree_at
from testsupport.github_helpers import ENV, github_platform, populate_models
from testsupport.helpers import mlproject, modelship, platform_dir, read_tree

REPOS = "examples/repos"


@pytest.fixture
def rendered(tmp_path):
    """The example platform rendered in full once."""
    folder = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    return folder


def render(folder, *args, env=None):
    return modelship("render", *args, cwd=folder, env=env)


def models(folder):
    return index.loads((folder / "rendered" / "index.json").read_bytes()).models


def owned(tree, entry):
    return {path: tree[path] for path in entry.files}


def test_only_the_named_repository_is_read_and_the_others_stay_as_they_were(rendered):
    before = read_tree(rendered / "rendered")
    previous = models(rendered)
    edit(rendered, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(rendered, "fraud-score-model", "slo: 20000", "slo: 30000")  # not read this run
    result = render(rendered, "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.OK, result.stderr
    assert (
        "modelship: only acme/size-advice-model was read (a single-repository run): "
        "5 other models stay as index.json has them, and nothing is removed"
    ) in result.stderr
    now = models(rendered)
    assert now["size-advice"].model.spec.slo == 90000
    after = read_tree(rendered / "rendered")
    for model_id, entry in previous.items():
        if model_id != "size-advice":
            assert now[model_id] == entry
            assert owned(after, entry) == owned(before, entry)
    assert now["fraud-score"].model.spec.slo == 20000
    # a full run then picks up what the single read did not look at
    assert render(rendered).returncode == ExitCode.OK
    assert models(rendered)["fraud-score"].model.spec.slo == 30000


def test_a_single_read_never_removes_the_models_it_did_not_read(rendered):
    before = read_tree(rendered / "rendered")
    for folder in (rendered / REPOS).iterdir():
        if folder.name != "size-advice-model":
            shutil.rmtree(folder)
    result = render(rendered, "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.OK, result.stderr
    assert read_tree(rendered / "rendered") == before


def test_a_vanished_repository_keeps_its_model_until_a_full_run(rendered):
    before = read_tree(rendered / "rendered")
    shutil.rmtree(rendered / REPOS / "size-advice-model")
    result = render(rendered, "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stderr.splitlines()[0] == (
        "acme/size-advice-model:1:1: warning: acme/size-advice-model is not a folder of the "
        "local source (examples/repos/size-advice-model): its model 'size-advice' stays as "
        "deployed; a run that reads only one repository removes nothing, a full run "
        "(without --repository, e.g. the scheduled one) does"
    )
    assert read_tree(rendered / "rendered") == before
    full = render(rendered)
    assert full.returncode == ExitCode.OK, full.stderr
    assert "size-advice" not in models(rendered)


def test_a_repository_without_an_mlproject_keeps_its_model(rendered):
    before = read_tree(rendered / "rendered")
    (rendered / REPOS / "size-advice-model" / "MLproject").unlink()
    (rendered / REPOS / "size-advice-model" / "README.md").write_text("retired\n")
    result = render(rendered, "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.OK, result.stderr
    assert (
        "warning: acme/size-advice-model has no MLproject at the head of main: its model "
        "'size-advice' stays as deployed;" in result.stderr
    )
    assert read_tree(rendered / "rendered") == before


def test_a_new_id_replaces_the_former_one_so_one_repository_is_deployed_once(rendered):
    edit(rendered, "size-advice-model", "id: size-advice", "id: size-guide")
    result = render(rendered, "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.OK, result.stderr
    # The old id is gone from every environment; production's pin of it is left to promote.
    [warning] = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warning.startswith("promotions/production.yaml:")
    assert "size-advice is not on the platform any more, so it runs nowhere" in warning
    deployed = models(rendered)
    assert "size-guide" in deployed
    assert "size-advice" not in deployed
    jobs = sorted(p.name for p in (rendered / "rendered" / "jenkins").iterdir())
    assert jobs.count("size-guide.yaml") == 1
    assert "size-advice.yaml" not in jobs


def test_a_renamed_repository_is_refused_its_old_id_until_a_full_run(rendered):
    (rendered / REPOS / "size-advice-model").rename(rendered / REPOS / "size-hint-model")
    edit(rendered, "size-hint-model", "name: size-advice-model", "name: size-hint-model")
    result = render(rendered, "--repository", "acme/size-hint-model")
    assert result.returncode == ExitCode.FINDINGS
    assert "id 'size-advice' already belongs to acme/size-advice-model" in result.stderr
    assert models(rendered)["size-advice"].repo == "acme/size-advice-model"
    full = render(rendered)
    assert full.returncode == ExitCode.OK, full.stderr
    assert models(rendered)["size-advice"].repo == "acme/size-hint-model"


def test_a_new_model_repository_is_added(rendered):
    (rendered / REPOS / "churn-model").mkdir()
    (rendered / REPOS / "churn-model" / "MLproject").write_text(mlproject())
    result = render(rendered, "--repository", "acme/churn-model", "--dry-run")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "+++ b/staging/kubernetes/models-rnd/churn/deployment.yaml" in result.stdout
    assert "production/kubernetes/models-rnd/churn" not in result.stdout, "not promoted yet"
    assert "--- a/staging/kubernetes/models-rnd/size-advice" not in result.stdout


def test_a_broken_mlproject_is_kept_on_error_like_in_a_full_run(rendered):
    edit(rendered, "size-advice-model", "slo: 80000", "slo: fast")
    result = render(rendered, "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.FINDINGS
    assert "kept-on-error: size-advice (acme/size-advice-model) stays as last rendered" in (
        result.stderr
    )
    assert models(rendered)["size-advice"].state == "kept-on-error"


@pytest.mark.parametrize("value", ["size-advice-model", "acme/", "acme/a b", "a/b/c"])
def test_the_repository_must_be_a_full_name(rendered, value):
    result = render(rendered, "--repository", value)
    assert result.returncode == ExitCode.USAGE
    assert f"argument --repository: not a repository full name OWNER/NAME: {value!r}" in (
        result.stderr
    )


# -- publish ------------------------------------------------------------------------------


@pytest.fixture
def platform(tmp_path):
    return published_platform(tmp_path)


def test_publish_commits_and_pushes_only_the_named_model(platform):
    folder, remote = platform
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(folder, "fraud-score-model", "slo: 20000", "slo: 30000")
    result = publish(folder, "--push", "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.OK, result.stderr
    message = git(remote, "log", "-1", "--format=%B", "main")
    assert message.startswith(
        "modelship: render acme-ml (0 added, 1 changed, 0 removed, 0 kept-on-error, 5 unchanged)"
    )
    assert "update size-advice from acme/size-advice-model@" in message
    assert "fraud-score" not in message
    pushed = index.loads(tree_at(remote, "main")["index.json"]).models
    assert pushed["fraud-score"].model.spec.slo == 20000


def test_publish_pr_refuses_a_single_repository(platform):
    folder, remote = platform
    result = publish(folder, "--pr", "--repository", "acme/size-advice-model")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == (
        "modelship: error: --repository cannot be used with --pr: the pull request's branch "
        "is replaced on every run, so it must carry the change of every model, which takes "
        "a full read\n"
    )
    assert git(remote, "branch", "--list", "modelship/render") == ""


# -- the github source ----------------------------------------------------------------------


@pytest.fixture
def org(github_server):
    """120 repositories (two GraphQL pages), every fifth a model of team rnd."""
    populate_models(github_server, 120)
    github_server.org.add_team("rnd", {r.name: "push" for r in github_server.org.repos.values()})
    github_server.org.add_team("search", {"repo-00005-model": "pull"})
    return github_server


@pytest.fixture
def on_github(tmp_path, org):
    # one retry, no backoff: a failing GitHub fails fast
    folder = github_platform(tmp_path, org, limits={"retries": 1, "backoff": 0})
    full = modelship("render", cwd=folder, env={**clean_env(), **ENV})
    assert full.returncode == ExitCode.OK, full.stderr
    assert len(models(folder)) == 24
    org.reset_counts()
    return folder


def github_render(folder, *args):
    return modelship("render", *args, cwd=folder, env={**clean_env(), **ENV})


def test_github_reads_one_repository_with_one_query_and_one_team_listing(on_github, org):
    before = read_tree(on_github / "rendered")
    previous = models(on_github)
    org.org.repo("repo-00005-model").push(
        MLproject=mlproject(name="repo-00005-model", id="m5", team="rnd", slo=90000)
    )
    org.org.repo("repo-00010-model").push(
        MLproject=mlproject(name="repo-00010-model", id="m10", team="rnd", slo=5000)
    )
    result = github_render(on_github, "--repository", "acme/repo-00005-model")
    assert result.returncode == ExitCode.OK, result.stderr
    assert [r.route for r in org.requests] == ["graphql", "repo_teams"]
    [query] = [r.json() for r in org.requests if r.route == "graphql"]
    assert query["variables"] == {"owner": "acme", "name": "repo-00005-model"}
    now = models(on_github)
    assert now["m5"].model.spec.slo == 90000
    assert now["m5"].model.provenance.commit == org.org.repo("repo-00005-model").head_sha
    assert all(now[i] == previous[i] for i in previous if i != "m5")
    after = read_tree(on_github / "rendered")
    assert owned(after, previous["m10"]) == owned(before, previous["m10"])


def test_github_a_repository_that_is_gone_deletes_nothing(on_github, org):
    before = read_tree(on_github / "rendered")
    del org.org.repos["repo-00005-model"]
    result = github_render(on_github, "--repository", "acme/repo-00005-model")
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stderr.splitlines()[0] == (
        "acme/repo-00005-model:1:1: warning: acme/repo-00005-model was not found on GitHub "
        "(deleted, renamed, or not visible to the token in $GITHUB_TOKEN): its model 'm5' "
        "stays as deployed; a run that reads only one repository removes nothing, a full "
        "run (without --repository, e.g. the scheduled one) does"
    )
    assert [r.route for r in org.requests] == ["graphql"]
    assert read_tree(on_github / "rendered") == before


def test_github_an_archived_repository_is_no_model_repository_but_keeps_its_model(on_github, org):
    before = read_tree(on_github / "rendered")
    org.org.repo("repo-00005-model").archived = True
    result = github_render(on_github, "--repository", "acme/repo-00005-model")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "warning: acme/repo-00005-model is archived: its model 'm5' stays as deployed" in (
        result.stderr
    )
    assert read_tree(on_github / "rendered") == before
    full = github_render(on_github)
    assert full.returncode == ExitCode.OK, full.stderr
    assert "m5" not in models(on_github)


def test_github_a_failing_read_is_incomplete_and_deletes_nothing(on_github, org):
    before = read_tree(on_github / "rendered")
    org.inject("status", status=502, times=2)
    result = github_render(on_github, "--repository", "acme/repo-00005-model")
    assert result.returncode == ExitCode.EXTERNAL
    assert "the scan of the repositories did not complete (acme/repo-00005-model: GitHub " in (
        result.stderr
    )
    assert read_tree(on_github / "rendered") == before


def test_github_a_team_that_lost_push_access_keeps_the_model_on_error(on_github, org):
    org.org.teams["rnd"].repos["repo-00005-model"] = "pull"
    result = github_render(on_github, "--repository", "acme/repo-00005-model")
    assert result.returncode == ExitCode.FINDINGS
    assert "team 'rnd' does not own acme/repo-00005-model" in result.stderr
    assert models(on_github)["m5"].state == "kept-on-error"


def test_a_renamed_repository_keeps_its_model_in_one_full_run(on_github, org):
    """A full scan that no longer finds the id's holder gives the id to the repository
    that now claims it: the model moves to the new name instead of going away."""
    repo = org.org.repos.pop("repo-00005-model")
    repo.name = "churn-predictor-model"
    org.org.repos[repo.name] = repo
    org.org.teams["rnd"].repos[repo.name] = "push"
    result = github_render(on_github)
    assert result.returncode == ExitCode.OK, result.stderr
    moved = models(on_github)["m5"]
    assert moved.repo == "acme/churn-predictor-model"
    document = json.loads((on_github / "rendered" / "index.json").read_text())
    assert len(document["models"]) == 24
