"""A render deletes only what index.json accounts for: a tree with files but no index.json, or
with files its index.json no longer lists, is refused (exit 2) instead of being taken for a
tree with fewer models."""

import json

import pytest

from generator import index
from generator.cli import build_parser
from generator.commands import render
from generator.config import loader
from generator.errors import ConfigError, ExitCode
from generator.sources.base import Scan
from generator.sources.local import LocalSource
from testsupport.chosen_scan import ChosenScan
from testsupport.helpers import modelship, platform_dir, read_tree


def render_with(folder, scan, *options):
    platform = loader.load(folder / "platform.yaml")
    args = build_parser().parse_args(["render", *options])
    return render.execute(args, platform, ChosenScan(scan))


def incomplete_scan(folder, *names):
    scan = LocalSource.from_platform(loader.load(folder / "platform.yaml")).scan()
    seen = tuple(s for s in scan.snapshots if s.name in names)
    return Scan(seen, complete=False, incomplete_reason="GitHub answered 502 on page 2")


@pytest.fixture
def folder(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    return folder


def test_a_tree_without_index_json_is_not_a_tree_without_models(folder, capsys):
    (folder / "rendered" / "index.json").unlink()
    before = read_tree(folder / "rendered")
    with pytest.raises(ConfigError) as caught:
        render_with(folder, incomplete_scan(folder, "size-advice-model"))
    assert "rendered has files but no index.json" in caught.value.message
    assert read_tree(folder / "rendered") == before
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE
    assert "has files but no index.json" in result.stderr
    listed = modelship("list", cwd=folder)
    assert listed.returncode == ExitCode.USAGE
    assert "has files but no index.json" in listed.stderr


def test_an_index_emptied_by_damage_cannot_make_an_incomplete_scan_delete_models(folder):
    path = folder / "rendered" / "index.json"
    document = json.loads(path.read_text())
    document["models"] = {}
    path.write_text(json.dumps(document))
    before = read_tree(folder / "rendered")
    with pytest.raises(ConfigError) as caught:
        render_with(folder, incomplete_scan(folder, "size-advice-model"))
    message = caught.value.message
    assert "holds files its index.json does not account for" in message
    assert "jenkins/fraud-score.yaml" in message
    assert "nothing was written" in message
    assert read_tree(folder / "rendered") == before
    dry = modelship("render", "--dry-run", cwd=folder)  # a complete scan renders every model
    assert dry.returncode == ExitCode.OK, dry.stderr


def test_a_file_added_by_hand_is_not_deleted_silently(folder):
    stray = folder / "rendered" / "production" / "kubernetes" / "models-rnd" / "hotfix.yaml"
    stray.write_text("kind: ConfigMap\n")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.USAGE
    assert "production/kubernetes/models-rnd/hotfix.yaml" in result.stderr
    assert stray.exists()
    stray.unlink()
    assert modelship("render", cwd=folder).returncode == ExitCode.OK


def test_files_of_a_team_that_left_the_platform_go_without_a_refusal(folder):
    text = (folder / "platform.yaml").read_text()
    start = text.index("  fraud:\n")
    end = text.index("defaults:")
    (folder / "platform.yaml").write_text(text[:start] + text[end:])
    (folder / "examples" / "repos" / "fraud-score-model" / "MLproject").unlink()
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    tree = read_tree(folder / "rendered")
    assert not [path for path in tree if "models-fraud" in path]
    assert "fraud-score" not in index.loads(tree["index.json"]).models


def test_the_index_records_every_file_no_model_owns(folder):
    tree = read_tree(folder / "rendered")
    recorded = index.loads(tree["index.json"])
    owned = {path for entry in recorded.models.values() for path in entry.files}
    assert set(recorded.shared_files) == set(tree) - owned - {"index.json"}
