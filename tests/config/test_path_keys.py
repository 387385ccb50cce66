"""A path in platform.yaml that no system call takes — a NUL in it, more bytes than a path or
a file name may have — is a configuration error at its key (exit 2), not a crash at the
first use of the path."""

import json

import pytest

from generator.config import loader
from generator.errors import ExitCode
from testsupport.helpers import ROOT, modelship, platform_dir

TEXT = (ROOT / "platform.yaml").read_text()
RENDERED = "  path: rendered "
WORKDIR = "  path: rendered\n  repository:\n    url: /srv/git/r.git\n    workdir: {}\n "
APP = "  topic: ml-model\n  auth:\n    method: app\n    app_id: 1\n    installation_id: 1\n"

# key → how to set it to a (YAML) value in the example platform.yaml
PLACES = {
    "source.path": lambda value: TEXT.replace("path: examples/repos", f"path: {value}"),
    "rendered.path": lambda value: TEXT.replace(RENDERED, f"  path: {value} "),
    "rendered.repository.workdir": lambda value: TEXT.replace(RENDERED, WORKDIR.format(value)),
    "promotions.path": lambda value: f"{TEXT}promotions:\n  path: {value}\n",
    "templates": lambda value: f"{TEXT}templates: {value}\n",
    "github.auth.private_key_file": lambda value: TEXT.replace(
        "  topic: ml-model", f"{APP}    private_key_file: {value}"
    ),
}


def placed(key, value):
    """platform.yaml with ``key`` set to ``value``, and the line and column of the value."""
    written = json.dumps(value)  # a YAML double-quoted scalar: "\u0000" is a NUL
    text = PLACES[key](written)
    before = text[: text.index(written)]
    return text, before.count("\n") + 1, len(before) - before.rfind("\n")


def render(tmp_path, key, value):
    text, line, column = placed(key, value)
    folder = platform_dir(tmp_path, repos={})
    (folder / "platform.yaml").write_text(text)
    return modelship("render", cwd=folder), f"platform.yaml:{line}:{column}: {key}: "


@pytest.mark.parametrize("key", sorted(PLACES))
def test_a_nul_in_a_path_is_an_error_at_its_key(tmp_path, key):
    result, where = render(tmp_path, key, "x\0y")
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"{where}must not contain a NUL character" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("key", sorted(PLACES))
def test_a_path_longer_than_a_path_may_be_is_an_error_at_its_key(tmp_path, key):
    result, where = render(tmp_path, key, "a" * 5000)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"{where}is 5,000 bytes long; a path may have at most 1,024" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("key", sorted(PLACES))
def test_a_name_longer_than_a_name_may_be_is_an_error_at_its_key(tmp_path, key):
    result, where = render(tmp_path, key, f"ok/{'a' * 250}/ok")
    assert result.returncode == ExitCode.USAGE, result.stderr
    expected = "holds a name of 250 bytes; a file or folder name may have at most 200"
    assert f"{where}{expected}" in result.stderr


def test_a_name_is_measured_in_the_bytes_the_file_system_stores(tmp_path):
    """The file system's limits count bytes: 70 characters of three bytes each are too many."""
    result, where = render(tmp_path, "rendered.path", "日" * 70)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"{where}holds a name of 210 bytes" in result.stderr
    platform = loader.parse(PLACES["rendered.path"]("日" * 66), tmp_path / "platform.yaml")
    assert platform.rendered_path == tmp_path / ("日" * 66)


def test_a_tree_whose_name_is_as_long_as_allowed_renders(tmp_path):
    """The stage beside the tree, .<name>.modelship-stage, still fits in a file name."""
    result, _ = render(tmp_path, "rendered.path", "r" * 200)
    assert result.returncode == ExitCode.OK, result.stderr
    assert (tmp_path / ("r" * 200) / "index.json").is_file()
