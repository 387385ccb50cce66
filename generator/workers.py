"""Forked workers: a process that does a share of a stage's items while this process does
the rest, and sends back what it made.   (edge: processes)

``spread.py`` shares out the stages that compute (a result per item) and
``rendered_tree.py`` the write's links and unlinks (``halves``). A worker inherits its
inputs by the fork. One that writes (``tied``) works only once the kernel has tied it to
this process (``linux.die_with``: it is killed when this process ends), and does nothing
where the kernel cannot. Whatever a worker does not deliver (it fails, dies, or has not
finished within ``WAIT_S``), this process does itself: the result, and any error, are
those of one process.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from generator import linux

BATCH = 1_000  # items per message from a worker
WAIT_S = 600.0  # the longest a worker's share is waited for

Item = TypeVar("Item")


def can_fork() -> bool:
    """Whether a worker may be forked: more than one core, and no other thread that could
    hold a lock across the fork."""
    return (
        _cores() > 1
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def worth(items: int, least: int) -> bool:
    """Whether a worker is worth forking for ``items``, and may be forked."""
    return items >= least and can_fork()


def _cores() -> int:
    """The cores this process may run on (where the system says; else the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def halves(
    do: Callable[[Sequence[Item]], object],
    items: Sequence[Item],
    least: int,
    *,
    again: Callable[[Sequence[Item]], object] | None = None,
) -> None:
    """``do(items)``, with the second half done by a tied worker (``Worker``) when there are
    at least ``least`` items (halves, not every other item: a half of a sorted list of paths
    keeps to its own folders). When it returns, this process has done the first half, and
    the worker the second, or else this process has given it to ``again`` (by default
    ``do``), which must do it whatever part of it the worker did. No worker runs by then:
    an error of this process's own half stops the worker before it is raised."""
    middle = len(items) // 2
    theirs = items[middle:]

    def their_half() -> list[None]:
        do(theirs)
        return [None]

    worker = started(their_half, tied=True) if worth(len(items), least) else None
    if worker is None:
        do(items)
        return
    with worker:
        do(items[:middle])
        delivered = worker.items() is not None
    if not delivered:
        (again or do)(theirs)


class Worker:
    """A forked process that runs ``make`` and sends its items back in batches of ``BATCH``,
    then None; False when ``make`` raised, or when it is ``tied`` and the kernel could not
    tie it to this process (then it runs nothing). Objects made before the fork are left
    alone by the collector while it runs (in both processes: the worker's collections would
    otherwise touch, and so copy, every page the fork shares), and while any other worker
    forked since runs: they are given back to the collector when the last one stops."""

    def __init__(self, make: Callable[[], Iterable[Any]], *, tied: bool = False) -> None:
        context = multiprocessing.get_context("fork")
        self._receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_work,
            args=(sending, make, os.getpid(), tied),
            name="modelship-worker",
            daemon=True,
        )
        gc.freeze()
        try:
            self._process.start()
        except OSError:
            _thaw_unless_shared()
            self._receiving.close()
            raise
        finally:
            sending.close()
        _SHARING.add(self)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def items(self) -> list[Any] | None:
        """What ``make`` made; None when the worker did not deliver it all within ``WAIT_S``."""
        items: list[Any] = []
        deadline = time.monotonic() + WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            try:  # a stopped worker's pipe is closed: it delivers nothing more
                if not self._receiving.poll(left):
                    return None
                batch = self._receiving.recv()
            except (EOFError, OSError):
                return None
            if batch is None:
                return items
            if batch is False:
                return None
            items.extend(batch)
        return None

    def stop(self) -> None:
        """Close the pipe and wait for the worker; one still running is killed. Stopping a
        stopped worker does nothing."""
        if self not in _SHARING:
            return
        self._receiving.close()
        self._process.join(timeout=1.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        _SHARING.discard(self)
        _thaw_unless_shared()


# The workers running now: each shares this process's pages, kept from the collector.
_SHARING: set[Worker] = set()


def _thaw_unless_shared() -> None:
    if not _SHARING:
        gc.unfreeze()


def started(make: Callable[[], Iterable[Any]], *, tied: bool = False) -> Worker | None:
    """A worker running ``make`` (``tied``: see ``Worker``); None when no process can be
    forked now (a limit on the number of processes, or on memory): then this process does
    it all."""
    try:
        return Worker(make, tied=tied)
    except OSError:
        return None


def _work(sending: Connection, make: Callable[[], Iterable[Any]], parent: int, tied: bool) -> None:
    """The worker's side of ``Worker``."""
    if not linux.die_with(parent) and tied:
        with contextlib.suppress(OSError):  # the parent has ended: nobody listens
            sending.send(False)
        return
    # An interrupt is the parent's to handle: it stops the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        made = list(make())
    except Exception:  # this process's share is made again by the parent, which reports it
        sending.send(False)
        return
    try:
        for start in range(0, len(made), BATCH):
            sending.send(made[start : start + BATCH])
        sending.send(None)
    except OSError:
        return  # the parent stopped listening: it makes this share itself
