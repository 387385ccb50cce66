"""Run the real model server (``python -m modelship_runtime``) as a process, as its image does."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from testsupport import processes
from testsupport.helpers import ROOT

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_pickle(folder: Path, model: object) -> tuple[Path, str]:
    """The model pickled into ``folder``; its path and sha1 (the MLproject's version)."""
    path = folder / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    return path, hashlib.sha1(path.read_bytes()).hexdigest()


def server_environment(artifact: Path, version: str, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "MODEL_ID": "churn",
        "MODEL_VERSION": version,
        "MODEL_INPUT_TYPE": "doubles",
        "MODEL_PICKLE": "true",
        "MODEL_ARTIFACT": str(artifact),
        "MODEL_SLO_MICROSECONDS": "100000",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    env.update(overrides)
    return env


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)


def call(
    port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10.0
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def predict(port: int, row: object) -> Answer:
    return call(port, "POST", "/predict", json.dumps({"input": row}).encode())


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def metrics(self) -> dict[str, float]:
        """Sample name with labels (as written) → value, the server's own metrics only."""
        text = call(self.port, "GET", "/metrics").body.decode()
        samples = {}
        for line in text.splitlines():
            if line.startswith("modelship_"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    def stop(self) -> int:
        """Its exit status after SIGTERM; TimeoutExpired when it did not drain in time."""
        status = processes.stop(self.process, STOP_TIMEOUT_S)
        if status is None:
            raise subprocess.TimeoutExpired(self.process.args, STOP_TIMEOUT_S)
        return status


def launch(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "modelship_runtime"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def wait_healthy(process: subprocess.Popen, port: int, log: Path) -> float:
    """Seconds until /healthz answered 200; fails when the process exits or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < START_TIMEOUT_S:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {log.read_text()}")
        with contextlib.suppress(OSError):
            if call(port, "GET", "/healthz", timeout=1).status == 200:
                return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(
        f"the server was not healthy within {START_TIMEOUT_S} s: {log.read_text()}"
    )


@contextlib.contextmanager
def running(env: dict[str, str], log: Path) -> Iterator[Server]:
    process = launch(env, log)
    server = Server(process, int(env["PORT"]), log)
    try:
        wait_healthy(process, server.port, log)
        yield server
    finally:
        server.stop()
