"""`modelship publish --pr` end to end: real git with a bare `origin`, the real PyGithub
against the loopback GitHub, the CLI in a subprocess as a user runs it."""

import pytest
import yaml

from generator.errors import ExitCode
from generator.present.pr_markdown import LIMIT
from testsupport.fakes.github_server import DEFAULT_TOKEN
from testsupport.gitfixtures import (
    bare_remote,
    clean_env,
    edit,
    git,
    platform_repo,
    publish,
    tree_at,
)
from testsupport.helpers import mlproject, modelship, read_tree

BRANCH = "modelship/render"
TOKEN_ENV = {"GITHUB_TOKEN": DEFAULT_TOKEN}


def point_at(folder, server):
    """platform.yaml's GitHub API at the loopback server and the pull request's repository
    named, committed like a platform engineer would."""
    path = folder / "platform.yaml"
    data = yaml.safe_load(path.read_text())
    data["github"]["api_url"] = server.url
    data["publish"]["pull_request"] = {"repository": "acme/modelship", "branch": BRANCH}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    git(folder, "commit", "--quiet", "--all", "-m", "publish pull requests to acme/modelship")


def platform_on_github(tmp_path, server, repos=None):
    server.org.add_repo("modelship")
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote, repos)
    point_at(folder, server)
    return folder, remote


@pytest.fixture
def published(tmp_path, github_server):
    """The example platform, published to origin/main; its pull requests go to the server."""
    folder, remote = platform_on_github(tmp_path, github_server)
    assert publish(folder, "--push").returncode == ExitCode.OK
    github_server.reset_counts()
    return folder, remote, github_server


def markdown_diff(folder, *args):
    result = modelship("diff", "--format", "markdown", *args, cwd=folder, env=clean_env())
    assert result.returncode == ExitCode.OK, result.stderr
    return result.stdout


def sent(server, route):
    return [request.json() for request in server.requests if request.route == route]


def test_a_pull_request_is_opened_then_updated_with_the_rendered_diff(published):
    folder, remote, server = published
    main = git(folder, "rev-parse", "HEAD")
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    expected = markdown_diff(folder)
    checkout_before = read_tree(folder / "rendered")

    result = publish(folder, "--pr", **TOKEN_ENV)
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "opened pull request #1: https://github.com/acme/modelship/pull/1"
    )
    assert git(folder, "rev-parse", "HEAD") == main, "the checked-out branch does not move"
    assert git(remote, "rev-parse", "main") == main
    first = git(remote, "rev-parse", BRANCH)
    assert git(remote, "rev-parse", f"{BRANCH}~1") == main
    assert read_tree(folder / "rendered") == checkout_before, "the checkout is not written"
    assert git(folder, "status", "--porcelain", "--", "rendered") == ""
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    assert tree_at(remote, BRANCH) == read_tree(folder / "rendered"), "the branch holds the render"
    git(folder, "checkout", "--", "rendered")
    [created] = sent(server, "pulls_create")
    assert created["head"] == BRANCH
    assert created["base"] == "main"
    assert created["title"] == (
        "modelship: render acme-ml (0 added, 1 changed, 0 removed, 0 kept-on-error, 5 unchanged)"
    )
    assert created["body"] == expected
    assert len(created["body"]) <= LIMIT
    assert "<summary><code>size-advice</code> changed, 4 files</summary>" in expected

    edit(folder, "size-advice-model", "slo: 90000", "slo: 95000")
    expected = markdown_diff(folder)
    again = publish(folder, "--pr", **TOKEN_ENV)
    assert again.returncode == ExitCode.OK, again.stderr
    assert again.stderr.splitlines()[-1] == (
        "updated pull request #1: https://github.com/acme/modelship/pull/1"
    )
    second = git(remote, "rev-parse", BRANCH)
    assert second != first, "the branch was replaced"
    assert git(remote, "rev-parse", f"{BRANCH}~1") == main, "force-updated onto the same base"
    assert git(folder, "rev-parse", "HEAD") == main
    [updated] = sent(server, "pulls_update")
    assert updated["body"] == expected
    assert '+    "slo": 95000,' not in expected  # index.json is left out of the comment
    assert "95000" in expected
    assert server.count("pulls_create") == 1
    [pull] = server.org.pulls["modelship"]
    assert (pull.number, pull.body, pull.head_ref, pull.base) == (1, expected, BRANCH, "main")


