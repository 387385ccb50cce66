"""Forked workers: what they make comes back, what they do not finish is done here, and
none outlives the process that forked it."""

import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from generator import workers


def test_the_worker_delivers_what_it_makes():
    with workers.Worker(lambda: (n * n for n in range(2_500))) as worker:
        delivered = worker.items()
    assert delivered == [n * n for n in range(2_500)]


def test_a_stopped_worker_delivers_nothing_more():
    worker = workers.Worker(lambda: [1, 2])
    worker.stop()
    assert worker.items() is None


def test_a_worker_that_fails_delivers_nothing():
    with workers.Worker(lambda: [1 / 0]) as worker:
        assert worker.items() is None


def test_no_worker_is_forked_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, args=(10,))
    other.start()
    try:
        assert not workers.can_fork()
    finally:
        stop.set()
        other.join()
    assert workers.can_fork()


def marking(folder):
    """A ``do`` that marks each item done with a file holding the pid that did it."""

    def do(items):
        for item in items:
            (folder / item).write_text(str(os.getpid()))

    return do


def done_by(folder):
    return {path.name: int(path.read_text()) for path in folder.iterdir()}


def test_halves_does_every_item_and_the_worker_the_second_half(tmp_path):
    items = [f"{n:03}" for n in range(100)]
    workers.halves(marking(tmp_path), items, least=2)
    done = done_by(tmp_path)
    assert sorted(done) == items
    assert {done[item] for item in items[:50]} == {os.getpid()}
    [worker] = {done[item] for item in items[50:]}
    assert worker != os.getpid()


def test_halves_below_its_least_is_done_here(tmp_path):
    items = [f"{n:03}" for n in range(10)]
    workers.halves(marking(tmp_path), items, least=11)
    assert set(done_by(tmp_path).values()) == {os.getpid()}
    assert sorted(done_by(tmp_path)) == items


def test_a_half_the_worker_did_not_finish_is_done_here_again(tmp_path):
    """The worker does some of its half and fails: ``again`` is given the whole half."""
    here = os.getpid()
    mark = marking(tmp_path)
    again = []

    def do(items):
        mark(items[:3])
        if os.getpid() != here:
            raise OSError("the worker's disk is full")
        mark(items[3:])

    items = [f"{n:03}" for n in range(20)]
    workers.halves(do, items, least=2, again=lambda half: (again.append(half), mark(half)))
    assert again == [items[10:]]
    assert sorted(done_by(tmp_path)) == items
    assert set(done_by(tmp_path).values()) == {here}


def test_an_error_of_this_half_stops_the_worker_before_it_is_raised(tmp_path):
    def do(items):
        if os.getpid() == here:
            raise ValueError("this half failed")
        time.sleep(30)

    here = os.getpid()
    started = time.monotonic()
    with pytest.raises(ValueError, match="this half failed"):
        workers.halves(do, list(range(10)), least=2)
    assert multiprocessing.active_children() == []
    assert time.monotonic() - started < 20


PARENT = """
import os, pathlib, signal, sys, time
from generator import workers
pid_file = pathlib.Path(sys.argv[1])
def make():
    pid_file.write_text(str(os.getpid()))
    time.sleep(60)
    return []
worker = workers.Worker(make)
deadline = time.monotonic() + 30
while not pid_file.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
os.kill(os.getpid(), signal.SIGKILL)
"""


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_worker_dies_with_the_process_that_forked_it(tmp_path):
    """A worker that writes into a folder must not go on once its parent is killed."""
    pid_file = tmp_path / "worker.pid"
    parent = subprocess.run(
        [sys.executable, "-c", PARENT, str(pid_file)], timeout=60, capture_output=True
    )
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(worker)


def test_a_tied_worker_the_kernel_cannot_tie_does_nothing(tmp_path, monkeypatch):
    """Where the kernel cannot kill a worker with its parent, a worker that writes does not
    start writing: its share is this process's to do."""
    monkeypatch.setattr(workers.linux, "die_with", lambda parent: False)
    with workers.Worker(lambda: [(tmp_path / "written").write_text("x")], tied=True) as worker:
        assert worker.items() is None
    assert not (tmp_path / "written").exists()
    with workers.Worker(lambda: [1], tied=False) as untied:
        assert untied.items() == [1]


def test_halves_without_a_tied_worker_does_every_item_here(tmp_path, monkeypatch):
    monkeypatch.setattr(workers.linux, "die_with", lambda parent: False)
    items = [f"{n:03}" for n in range(20)]
    workers.halves(marking(tmp_path), items, least=2)
    assert sorted(done_by(tmp_path)) == items
    assert set(done_by(tmp_path).values()) == {os.getpid()}


def test_what_a_running_worker_shares_stays_frozen_until_the_last_worker_stops():
    """Two workers at once (the promotions read beside index.json's check): the first to
    stop leaves the objects the other shares out of the collector's reach."""
    assert gc.get_freeze_count() == 0
    first = workers.Worker(lambda: [1])
    second = workers.Worker(lambda: [2])
    second.stop()
    assert gc.get_freeze_count() > 0
    first.stop()
    first.stop()
    assert gc.get_freeze_count() == 0
