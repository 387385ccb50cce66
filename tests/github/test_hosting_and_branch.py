"""The git half of `publish --pr`: the branch pushed for a pull request (the GitHub call is
generator/github/pull_requests.py's, tested with it)."""

import pytest

from generator import rendered_repo
from generator.config import loader
from generator.errors import ExitCode
from generator.github import hosting
from testsupport.gitfixtures import edit, git, publish, published_platform, tree_at
from testsupport.helpers import modelship, read_tree

IDENTITY = {
    "GIT_AUTHOR_NAME": "Modelship",
    "GIT_AUTHOR_EMAIL": "modelship@acme.example",
    "GIT_COMMITTER_NAME": "Modelship",
    "GIT_COMMITTER_EMAIL": "modelship@acme.example",
}


@pytest.fixture
def platform(tmp_path):
    return published_platform(tmp_path)


def test_the_pr_commit_goes_to_its_own_branch_and_the_checkout_does_not_move(platform):
    folder, remote = platform
    main = git(folder, "rev-parse", "HEAD")
    rendered = rendered_repo.open_rendered(loader.load(folder / "platform.yaml"))
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    first = rendered_repo.commit_tree(rendered, "render 1\n", IDENTITY)
    assert rendered_repo.push(rendered, first, "modelship/render", force=True).pushed
    assert git(folder, "rev-parse", "HEAD") == main
    assert git(folder, "diff", "--cached", "--name-only") == ""
    assert git(remote, "rev-parse", "modelship/render") == first
    assert git(remote, "rev-parse", "modelship/render~1") == main
    assert tree_at(remote, "modelship/render") == read_tree(folder / "rendered")
    # The next run replaces the branch (it belongs to Modelship), on top of the same base.
    edit(folder, "size-advice-model", "slo: 90000", "slo: 95000")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    second = rendered_repo.commit_tree(rendered, "render 2\n", IDENTITY)
    assert rendered_repo.push(rendered, second, "modelship/render", force=True).pushed
    assert git(remote, "rev-parse", "modelship/render") == second
    assert git(remote, "rev-parse", "modelship/render~1") == main
    assert git(remote, "rev-parse", "main") == main


def test_a_pull_request_needs_to_know_its_github_repository(platform):
    folder, remote = platform
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    result = publish(folder, "--pr")
    assert result.returncode == ExitCode.USAGE
    assert "set publish.pull_request.repository in platform.yaml" in result.stderr
    assert git(remote, "branch", "--list", "modelship/render") == ""


@pytest.mark.parametrize(
    ("url", "repository"),
    [
        ("https://github.com/acme/ml-platform.git", "acme/ml-platform"),
        ("https://x-access-token:secret@github.com/acme/ml-platform", "acme/ml-platform"),
        ("git@github.com:acme/ml.deployments.git", "acme/ml.deployments"),
        ("ssh://git@ghe.acme.example:2222/acme/ml-platform.git", "acme/ml-platform"),
        ("/srv/git/ml-platform.git", None),
        ("https://gitlab.example/group/sub/repo.git", None),
    ],
)
def test_the_github_repository_of_a_remote_url(url, repository):
    assert hosting.github_repository(url) == repository
