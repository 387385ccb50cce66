"""The render spread over two processes: the same files as one process, the same errors, and
a worker that really renders its share."""

import functools
import threading

import pytest

from generator import evaluate, render_cores
from generator.config import loader
from generator.errors import TemplateError
from generator.index import Index
from generator.rendering import plan
from generator.rendering.deployment import ModelDeployment, Release
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import platform_dir

# Below the smallest platform worth a worker: the example platform's six models are spread.
SPREAD = functools.partial(render_cores.render_files, least=2)


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
    assert tree(folder, SPREAD) == alone
    assert len(alone) > 50


def test_the_worker_delivers_the_files_of_its_models(tmp_path):
    platform, models = platform_and_models(platform_dir(tmp_path))
    renderer = helpers.renderer(platform.templates_path)
    release = Release(
        models=tuple(ModelDeployment.of(platform, m) for m in models), environments=()
    )
    theirs = frozenset({models[1].id, models[3].id})
    with render_cores.Worker(platform, release, renderer, theirs) as worker:
        delivered = worker.files()
    expected = [f for f in plan.render_files(platform, release, renderer) if f.owner in theirs]
    assert delivered is not None
    assert sorted(delivered, key=lambda f: f.path) == sorted(expected, key=lambda f: f.path)
    assert {f.owner for f in delivered} == theirs


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
    with pytest.raises(TemplateError) as spread:
        tree(folder, SPREAD)
    assert str(spread.value) == str(alone.value)
    assert "kubernetes/service.yaml.j2:1: ZeroDivisionError" in str(spread.value)


def test_no_worker_is_forked_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, args=(10,))
    other.start()
    try:
        assert not render_cores.can_fork()
    finally:
        stop.set()
        other.join()
    assert render_cores.can_fork()
