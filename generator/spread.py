"""Work spread over two cores: a forked worker does every other item while this process
does the rest.   (edge: processes)

Four stages are spread: the check of index.json's entries (``index_entries``), the
MLprojects' parse (``parse_mlprojects``), a re-run's check of the models' files against
their recorded digests (``files_digests``) and a render's model files (``render_files``).
One is read beside the rest: the promotions files (``promotions``), by a worker that reads
them while this process lists the tree, checks index.json and parses the MLprojects.
Each item's result depends on its inputs alone, so it is the same whichever process makes
it. The worker (``workers.py``) inherits the inputs, the templates and the compiled engine
by the fork, and sends back only its share. Whatever the worker does not deliver (it fails,
dies, or has not finished within ``workers.WAIT_S``), this process makes itself: the
result, and any error, are those of the stage done in one process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

from generator import digests, evaluate, mlproject, promotion_store, workers
from generator.config.settings import Platform
from generator.pins import Promotions
from generator.rendering import plan
from generator.rendering.deployment import Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.templating import Renderer
from generator.sources.base import RepoSnapshot

# Below these, one process does it all: starting a worker and sending its share back costs
# more than the other core saves.
MIN_MODELS = 200  # models to render (1,000 take about 2 s of CPU)
MIN_MLPROJECTS = 1_000  # MLprojects to parse (1,000 take about 0.3 s of CPU)
MIN_FILE_GROUPS = 1_000  # models whose files a re-run checks (1,000 take about 0.2 s)
MIN_INDEX_ENTRIES = 1_000  # index.json entries to check (1,000 take about 0.1 s)
MIN_PROMOTIONS_BYTES = 250_000  # promotions files read beside (1,000 pins take about 0.1 s)

Item = TypeVar("Item")
Made = TypeVar("Made")


def index_entries(
    make: Callable[[Sequence[Item]], list[Made]],
    entries: Sequence[Item],
    *,
    least: int = MIN_INDEX_ENTRIES,
) -> list[Made]:
    """``make(entries)`` (``index.loads``'s check of its entries: an ``index.Each``), with
    every other entry checked by a forked worker when there are at least ``least``."""
    return _each(make, entries, least)


def parse_mlprojects(
    snapshots: Sequence[RepoSnapshot], *, least: int = MIN_MLPROJECTS
) -> list[mlproject.ParseResult]:
    """``evaluate.parse_each``, with every other MLproject parsed by a forked worker when
    there are at least ``least`` of them."""
    return _each(evaluate.parse_each, snapshots, least)


def files_digests(
    groups: Sequence[Mapping[str, bytes]], *, least: int = MIN_FILE_GROUPS
) -> list[str]:
    """``digests.files`` of each group of files (a model's, read from the tree when asked),
    with every other group read and digested by a forked worker when there are at least
    ``least`` of them. A file that cannot be read is this process's error to raise."""
    return _each(_files_digests, groups, least)


def _files_digests(groups: Sequence[Mapping[str, bytes]]) -> list[str]:
    return [digests.files(group.items()) for group in groups]


def _each(
    make: Callable[[Sequence[Item]], list[Made]], items: Sequence[Item], least: int
) -> list[Made]:
    """``make(items)``, with every other item made by a forked worker when there are at
    least ``least``; ``make`` gives one result per item, in order."""
    mine, theirs = items[0::2], items[1::2]
    worker = workers.started(lambda: make(theirs)) if workers.worth(len(items), least) else None
    if worker is None:
        return make(items)
    with worker:
        own = make(mine)
        received = worker.items()
    if received is None or len(received) != len(theirs):
        received = make(theirs)
    results: list[Made] = [*own, *received]
    results[0::2], results[1::2] = own, received  # each back where it was shared out from
    return results


@contextmanager
def promotions(
    platform: Platform, *, least: int = MIN_PROMOTIONS_BYTES
) -> Iterator[Callable[[], dict[str, Promotions]]]:
    """``promotion_store.read_all(platform)``, read by a forked worker from the moment the
    block starts when the files hold at least ``least`` bytes: call what it gives for them
    (read by this process when the worker did not deliver them, and then with its errors).
    The worker is stopped when the block ends."""
    worker = (
        workers.started(lambda: [promotion_store.read_all(platform)])
        if workers.worth(promotion_store.size(platform), least)
        else None
    )

    @functools.cache
    def read() -> dict[str, Promotions]:
        received = None
        if worker is not None:
            received = worker.items()
            worker.stop()
        return received[0] if received else promotion_store.read_all(platform)

    try:
        yield read
    finally:
        if worker is not None:
            worker.stop()


def render_files(
    platform: Platform, release: Release, renderer: Renderer, *, least: int = MIN_MODELS
) -> list[RenderedFile]:
    """``plan.render_files``, with every other model that is rendered rendered by a forked
    worker when there are at least ``least`` of them. This process renders the shared files
    (so does the worker, which sends back only its models' own)."""
    rendering = [d.id for d in release.models if release.renders(d.id)]
    theirs = frozenset(rendering[1::2])

    def their_files() -> list[tuple[str, bytes, str | None]]:
        made = plan.render_files(platform, _only(release, theirs), renderer)
        return [(f.path, f.content, f.owner) for f in made if f.owner in theirs]

    worker = workers.started(their_files) if workers.worth(len(rendering), least) else None
    if worker is None:
        return list(plan.render_files(platform, release, renderer))
    with worker:
        others = replace(release, reused=release.reused | theirs)
        own = [f for f in plan.render_files(platform, others, renderer) if f.owner not in theirs]
        received = worker.items()
    if received is None:
        received = their_files()
    return own + [RenderedFile(path, content, owner) for path, content, owner in received]


def _only(release: Release, models: frozenset[str]) -> Release:
    """``release`` with only ``models`` rendered."""
    return replace(release, reused=release.reused | {d.id for d in release.models} - models)
