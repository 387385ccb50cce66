"""platform.yaml: the separate rendered repository and the publish settings."""

from pathlib import Path

import pytest

from generator.config import loader, settings
from generator.errors import ConfigError
from testsupport.helpers import ROOT

TEXT = (ROOT / "platform.yaml").read_text()


def with_rendered(block):
    start = TEXT.index("rendered:\n")
    end = TEXT.index("registry:")
    return TEXT[:start] + block + TEXT[end:]


def test_in_repo_tree_and_default_publish_settings(tmp_path):
    text = TEXT[: TEXT.index("publish:")]
    platform = loader.parse(text, tmp_path / "platform.yaml")
    assert platform.rendered_repository is None
    assert platform.rendered_path == tmp_path / "rendered"
    assert platform.publish.author == settings.GitIdentity("Modelship", "modelship@localhost")
    assert platform.publish.committer is None
    assert (platform.publish.remote, platform.publish.push_attempts) == ("origin", 3)
    assert platform.publish.pull_request == settings.PullRequestSettings(None, "modelship/render")


def test_the_example_names_its_author():
    platform = loader.load(ROOT / "platform.yaml")
    assert platform.publish.author.email == "modelship@acme.example"


def test_a_separate_repository_is_cloned_into_its_workdir(tmp_path):
    block = (
        "rendered:\n  path: clusters\n  repository:\n"
        "    url: git@github.com:acme/ml-deployments.git\n"
    )
    platform = loader.parse(with_rendered(block), tmp_path / "platform.yaml")
    repository = platform.rendered_repository
    assert repository == settings.RenderedRepository(
        url="git@github.com:acme/ml-deployments.git",
        branch="main",
        workdir=tmp_path / ".modelship/rendered-repo",
    )
    assert platform.rendered_path == tmp_path / ".modelship/rendered-repo/clusters"


@pytest.mark.parametrize("inner", [".", "../outside", ".git/x", "/abs"])
def test_the_tree_must_be_a_folder_inside_the_separate_repository(inner):
    block = f"rendered:\n  path: {inner}\n  repository:\n    url: /srv/git/r.git\n"
    with pytest.raises(ConfigError, match=r"rendered.path: with 'repository', must be a folder"):
        loader.parse(with_rendered(block), Path("platform.yaml"))


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("    url: ''\n", "rendered.repository.url: must be a git URL"),
        ("    url: x\n    branch: a..b\n", "rendered.repository.branch: must be a git branch"),
        ("    branch: main\n", "rendered.repository: missing required key 'url'"),
    ],
)
def test_bad_repository_settings_are_named(block, message):
    text = with_rendered(f"rendered:\n  path: rendered\n  repository:\n{block}")
    with pytest.raises(ConfigError, match=message):
        loader.parse(text, Path("platform.yaml"))


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("  author: {name: Bot}\n", "publish.author: missing required key 'email'"),
        ("  author: {name: Bot, email: nope}\n", "publish.author.email: must be an e-mail"),
        ("  push_attempts: 0\n", "publish.push_attempts: must be an integer between 1 and 10"),
        ("  pull_request: {repository: acme}\n", "must be a GitHub repository as owner/name"),
    ],
)
def test_bad_publish_settings_are_named(block, message):
    text = TEXT[: TEXT.index("publish:")] + "publish:\n" + block
    with pytest.raises(ConfigError, match=message):
        loader.parse(text, Path("platform.yaml"))
