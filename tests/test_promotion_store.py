"""A promotions file that is there but cannot be read as pins is a configuration error
naming it (exit 2), never "nothing is promoted" — which would take the environment's models
down, or let promote write a file of one pin over the others — and never a wait."""

import os
import shutil
from pathlib import Path

import pytest

from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, platform_repo, publish
from testsupport.helpers import platform_dir
from testsupport.inprocess import modelship

PINS = Path("promotions/production.yaml")


def a_link_to_nowhere(path: Path) -> None:
    path.unlink()
    path.symlink_to("/nonexistent/production.yaml")


def a_link_to_the_pins(path: Path) -> None:
    kept = path.with_name("kept.yaml")
    path.rename(kept)
    path.symlink_to(kept.name)


def a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def a_pipe(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def not_utf8(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"# \xff\n")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (a_link_to_nowhere, "production.yaml is a symbolic link; Modelship reads only regular"),
        (a_link_to_the_pins, "production.yaml is a symbolic link"),
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
    tree = sorted(path for path in (folder / "rendered").rglob("*"))
    damage(folder / PINS)
    for command in (
        ("render",),
        ("diff",),
        ("promote", "size-advice", "--from", "staging", "--to", "production", "--by", "Ann"),
    ):
        result = modelship(*command, cwd=folder)
        assert result.returncode == ExitCode.USAGE, (command, result.stderr)
        assert message in result.stderr, command
        assert "Traceback" not in result.stderr
    assert sorted(path for path in (folder / "rendered").rglob("*")) == tree
    assert os.path.lexists(folder / PINS), "promote wrote no file in its place"


def test_a_promotions_folder_that_is_a_link_to_nowhere_or_a_file_is_exit_2(tmp_path):
    folder = platform_dir(tmp_path / "platform")
    pins = folder / "promotions"
    shutil.rmtree(pins)
    pins.symlink_to("gone")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "promotions.path (" in result.stderr
    assert "is a link to nowhere" in result.stderr
    pins.unlink()
    pins.write_text("not a folder\n")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "is not a folder" in result.stderr
