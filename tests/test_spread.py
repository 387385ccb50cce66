"""Work spread over two processes: the same results as one process, the same errors, and a
worker that really does its share."""

import functools
import json
import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from benchmarks import render as render_benchmark
from generator import digests, evaluate, index, promotion_store, rendered_tree, spread, workers
from generator.config import loader
from generator.errors import ConfigError, ExternalError, TemplateError
from generator.index import Index
from generator.planned_tree import TreeFiles
from generator.rendering import plan
from generator.rendering.deployment import ModelDeployment, Release
from generator.sources.base import RepoSnapshot
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import platform_dir, read_tree

# Below the smallest platform worth a worker: the example platform's six models are spread.
RENDER_SPREAD = functools.partial(spread.render_files, least=2)
PARSE_SPREAD = functools.partial(spread.parse_mlprojects, least=2)
DIGESTS_SPREAD = functools.partial(spread.files_digests, least=2)
INDEX_SPREAD = functools.partial(spread.index_entries, least=2)


def platform_and_models(folder):
    platform = loader.load(folder / "platform.yaml")
    evaluation = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index())
    return platform, evaluation.models


def tree(folder, make_files):
    platform, models = platform_and_models(folder)
    renderer = helpers.renderer(platform.templates_path)
    return helpers.plan_everywhere(platform, models, renderer, make_files=make_files)


def test_a_spread_render_is_byte_identical_to_one_process(tmp_path):
    folder = platform_dir(tmp_path)
    alone = tree(folder, plan.render_files)
    assert tree(folder, RENDER_SPREAD) == alone
    assert len(alone) > 50


def test_files_rendered_in_the_worker_are_the_bytes_rendered_here(tmp_path):
    platform, models = platform_and_models(platform_dir(tmp_path))
    renderer = helpers.renderer(platform.templates_path)
    release = Release(
        models=tuple(ModelDeployment.of(platform, m) for m in models), environments=()
    )

    def files():
        return [(f.path, f.content) for f in plan.render_files(platform, release, renderer)]

    with workers.Worker(files) as worker:
        delivered = worker.items()
    assert delivered == files()


@pytest.mark.parametrize("failing", [0, 1], ids=["this-process", "worker"])
def test_a_template_error_in_either_share_is_the_error_one_process_gives(tmp_path, failing):
    folder = platform_dir(tmp_path)
    _, models = platform_and_models(folder)
    # Models are shared out by id, every other one to the worker.
    model_id = sorted(m.id for m in models)[failing]
    helpers.override_template(
        folder,
        "kubernetes/service.yaml.j2",
        f"a: {{{{ 1 / (0 if m.id == '{model_id}' else 1) }}}}\n",
    )
    with pytest.raises(TemplateError) as alone:
        tree(folder, plan.render_files)
    with pytest.raises(TemplateError) as spread_out:
        tree(folder, RENDER_SPREAD)
    assert str(spread_out.value) == str(alone.value)
    assert "kubernetes/service.yaml.j2:1: ZeroDivisionError" in str(spread_out.value)


def rendered_index(tmp_path):
    folder = platform_dir(tmp_path)
    helpers.modelship("render", cwd=folder)
    return json.loads((folder / "rendered" / index.INDEX_PATH).read_bytes())


def test_a_spread_index_check_gives_the_index_of_one_process(tmp_path):
    data = json.dumps(rendered_index(tmp_path)).encode()
    alone = index.loads(data)
    assert len(alone.models) > 3
    assert not alone.damaged
    assert index.loads(data, each=INDEX_SPREAD) == alone
    assert workers.can_fork()  # so the worker checked every other entry


@pytest.mark.parametrize("damaged", [0, 1], ids=["this-process", "worker"])
def test_an_entry_damaged_in_either_share_is_found_as_one_process_finds_it(tmp_path, damaged):
    """A spec that is not the one its digest names: only the entry's own check finds it
    (the schema accepts the entry)."""
    document = rendered_index(tmp_path)
    model_id = list(document["models"])[damaged]
    entry = document["models"][model_id]
    entry["specs"][entry["spec"]]["description"] = "edited by hand"
    data = json.dumps(document).encode()
    alone = index.loads(data)
    assert list(alone.damaged) == [model_id]
    assert "is not the digest of the spec it holds" in str(alone.damaged[model_id].problems)
    assert index.loads(data, each=INDEX_SPREAD) == alone
    assert workers.can_fork()


def test_spread_parses_are_those_of_one_process_in_order(tmp_path):
    folder = platform_dir(tmp_path)
    platform = loader.load(folder / "platform.yaml")
    snapshots = list(LocalSource.from_platform(platform).scan().snapshots)
    broken = RepoSnapshot(
        full_name="acme/broken-model",
        clone_url="",
        default_branch="main",
        head_sha="0" * 40,
        mlproject="name: [\n",
    )
    snapshots.insert(3, broken)
    alone = evaluate.parse_each(snapshots)
    assert PARSE_SPREAD(snapshots) == alone
    assert [r.spec is None for r in alone].count(True) == 1
    assert alone[3].spec is None


