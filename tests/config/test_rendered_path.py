"""rendered.path may only name a folder of its own: the render deletes everything in it that it
does not render, so it must never be the platform folder, the model repositories, the
templates, a .git folder or the separate repository's work folder."""

import re
import subprocess

import pytest

from generator.config import loader
from generator.errors import ConfigError, ExitCode
from testsupport.helpers import ROOT, modelship, platform_dir, read_tree

TEXT = (ROOT / "platform.yaml").read_text()
RENDERED_LINE = TEXT[: TEXT.index("  path: rendered")].count("\n") + 1


def with_rendered(block, text=TEXT):
    start = text.index("rendered:\n")
    end = text.index("registry:")
    return text[:start] + block + text[end:]


def parse(text, folder):
    return loader.parse(text, folder / "platform.yaml")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (".", "is the platform folder itself"),
        ("./", "is the platform folder itself"),
        ("rendered/..", "is the platform folder itself"),
        ("..", "is outside the platform folder"),
        ("../elsewhere", "is outside the platform folder"),
        ("/tmp/rendered", "is outside the platform folder"),
        ("examples", "contains source.path (examples/repos)"),
        ("examples/repos", "is source.path (examples/repos)"),
        ("examples/repos/churn-model", "is inside source.path (examples/repos)"),
        (".git", "is the platform repository's .git folder"),
        (".git/rendered", "is inside the platform repository's .git folder"),
    ],
)
def test_a_tree_that_would_delete_what_is_not_its_own_is_refused(tmp_path, path, reason):
    text = TEXT.replace("  path: rendered ", f"  path: {path} ")
    with pytest.raises(ConfigError) as caught:
        parse(text, tmp_path)
    message = caught.value.message
    assert f"platform.yaml:{RENDERED_LINE}:9: rendered.path: {reason}" in message, message
    assert "must be a folder of its own inside the platform folder" in message


def test_the_templates_folder_is_protected_too(tmp_path):
    text = TEXT.replace("registry: ", "templates: overrides\nregistry: ", 1)
    for path, reason in [
        ("overrides", "is templates (overrides)"),
        ("overrides/rendered", "is inside templates (overrides)"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(f"rendered.path: {reason}")):
            parse(text.replace("  path: rendered ", f"  path: {path} "), tmp_path)
    wide = text.replace("templates: overrides", "templates: rendered/templates")
    with pytest.raises(ConfigError, match=r"rendered.path: contains templates"):
        parse(wide, tmp_path)


def test_a_tree_that_is_a_link_to_a_protected_folder_is_refused(tmp_path):
    (tmp_path / "examples" / "repos").mkdir(parents=True)
    (tmp_path / "rendered").symlink_to(tmp_path / "examples")
    with pytest.raises(ConfigError, match=r"rendered.path: contains source.path"):
        parse(TEXT, tmp_path)


def test_an_ordinary_folder_is_fine(tmp_path):
    for path in ("rendered", "deploy/clusters", "examples-rendered", "rendered/"):
        platform = parse(TEXT.replace("  path: rendered ", f"  path: {path} "), tmp_path)
        assert platform.rendered_path == tmp_path / path.rstrip("/")


@pytest.mark.parametrize(
    ("workdir", "reason"),
    [
        (".", "is the platform folder itself"),
        ("..", "contains the platform folder"),
        ("examples", "contains source.path (examples/repos)"),
        ("examples/repos/clone", "is inside source.path (examples/repos)"),
        (".git/clone", "is inside the platform repository's .git folder"),
    ],
)
def test_the_work_folder_of_a_separate_repository_must_be_its_own(tmp_path, workdir, reason):
    block = (
        "rendered:\n  path: rendered\n  repository:\n    url: /srv/git/r.git\n"
        f"    workdir: {workdir}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse(with_rendered(block), tmp_path)
    assert f"rendered.repository.workdir: {reason}" in caught.value.message


def test_a_work_folder_outside_the_platform_folder_is_fine(tmp_path):
    block = (
        "rendered:\n  path: rendered\n  repository:\n    url: /srv/git/r.git\n"
        "    workdir: ../deployments\n"
    )
    platform = parse(with_rendered(block), tmp_path / "platform")
    assert platform.rendered_path == tmp_path / "deployments" / "rendered"


def git_repository(folder):
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "platform"],
    ):
        subprocess.run(command, cwd=folder, check=True, capture_output=True)


@pytest.mark.parametrize("path", [".", "examples"])
def test_render_into_the_platform_folder_or_the_repositories_deletes_nothing(tmp_path, path):
    folder = platform_dir(tmp_path)
    git_repository(folder)
    text = (folder / "platform.yaml").read_text()
    (folder / "platform.yaml").write_text(text.replace("  path: rendered ", f"  path: {path} "))
    before = read_tree(folder)
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "rendered.path:" in result.stderr
    assert "Traceback" not in result.stderr
    assert read_tree(folder) == before


def test_render_does_not_take_over_a_folder_it_did_not_write(tmp_path):
    folder = platform_dir(tmp_path)
    docs = folder / "docs"
    docs.mkdir()
    (docs / "runbook.md").write_text("# how we deploy\n")
    text = (folder / "platform.yaml").read_text()
    (folder / "platform.yaml").write_text(text.replace("  path: rendered ", "  path: docs "))
    for options in ((), ("--dry-run",), ("--allow-mass-delete",)):
        result = modelship("render", *options, cwd=folder)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert "has files but no index.json" in result.stderr
        assert "Traceback" not in result.stderr
    assert read_tree(docs) == {"runbook.md": b"# how we deploy\n"}
