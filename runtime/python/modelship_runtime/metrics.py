"""The server's Prometheus metrics, in a registry of its own (one per app)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

# Latency buckets in seconds, from 0.5 ms to 10 s (the longest SLO); the model's own SLO is
# added, so "answered within the SLO" is one bucket: modelship_model_request_duration_seconds_
# bucket{le="<slo>"}.
BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
OUTCOMES = ("ok", "invalid_input", "too_large", "model_error")


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    load_seconds: Gauge
    info: Gauge

    @classmethod
    def create(cls, slo_seconds: float) -> Metrics:
        disable_created_metrics()  # no *_created series: they only double the output
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        metrics = cls(
            registry=registry,
            requests=Counter(
                "modelship_model_requests",
                "POST /predict requests, by outcome: ok, invalid_input (400), too_large (413), "
                "model_error (500).",
                ["outcome"],
                registry=registry,
            ),
            duration=Histogram(
                "modelship_model_request_duration_seconds",
                "Time from the request's arrival to its answer, every POST /predict.",
                buckets=sorted({*BUCKETS, slo_seconds}),
                registry=registry,
            ),
            load_seconds=Gauge(
                "modelship_model_load_seconds",
                "Seconds spent checking and loading the model artifact at start-up.",
                registry=registry,
            ),
            info=Gauge(
                "modelship_model_info",
                "The model this server serves (always 1).",
                ["model", "version", "input_type", "loader"],
                registry=registry,
            ),
        )
        for outcome in OUTCOMES:  # every outcome is exported from the start, at 0
            metrics.requests.labels(outcome)
        return metrics