def models_files(folder):
    """The example platform rendered by the CLI, and each model's files as a re-run checks
    them: read from the tree on disk when asked."""
    helpers.modelship("render", cwd=folder)
    tree = rendered_tree.read_tree(folder / "rendered")
    entries = index.tree_index(tree, "rendered").models.values()
    return [TreeFiles(tree, entry.files) for entry in entries]


def test_spread_file_digests_are_those_of_one_process_in_order(tmp_path):
    folder = platform_dir(tmp_path)
    groups = models_files(folder)
    alone = [digests.files(group.items()) for group in groups]
    assert len(set(alone)) == len(groups) > 3
    assert DIGESTS_SPREAD(groups) == alone
    changed = next(iter(groups[1]))
    (folder / "rendered" / changed).write_bytes(b"# changed by hand\n")
    again = DIGESTS_SPREAD(groups)
    assert again[1] != alone[1]
    assert again[:1] + again[2:] == alone[:1] + alone[2:]
    assert workers.can_fork()  # so the worker did every other group


@pytest.mark.parametrize("unreadable", [0, 1], ids=["this-process", "worker"])
def test_a_file_either_share_cannot_read_is_the_error_one_process_gives(tmp_path, unreadable):
    folder = platform_dir(tmp_path)
    groups = models_files(folder)
    gone = next(iter(groups[unreadable]))
    (folder / "rendered" / gone).unlink()
    with pytest.raises(ExternalError) as alone:
        spread.files_digests(groups, least=len(groups) + 1)
    with pytest.raises(ExternalError) as spread_out:
        DIGESTS_SPREAD(groups)
    assert str(spread_out.value) == str(alone.value)
    assert gone in str(alone.value)
    assert workers.can_fork()


def test_promotions_read_beside_are_those_read_here(tmp_path):
    platform = loader.load(platform_dir(tmp_path) / "platform.yaml")
    here = promotion_store.read_all(platform)
    assert here["production"].pins
    with spread.promotions(platform, least=1) as read:
        assert read() == here
        assert read() is read()


def test_the_promotions_are_read_by_the_worker_when_the_block_starts(tmp_path, monkeypatch):
    """The worker's reading is the one used: the file is damaged once it has read it (or
    could not send it yet), and what the block gives is still the file as it was."""
    platform = loader.load(platform_dir(tmp_path) / "platform.yaml")
    here = promotion_store.read_all(platform)
    started = helpers.started_workers(monkeypatch)
    with spread.promotions(platform, least=1) as read:
        assert len(started) == 1
        assert started[0] is not None
        deadline = time.monotonic() + 30
        while multiprocessing.active_children() and time.monotonic() < deadline:
            time.sleep(0.01)
        promotion_store.path_of(platform, "production").write_text("models: [\n")
        assert read() == here
    with pytest.raises(ConfigError):
        promotion_store.read_all(platform)


def test_a_damaged_promotions_file_is_the_error_one_process_gives(tmp_path):
    platform = loader.load(platform_dir(tmp_path) / "platform.yaml")
    promotion_store.path_of(platform, "production").write_text("format: 1\nmodels: 7\n")
    with pytest.raises(ConfigError) as alone:
        promotion_store.read_all(platform)
    with spread.promotions(platform, least=1) as read, pytest.raises(ConfigError) as beside:
        read()
    assert str(beside.value) == str(alone.value)


def test_small_promotions_files_are_read_here(tmp_path, monkeypatch):
    platform = loader.load(platform_dir(tmp_path) / "platform.yaml")
    assert 0 < promotion_store.size(platform) < spread.MIN_PROMOTIONS_BYTES
    started = helpers.started_workers(monkeypatch)
    with spread.promotions(platform) as read:
        assert read() == promotion_store.read_all(platform)
    assert started == []


def test_a_cli_render_spread_over_two_cores_is_the_render_on_one(tmp_path):
    """Enough models to spread the render (the parse's spread, from more MLprojects, is held
    to one process's above), rendered by the real CLI on both cores and on one (a process
    allowed one core forks no worker): the same bytes."""
    models = spread.MIN_MODELS
    trees = []
    for cores in ({0, 1}, {0}):
        folder = tmp_path / str(len(cores))
        folder.mkdir()
        render_benchmark.make_platform(folder, models)
        subprocess.run(
            [sys.executable, "-m", "generator", "render"],
            cwd=folder,
            check=True,
            capture_output=True,
            preexec_fn=lambda cores=cores: os.sched_setaffinity(0, cores),
            timeout=300,
        )
        trees.append(read_tree(folder / "rendered"))
    assert workers.can_fork()
    assert len(trees[0]) > 10 * models
    assert trees[0] == trees[1]
