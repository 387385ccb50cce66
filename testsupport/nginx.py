"""A real nginx for tests: free loopback ports, nginx run in the foreground with every
writable path under a prefix (always stopped, within bounded waits), and HTTP calls to it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testsupport import processes

STOP_WAIT_S = 5.0


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail("nginx is not installed; run scripts/bootstrap --test, which installs it")
    return found


def nginx_command(prefix: Path, conf: Path, *extra: str) -> list[str]:
    """nginx with every writable path under ``prefix``; errors before the config loads go to stderr."""
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    return [nginx_binary(), "-p", f"{prefix}/", "-c", str(conf), "-e", "stderr", *extra]


def wait_for_ports(process: subprocess.Popen, ports: tuple[int, ...], log: Path) -> None:
    deadline = time.monotonic() + 5
    waiting = set(ports)
    while waiting:
        if process.poll() is not None:
            pytest.fail(f"nginx exited with {process.returncode}: {log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"nginx did not listen on {sorted(waiting)} within 5 s: {log.read_text()}")
        for port in list(waiting):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    waiting.discard(port)
        time.sleep(0.02)


@contextlib.contextmanager
def running_nginx(prefix: Path, conf: Path, ports: tuple[int, ...]) -> Iterator[None]:
    """nginx in the foreground until the block ends; always stopped, within bounded waits."""
    # The workers of a root master run as an unprivileged user, which cannot enter the
    # test's private temp folders; as root, keep them root.
    user = "user root; " if os.geteuid() == 0 else ""
    log = prefix / "nginx.stderr"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            nginx_command(prefix, conf, "-g", f"daemon off; {user}"),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_ports(process, ports, log)
        yield
    finally:
        processes.stop(process, STOP_WAIT_S)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    def json(self) -> object:
        assert self.headers["Content-Type"] == "application/json"
        return json.loads(self.body)


def call(port: int, method: str, path: str, body: bytes | None = None) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        started = time.monotonic()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, response.headers, data, time.monotonic() - started)
    finally:
        connection.close()


def predict(port: int, model: str, values: list[float] | None = None) -> Answer:
    payload = json.dumps({"input": values if values is not None else [1.1, 5.1]}).encode()
    return call(port, "POST", f"/{model}/predict", payload)