def test_a_diff_too_big_for_a_pull_request_is_cut_and_written_in_full(tmp_path, github_server):
    repos = {
        f"m{number:02}-model": mlproject(
            name=f"m{number:02}-model",
            id=f"m{number:02}",
            packages=[f"package-{n}" for n in range(20)],
        )
        for number in range(40)
    }
    folder, remote = platform_on_github(tmp_path, github_server, repos)
    expected = markdown_diff(folder, "--full-diff", "expected.diff")
    result = publish(folder, "--pr", "--full-diff", "review/full.diff", **TOKEN_ENV)
    assert result.returncode == ExitCode.OK, result.stderr
    assert "the full diff is in review/full.diff" in result.stderr
    [created] = sent(github_server, "pulls_create")
    body = created["body"]
    assert len(body.encode()) <= LIMIT
    assert body == expected.replace("`expected.diff`", "`review/full.diff`")
    assert body.count("_Cut to fit GitHub's size limit:") == 41  # 40 models, the shared files
    assert "the full diff is in `review/full.diff`._" in body
    full = (folder / "review/full.diff").read_text()
    assert full == (folder / "expected.diff").read_text()
    assert "+++ b/index.json" in full
    assert git(remote, "rev-parse", f"{BRANCH}~1") == git(folder, "rev-parse", "HEAD")


def test_nothing_to_publish_opens_no_pull_request(published):
    folder, remote, server = published
    result = publish(folder, "--pr", **TOKEN_ENV)
    assert result.returncode == ExitCode.OK, result.stderr
    assert "nothing to publish" in result.stderr
    assert git(remote, "branch", "--list", BRANCH) == ""
    assert [r.route for r in server.requests] == ["pulls_list"]  # none open to close
    assert server.org.pulls.get("modelship", []) == []


def test_a_pull_request_that_is_out_of_date_is_closed(published):
    """Its change was reverted at the source: merging the pull request would make it."""
    folder, _, server = published
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    assert publish(folder, "--pr", **TOKEN_ENV).returncode == ExitCode.OK
    edit(folder, "size-advice-model", "slo: 90000", "slo: 80000")
    result = publish(folder, "--pr", **TOKEN_ENV)
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "closed pull request #1, out of date: https://github.com/acme/modelship/pull/1"
    )
    [pull] = server.org.pulls["modelship"]
    assert pull.state == "closed"
    assert sent(server, "pulls_update")[-1] == {"state": "closed"}


def test_without_a_token_nothing_is_rendered_committed_or_pushed(published):
    folder, remote, server = published
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    env = {k: v for k, v in clean_env().items() if k != "GITHUB_TOKEN"}
    result = modelship("publish", "--pr", cwd=folder, env=env)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == (
        "modelship: error: publish --pr needs a token in the environment variable "
        "GITHUB_TOKEN (github.auth.token_env in platform.yaml), or github.auth.method: app\n"
    )
    assert git(remote, "branch", "--list", BRANCH) == ""
    assert git(folder, "status", "--porcelain", "--", "rendered") == ""
    assert server.requests == []


def test_a_rejected_token_is_an_external_failure_after_the_branch_is_pushed(published):
    folder, remote, server = published
    server.tokens.clear()  # the token was revoked
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    result = publish(folder, "--pr", **TOKEN_ENV)
    assert result.returncode == ExitCode.EXTERNAL
    assert "cannot open or update the pull request modelship/render → main in acme/modelship" in (
        result.stderr
    )
    assert "GitHub rejected the credentials (401 Bad credentials)" in result.stderr
    assert DEFAULT_TOKEN not in result.stderr
    assert "Traceback" not in result.stderr
    assert git(remote, "rev-parse", f"{BRANCH}~1") == git(folder, "rev-parse", "HEAD")
