"""The rendered tree holds only regular files that Modelship wrote: a link or a special file in
it is an error (never read through, never followed), a linked tree root is refused, a folder
Modelship did not write is never taken over, and leftovers that are links are unlinked."""

import os

import pytest

from generator import rendered_tree
from generator.errors import ConfigError, ExitCode
from testsupport.helpers import modelship, platform_dir, read_tree

TREE = {"index.json": b'{"format": 1, "models": {}}\n', "staging/gateway/nginx.conf": b"x\n"}


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "rendered"
    rendered_tree.write_tree(root, TREE, {})
    return root


def test_a_link_in_the_tree_is_an_error_never_read_through(tree, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("MY_TOKEN=hunter2\n")
    (tree / "env").symlink_to(secret)
    with pytest.raises(ConfigError) as caught:
        rendered_tree.read_tree(tree)
    assert caught.value.exit_code == ExitCode.USAGE
    assert f"{tree / 'env'}: a symbolic link in the rendered tree" in caught.value.message
    assert "hunter2" not in caught.value.message


def test_a_linked_folder_in_the_tree_is_an_error(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key.pem").write_text("PRIVATE\n")
    (tree / "staging" / "certs").symlink_to(outside)
    with pytest.raises(ConfigError, match="staging/certs: a symbolic link in the rendered tree"):
        rendered_tree.read_tree(tree)
    assert (outside / "key.pem").read_text() == "PRIVATE\n"


def test_a_special_file_in_the_tree_is_an_error(tree):
    os.mkfifo(tree / "pipe")  # reading it would block for ever
    with pytest.raises(ConfigError, match="pipe: not a regular file"):
        rendered_tree.read_tree(tree)


def test_render_dry_run_does_not_print_what_a_link_points_to(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    (folder / "rendered" / "env").symlink_to("/proc/self/environ")
    env = {**os.environ, "MY_TOKEN": "s3cr3t-t0ken-value"}
    result = modelship("render", "--dry-run", cwd=folder, env=env)
    assert result.returncode == ExitCode.USAGE
    assert "s3cr3t-t0ken-value" not in result.stdout + result.stderr
    assert "rendered/env: a symbolic link in the rendered tree" in result.stderr
    assert (folder / "rendered" / "env").is_symlink(), "the render wrote nothing"


def test_a_linked_tree_root_is_refused_and_nothing_is_changed(tmp_path):
    real = tmp_path / "real-rendered"
    rendered_tree.write_tree(real, TREE, {})
    root = tmp_path / "rendered"
    root.symlink_to(real)
    for attempt in (
        lambda: rendered_tree.read_tree(root),
        lambda: rendered_tree.write_tree(root, {**TREE, "a.yaml": b"a\n"}, TREE),
        lambda: rendered_tree.recover(root),
    ):
        with pytest.raises(ConfigError, match="rendered: is a symbolic link"):
            attempt()
    assert root.is_symlink()
    assert read_tree(real) == TREE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real-rendered", "rendered"]


def test_render_with_a_linked_tree_exits_2_and_stays_usable(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    (folder / "rendered").rename(folder / "deploy")
    (folder / "rendered").symlink_to("deploy")
    before = read_tree(folder / "deploy")
    for _ in range(2):
        result = modelship("render", cwd=folder)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert "is a symbolic link" in result.stderr
    assert read_tree(folder / "deploy") == before
    (folder / "rendered").unlink()
    (folder / "deploy").rename(folder / "rendered")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK


def test_leftovers_that_are_links_are_unlinked_never_followed(tree, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data").write_text("keep\n")
    rendered_tree.stage_path(tree).symlink_to(precious)
    rendered_tree.backup_path(tree).symlink_to(precious)
    rendered_tree.write_tree(tree, {**TREE, "a.yaml": b"a\n"}, rendered_tree.read_tree(tree))
    assert not os.path.lexists(rendered_tree.stage_path(tree))
    assert not os.path.lexists(rendered_tree.backup_path(tree))
    assert (precious / "data").read_text() == "keep\n"
    assert read_tree(tree) == {**TREE, "a.yaml": b"a\n"}


def test_a_folder_modelship_did_not_write_is_never_replaced(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "runbook.md").write_text("# runbook\n")
    with pytest.raises(ConfigError) as caught:
        rendered_tree.write_tree(docs, TREE, {})
    assert caught.value.exit_code == ExitCode.USAGE
    assert f"{docs} has files but no index.json" in caught.value.message
    assert read_tree(docs) == {"runbook.md": b"# runbook\n"}
    empty = tmp_path / "empty"
    empty.mkdir()
    rendered_tree.write_tree(empty, TREE, {})
    assert read_tree(empty) == TREE


def test_a_tree_root_that_is_a_file_is_refused(tmp_path):
    root = tmp_path / "rendered"
    root.write_text("not a folder\n")
    with pytest.raises(ConfigError, match="rendered: is not a folder"):
        rendered_tree.read_tree(root)
    with pytest.raises(ConfigError, match="rendered: is not a folder"):
        rendered_tree.write_tree(root, TREE, {})
    assert root.read_text() == "not a folder\n"
    assert not os.path.lexists(rendered_tree.stage_path(root))
