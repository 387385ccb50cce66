"""A render's model files made on two cores: a forked worker renders every other model that
needs rendering while this process renders the rest and the shared files.   (edge: processes)

Rendering is a pure function of the release (``rendering/plan.py``), so a file has the same
bytes whichever process makes it. The worker inherits the release, the templates and the
compiled engine by the fork, and sends back only the files its models own. Whatever the worker
does not deliver (it fails, dies, or goes quiet for ``WAIT_S``), this process renders itself:
the result, and any template error, are those of ``plan.render_files``.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from multiprocessing.connection import Connection

from generator.config.settings import Platform
from generator.rendering import plan
from generator.rendering.deployment import Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.templating import Renderer

# Below this many models to render, one process does it all: starting a worker and sending
# its files back costs more than half the rendering saves.
MIN_MODELS = 200
BATCH = 1_000  # files per message from the worker
WAIT_S = 600.0  # the longest the worker's files are waited for


def render_files(
    platform: Platform, release: Release, renderer: Renderer, *, least: int = MIN_MODELS
) -> list[RenderedFile]:
    """``plan.render_files``, with half the models rendered by a forked worker when at least
    ``least`` models are rendered and the process can fork safely (more than one core, no
    other thread that could hold a lock across the fork)."""
    rendering = [d.id for d in release.models if release.renders(d.id)]
    if len(rendering) < least or not can_fork():
        return list(plan.render_files(platform, release, renderer))
    theirs = frozenset(rendering[1::2])
    # Objects made so far are left alone by the collector, in both processes: the worker's
    # collections would otherwise touch, and so copy, every page the fork shares.
    gc.freeze()
    try:
        with Worker(platform, release, renderer, theirs) as worker:
            others = replace(release, reused=release.reused | theirs)
            own = _not_owned_by(plan.render_files(platform, others, renderer), theirs)
            received = worker.files()
    finally:
        gc.unfreeze()
    if received is None:
        received = _owned_by(plan.render_files(platform, _only(release, theirs), renderer), theirs)
    return own + received


class Worker:
    """A forked process that renders the files ``models`` own and sends them back in batches
    of ``BATCH``, then None; False when it could not make them."""

    def __init__(
        self, platform: Platform, release: Release, renderer: Renderer, models: frozenset[str]
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_work,
            args=(sending, platform, _only(release, models), renderer, models),
            name="modelship-render",
            daemon=True,
        )
        self._process.start()
        sending.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def files(self) -> list[RenderedFile] | None:
        """The worker's files; None when it did not deliver them all within ``WAIT_S``."""
        files: list[RenderedFile] = []
        deadline = time.monotonic() + WAIT_S
        while (left := deadline - time.monotonic()) > 0 and self._receiving.poll(left):
            try:
                batch = self._receiving.recv()
            except (EOFError, OSError):
                return None
            if batch is None:
                return files
            if batch is False:
                return None
            files.extend(RenderedFile(path, content, owner) for path, content, owner in batch)
        return None

    def stop(self) -> None:
        """Close the pipe and wait for the worker; one still running is killed."""
        self._receiving.close()
        self._process.join(timeout=1.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def can_fork() -> bool:
    return (
        len(os.sched_getaffinity(0)) > 1
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def _only(release: Release, models: frozenset[str]) -> Release:
    """``release`` with only ``models`` rendered."""
    return replace(release, reused=release.reused | {d.id for d in release.models} - models)


def _owned_by(files: Iterable[RenderedFile], models: frozenset[str]) -> list[RenderedFile]:
    return [f for f in files if f.owner in models]


def _not_owned_by(files: Iterable[RenderedFile], models: frozenset[str]) -> list[RenderedFile]:
    return [f for f in files if f.owner not in models]


def _work(
    sending: Connection,
    platform: Platform,
    release: Release,
    renderer: Renderer,
    theirs: frozenset[str],
) -> None:
    """The worker's side of ``Worker``: ``release`` renders only ``theirs``."""
    # An interrupt is the parent's to handle: it stops the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        made = [
            (f.path, f.content, f.owner)
            for f in _owned_by(plan.render_files(platform, release, renderer), theirs)
        ]
    except Exception:  # the parent renders these files again, and reports what went wrong
        sending.send(False)
        return
    try:
        for start in range(0, len(made), BATCH):
            sending.send(made[start : start + BATCH])
        sending.send(None)
    except OSError:
        return  # the parent stopped listening: it renders these files itself
