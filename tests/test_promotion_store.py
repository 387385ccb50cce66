"""A promotions file that is there but cannot be read as pins is a configuration error
naming it (exit 2), never "nothing is promoted" — which would take the environment's models
down, or let promote write a file of one pin over the others — and never a wait. A link to
a regular file is read, as the file itself."""

import os
import shutil
import stat
from pathlib import Path

import pytest

from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, platform_repo, publish, set_platform
from testsupport.helpers import platform_dir, read_tree
from testsupport.inprocess import modelship

PINS = Path("promotions/production.yaml")


def a_link_to_nowhere(path: Path) -> None:
    path.unlink()
    path.symlink_to("/nonexistent/production.yaml")


def a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def a_pipe(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def not_utf8(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"# \xff\n")


def what_is_at(path: Path) -> tuple[int, str | bytes | None]:
    """The kind of ``path`` and what it holds: a link's target, a file's bytes."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return stat.S_IFMT(mode), os.readlink(path)
    return stat.S_IFMT(mode), path.read_bytes() if stat.S_ISREG(mode) else None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (a_link_to_nowhere, "production.yaml: cannot be read: "),
        (a_folder, "production.yaml is not a regular file (a folder, a pipe"),
        (a_pipe, "production.yaml is not a regular file (a folder, a pipe"),
        (not_utf8, "promotions/production.yaml: production.yaml is not UTF-8 text (byte "),
    ],
)
def test_a_promotions_file_that_is_no_file_of_pins_is_exit_2_and_nothing_moves(
    tmp_path, damage, message
):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "origin.git"))
    assert publish(folder).returncode == ExitCode.OK
    tree = read_tree(folder / "rendered")
    damage(folder / PINS)
    damaged = what_is_at(folder / PINS)
    for command in (
        ("render",),
        ("diff",),
        ("promote", "size-advice", "--from", "staging", "--to", "production", "--by", "Ann"),
    ):
        result = modelship(*command, cwd=folder)
        assert result.returncode == ExitCode.USAGE, (command, result.stderr)
        assert message in result.stderr, command
        assert "Traceback" not in result.stderr
    assert read_tree(folder / "rendered") == tree
    assert what_is_at(folder / PINS) == damaged, "promote wrote nothing in its place"


def test_a_promotions_file_that_is_a_link_to_a_regular_file_is_read(tmp_path):
    folder = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    kept = folder / "kept.yaml"
    (folder / PINS).rename(kept)
    (folder / PINS).symlink_to(Path("..") / kept.name)
    result = modelship("render", "--check", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr


def test_a_promotions_folder_that_is_a_link_to_nowhere_or_a_file_is_exit_2(tmp_path):
    folder = platform_dir(tmp_path / "platform")
    pins = folder / "promotions"
    shutil.rmtree(pins)
    pins.symlink_to("gone")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"cannot be read: {pins} is a link to nowhere" in result.stderr
    pins.unlink()
    pins.write_text("not a folder\n")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "is not a folder" in result.stderr


def test_a_link_to_nowhere_further_up_promotions_path_is_exit_2(tmp_path):
    folder = platform_dir(tmp_path / "platform")
    set_platform(folder, promotions={"path": "platform-team/promotions"})
    (folder / "platform-team").symlink_to("gone")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"cannot be read: {folder / 'platform-team'} is a link to nowhere" in result.stderr


def test_a_promotions_file_of_an_environment_that_follows_the_sources_is_warned_of(tmp_path):
    folder = platform_dir(tmp_path / "platform")
    (folder / "promotions" / "staging.yaml").write_bytes((folder / PINS).read_bytes())
    result = modelship("validate", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert (
        "modelship: warning: promotions/staging.yaml: staging follows the sources (platform.yaml "
        "gives it no promotion.from), so no run reads this file: it pins nothing"
    ) in result.stderr
