"""Serving benchmark: the model server (runtime/python) with a scikit-learn pickle, behind the
real nginx gateway running the rendered configuration.

    .venv/bin/python benchmarks/serving.py [--requests 5000] [--starts 5]

It measures
  - start to healthy: from starting ``python -m modelship_runtime`` to its first 200 on
    /healthz (the median and the slowest of --starts runs);
  - idle RSS: the server's resident memory after the requests below, once idle;
  - latency of POST /<id>/predict through the gateway (one keep-alive client connection to
    nginx, nginx to the model as rendered), p50 and p99 over --requests requests after a
    warm-up, and the same straight to the model for comparison.
Targets (DESIGN.md): p50 through the gateway under 1 ms on loopback, healthy within 2 s,
idle RSS under 150 MB with scikit-learn loaded. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sklearn.linear_model import LinearRegression

from testsupport.model_server import free_port, server_environment, write_pickle

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 300
TIMEOUT_S = 30.0
ROW = [1.1, 5.1, 0.3, 2.2]
HEALTHY_TARGET_S = 2.0
IDLE_RSS_TARGET_MB = 150
GATEWAY_P50_TARGET_MS = 1.0


def pickle_model(folder: Path) -> tuple[Path, str]:
    rng = np.random.default_rng(2019)
    features = rng.normal(size=(200, len(ROW)))
    return write_pickle(folder, LinearRegression().fit(features, features @ [1.0, -2.0, 0.5, 3.0]))


# What the base image sets (runtime/python/Dockerfile): one BLAS/OpenMP thread.
IMAGE_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def server_env(artifact: Path, version: str, port: int) -> dict[str, str]:
    return {**IMAGE_ENV, **server_environment(artifact, version, PORT=str(port))}


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def running_server(artifact: Path, version: str) -> Iterator[tuple[subprocess.Popen, int, float]]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelship_runtime"],
        env=server_env(artifact, version, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not healthy(port):
            if process.poll() is not None or time.perf_counter() - started > TIMEOUT_S:
                raise SystemExit(f"the server did not become healthy (exit {process.poll()})")
            time.sleep(0.005)
        yield process, port, time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=TIMEOUT_S)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident, shared library pages included) and RssAnon (the process's own)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "RssAnon")}


def import_rss_mb() -> float:
    """VmRSS of a bare interpreter that imports only what the model's pickle needs."""
    probe = (
        "import re, sklearn.linear_model; "
        "print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, **IMAGE_ENV}, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return int(result.stdout) / 1024


@contextlib.contextmanager
def running_gateway(work: Path, model_port: int) -> Iterator[int]:
    """The example platform plus the benchmark's model, rendered by the real CLI; nginx serves
    its staging gateway with the model's Service pinned to the server on loopback."""
    shutil.copy(ROOT / "platform.yaml", work / "platform.yaml")
    repo = work / "examples" / "repos" / "churn-model"
    repo.mkdir(parents=True)
    (repo / "MLproject").write_text(
        "name: churn-model\nid: churn\nteam: rnd\ndescription: Benchmark model\n"
        "version: 4f1255f50f5f32e93b4fb69704d23f466e468ebd\ninput_type: doubles\n"
        'default_output: "0.0"\n'
    )
    internal, public = free_port(), free_port()
    text = (work / "platform.yaml").read_text()
    (work / "platform.yaml").write_text(
        text.replace("internal: 8080", f'internal: "127.0.0.1:{internal}"')
        .replace("public: 8081", f'public: "127.0.0.1:{public}"')
        .replace("resolver: [10.96.0.10]", 'resolver: ["127.0.0.1:9"]')
    )
    subprocess.run(
        [sys.executable, "-m", "generator", "render"], cwd=work, check=True, capture_output=True
    )
    gateway = work / "rendered" / "staging" / "gateway"
    (gateway / "upstreams").mkdir()
    (gateway / "upstreams" / "bench.conf").write_text(
        f"upstream churn.models-rnd.svc.cluster.local {{ server 127.0.0.1:{model_port}; }}\n"
    )
    prefix = work / "nginx"
    (prefix / "logs").mkdir(parents=True)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    user = "user root; " if os.geteuid() == 0 else ""
    process = subprocess.Popen(
        [nginx, "-p", f"{prefix}/", "-c", str(gateway / "nginx.conf"), "-e", "stderr",
         "-g", f"daemon off; {user}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while socket.socket().connect_ex(("127.0.0.1", internal)) != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("nginx did not start")
            time.sleep(0.02)
        yield internal
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=TIMEOUT_S)


def latencies(port: int, path: str, requests: int) -> list[float]:
    """Seconds per POST over one keep-alive connection, after a warm-up."""
    body = json.dumps({"input": ROW}).encode()
    headers = {"Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    seconds = []
    try:
        for number in range(WARM_UP + requests):
            started = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
            elapsed = time.perf_counter() - started
            if number < WARM_UP:  # a cold first call may miss the SLO: not measured
                continue
            if response.status != 200 or answer["default"]:
                raise SystemExit(f"request {number}: {response.status} {answer}")
            seconds.append(elapsed)
    finally:
        connection.close()
    return seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as temp:
        work = Path(temp)
        artifact, version = pickle_model(work)
        starts = []
        for _ in range(args.starts):
            with running_server(artifact, version) as (_, _, seconds):
                starts.append(seconds)
        with running_server(artifact, version) as (process, port, _):
            with running_gateway(work, port) as gateway:
                through = latencies(gateway, "/churn/predict", args.requests)
            direct = latencies(port, "/predict", args.requests)
            time.sleep(1.0)
            idle = memory_mb(process.pid)
    healthy_s, gateway_p50_ms = statistics.median(starts), percentile(through, 0.5) * 1000
    print("| figure | value | target | value / target |")
    print("|---|---:|---:|---:|")
    print(f"| start to healthy (median; slowest of {args.starts}) | {healthy_s:.2f} s "
          f"({max(starts):.2f} s) | < {HEALTHY_TARGET_S} s | "
          f"{healthy_s / HEALTHY_TARGET_S:.2f} |")  # fmt: skip
    print(f"| idle RSS, scikit-learn loaded | {idle['VmRSS']:.0f} MB (anonymous "
          f"{idle['RssAnon']:.0f} MB; importing sklearn.linear_model alone: "
          f"{import_rss_mb():.0f} MB) | < {IDLE_RSS_TARGET_MB} MB | "
          f"{idle['VmRSS'] / IDLE_RSS_TARGET_MB:.2f} |")  # fmt: skip
    print(f"| p50 / p99 through the gateway ({len(through)} requests) | {gateway_p50_ms:.2f} ms "
          f"/ {percentile(through, 0.99) * 1000:.2f} ms | p50 < {GATEWAY_P50_TARGET_MS} ms | "
          f"{gateway_p50_ms / GATEWAY_P50_TARGET_MS:.2f} |")  # fmt: skip
    print(f"| p50 / p99 straight to the server ({len(direct)} requests) | "
          f"{percentile(direct, 0.5) * 1000:.2f} ms / {percentile(direct, 0.99) * 1000:.2f} ms "
          "| — | — |")  # fmt: skip


if __name__ == "__main__":
    main()
