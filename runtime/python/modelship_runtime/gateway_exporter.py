"""The gateway's metrics sidecar: nginx sends each access-log line (the JSON of its
``modelship_json`` log format) over syslog to this process on the pod's loopback, and it
serves per-model counters on /metrics.

Run as ``python -m modelship_runtime.gateway_exporter``; settings from the environment:
``EXPORTER_PORT`` (9113, /metrics on every address), ``SYSLOG_PORT`` (9514, UDP on
127.0.0.1 only: nothing outside the pod can feed it).

    modelship_gateway_requests_total{model, track, code}          every request a route matched
    modelship_gateway_default_answers_total{model, track, reason} of those, the default answers
                                                                  (reason: timeout | unavailable)
    modelship_gateway_unreadable_log_lines_total                  lines that were not the JSON

Why a sidecar: the gateway image is a stock nginx (no Lua, no VTS module), and nginx's own
stub_status knows nothing per location; its access log already says, per request, which model
answered and whether the answer was the default.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType

from prometheus_client import CollectorRegistry, Counter, start_http_server

DEFAULT_PORT = 9113
DEFAULT_SYSLOG_PORT = 9514
DATAGRAM_BYTES = 65535
REASONS = ("timeout", "unavailable")


@dataclass(frozen=True)
class GatewayMetrics:
    registry: CollectorRegistry
    requests: Counter
    defaults: Counter
    unreadable: Counter

    @classmethod
    def create(cls) -> GatewayMetrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            requests=Counter(
                "modelship_gateway_requests",
                "Requests a model's route matched, by model, track (stable or canary) and status.",
                ["model", "track", "code"],
                registry=registry,
            ),
            defaults=Counter(
                "modelship_gateway_default_answers",
                "Requests the gateway answered with the model's default answer, by reason: "
                "timeout (past the SLO) or unavailable (refused, down, 502/503/504).",
                ["model", "track", "reason"],
                registry=registry,
            ),
            unreadable=Counter(
                "modelship_gateway_unreadable_log_lines",
                "Syslog messages that held no access-log JSON object.",
                registry=registry,
            ),
        )

    def count(self, message: bytes) -> None:
        """One syslog message: ``<PRI>timestamp tag: {json}``."""
        start = message.find(b"{")
        try:
            line = json.loads(message[start:]) if start >= 0 else None
        except ValueError:
            line = None
        if not isinstance(line, dict):
            self.unreadable.inc()
            return
        model = str(line.get("model") or "")
        if not model:  # no route matched: an unknown path, a body too large, /healthz
            return
        track = str(line.get("track") or "stable")
        self.requests.labels(model, track, str(line.get("status", ""))).inc()
        reason = line.get("default_answer")
        if reason in REASONS:
            self.defaults.labels(model, track, reason).inc()


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "")
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        print(f"{name}: must be a port number between 1 and 65535 (got {value!r})", file=sys.stderr)
        raise SystemExit(2)
    return int(value)


def serve(metrics: GatewayMetrics, receiver: socket.socket, stop: threading.Event) -> None:
    receiver.settimeout(0.5)
    while not stop.is_set():
        try:
            message = receiver.recv(DATAGRAM_BYTES)
        except TimeoutError:
            continue
        metrics.count(message)


def main(environ: Mapping[str, str] = os.environ) -> None:
    port = _port(environ, "EXPORTER_PORT", DEFAULT_PORT)
    syslog_port = _port(environ, "SYSLOG_PORT", DEFAULT_SYSLOG_PORT)
    metrics = GatewayMetrics.create()
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", syslog_port))
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    start_http_server(port, registry=metrics.registry)
    print(
        json.dumps({"event": "started", "metrics_port": port, "syslog_port": syslog_port}),
        file=sys.stderr,
        flush=True,
    )
    try:
        serve(metrics, receiver, stop)
    finally:
        receiver.close()


if __name__ == "__main__":
    main()
