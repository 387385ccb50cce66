"""What the gateway counts and how it splits, proven with the real nginx serving the rendered
configuration (as its pod mounts it, built by the real kustomize) in front of stand-in model
servers, and the real metrics sidecar (``modelship_runtime.gateway_exporter``, run as its
container runs it) reading nginx's syslog on loopback.

- N requests a model answers past its SLO raise its default-answer counter (reason timeout)
  by exactly N, and its request counter by N;
- a model with a canary of weight W sends W percent (±5 points over 1,000 requests) to the
  canary's Service, and every request with the same X-Request-ID to the same side.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.rendering.targets.test_gateway import StandInServer
from testsupport import processes
from testsupport.helpers import mlproject, platform_dir
from testsupport.inprocess import modelship
from testsupport.kube import gateway_config, kustomize
from testsupport.nginx import STOP_WAIT_S, free_port, running_nginx

CANARY_COMMIT = "0123456789abcdef0123456789abcdef01234567"
CANARY_WEIGHT = 20
SLOW_SLO_US = 100_000
SPLIT_REQUESTS = 1000
SLOW_REQUESTS = 5


@dataclass(frozen=True)
class Gateway:
    internal: int
    metrics: int


def _serve(servers: list[StandInServer]) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for s in servers
    ]
    for thread in threads:
        thread.start()
    return threads


def _platform(folder: Path, internal: int, exporter: int, syslog: int) -> None:
    path = folder / "platform.yaml"
    text = path.read_text()
    text = (
        text.replace("internal: 8080", f'internal: "127.0.0.1:{internal}"')
        .replace("public: 8081", f'public: "127.0.0.1:{free_port()}"')
        .replace(
            "resolver: [10.96.0.10]", f'resolver: ["127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]'
        )
        .replace(
            "\nmonitoring:",
            f"\nmonitoring:\n  gateway_exporter: {{port: {exporter}, syslog_port: {syslog}}}",
            1,
        )
    )
    path.write_text(text)


@contextlib.contextmanager
def running_exporter(port: int, syslog: int, log: Path) -> Iterator[None]:
    """The sidecar as its container runs it: ``python -m modelship_runtime.gateway_exporter``."""
    env = {**os.environ, "EXPORTER_PORT": str(port), "SYSLOG_PORT": str(syslog)}
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "modelship_runtime.gateway_exporter"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"the exporter exited with {process.returncode}: {log.read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"the exporter did not listen within 10 s: {log.read_text()}")
            time.sleep(0.05)
        yield
    finally:
        processes.stop(process, STOP_WAIT_S)


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[dict[str, StandInServer]]:
    servers = {
        "steady": StandInServer("steady", "echo"),
        "steady-canary": StandInServer("steady-canary", "echo"),
        "slow": StandInServer("slow", "slow"),
    }
    threads = _serve(list(servers.values()))
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop.set()
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(timeout=STOP_WAIT_S)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, stand_ins) -> Iterator[Gateway]:
    folder = platform_dir(
        tmp_path_factory.mktemp("traffic"),
        {
            "steady-model": mlproject(
                name="steady-model",
                id="steady",
                team="rnd",
                canary={"commit": CANARY_COMMIT, "weight": CANARY_WEIGHT},
            ),
            "slow-model": mlproject(name="slow-model", id="slow", team="rnd", slo=SLOW_SLO_US),
        },
    )
    internal, exporter, syslog = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
    _platform(folder, internal, exporter, syslog)
    result = modelship("render", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = folder / "rendered" / "staging" / "gateway"
    mounted = gateway_config(kustomize(rendered))
    assert "splits/steady.conf" in mounted  # the split is in the ConfigMaps the pod mounts
    served = tmp_path_factory.mktemp("mounted")
    for relative, content in mounted.items():
        (served / relative).parent.mkdir(parents=True, exist_ok=True)
        (served / relative).write_bytes(content)
    services = {
        "steady": "steady.models-rnd.svc.cluster.local",
        "steady-canary": "steady-canary.models-rnd.svc.cluster.local",
        "slow": "slow.models-rnd.svc.cluster.local",
    }
    (served / "upstreams").mkdir()
    (served / "upstreams" / "loopback.conf").write_text(
        "".join(
            f"upstream {services[name]} {{ server 127.0.0.1:{server.port}; }}\n"
            for name, server in sorted(stand_ins.items())
        )
    )
    prefix = tmp_path_factory.mktemp("prefix")
    with (
        running_exporter(exporter, syslog, prefix / "exporter.stderr"),
        running_nginx(prefix, served / "nginx.conf", (internal,)),
    ):
        yield Gateway(internal, exporter)


def post(port: int, model: str, request_id: str | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Content-Type": "application/json"}
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        connection.request("POST", f"/{model}/predict", b'{"input": [1, 2]}', headers)
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()


def counters(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def wait_for(port: int, key: tuple, value: float) -> float:
    """The counter once it reaches ``value`` (syslog is asynchronous), within 5 s."""
    deadline = time.monotonic() + 5
    while True:
        found = counters(port).get(key, 0.0)
        if found >= value or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_n_slow_requests_raise_the_default_answer_counter_by_n(gateway):
    timeouts = (
        "modelship_gateway_default_answers_total",
        (("model", "slow"), ("reason", "timeout"), ("track", "stable")),
    )
    requests = (
        "modelship_gateway_requests_total",
        (("code", "200"), ("model", "slow"), ("track", "stable")),
    )
    before = counters(gateway.metrics)
    for _ in range(SLOW_REQUESTS):
        assert post(gateway.internal, "slow")["default"] is True
    expected = before.get(timeouts, 0.0) + SLOW_REQUESTS
    assert wait_for(gateway.metrics, timeouts, expected) == expected
    assert counters(gateway.metrics)[requests] == before.get(requests, 0.0) + SLOW_REQUESTS
    time.sleep(0.2)  # nothing more arrives: each request counted once
    assert counters(gateway.metrics)[timeouts] == expected


def test_the_canary_takes_its_weight_of_the_requests(gateway):
    served = [post(gateway.internal, "steady")["served_by"] for _ in range(SPLIT_REQUESTS)]
    assert set(served) == {"steady", "steady-canary"}
    share = 100 * served.count("steady-canary") / SPLIT_REQUESTS
    assert abs(share - CANARY_WEIGHT) <= 5, share
    canary = (
        "modelship_gateway_requests_total",
        (("code", "200"), ("model", "steady"), ("track", "canary")),
    )
    assert wait_for(gateway.metrics, canary, served.count("steady-canary")) >= served.count(
        "steady-canary"
    )


def test_a_request_id_always_reaches_the_same_version(gateway):
    sides = {}
    for number in range(40):
        request_id = f"caller-{number}"
        seen = {post(gateway.internal, "steady", request_id)["served_by"] for _ in range(5)}
        assert len(seen) == 1, request_id
        sides[request_id] = seen.pop()
    assert set(sides.values()) == {"steady", "steady-canary"}  # ids still spread over both
