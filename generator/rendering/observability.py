"""What monitoring adds to the objects other targets render, when platform.yaml has a
``monitoring`` block: the files of a model's folder and of the gateway's, the kinds a team's
sync object may write, the gateway exporter's container.   (pure)

The objects themselves are rendered by ``targets/monitoring.py``; the kubernetes and gateway
targets list them in their kustomizations and admit Prometheus in their NetworkPolicies.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.config.settings import Monitoring, Platform
from generator.rendering.targets.base import Kind

MODEL_FILES = ("prometheusrule.yaml", "servicemonitor.yaml")
GATEWAY_FILES = ("servicemonitor.yaml",)
MONITORING_KINDS = (
    Kind("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
    Kind("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
)
METRICS_PATH = "/metrics"
DASHBOARDS_FOLDER = "monitoring"  # <env>/monitoring: the team dashboards (platform part)


def model_files(platform: Platform) -> tuple[str, ...]:
    return MODEL_FILES if platform.monitoring else ()


def gateway_files(platform: Platform) -> tuple[str, ...]:
    return GATEWAY_FILES if platform.monitoring else ()


def has_dashboards(platform: Platform) -> bool:
    return platform.monitoring is not None and platform.monitoring.grafana is not None


def dashboard_namespaces(platform: Platform) -> tuple[str, ...]:
    """Where the platform part writes besides the gateway's namespace: Grafana's."""
    grafana = platform.monitoring.grafana if platform.monitoring else None
    return (
        (grafana.namespace,) if grafana and grafana.namespace != platform.gateway.namespace else ()
    )


@dataclass(frozen=True)
class Exporter:
    """The gateway's metrics sidecar, as its Deployment and nginx.conf print it."""

    image: str
    port: int
    syslog_port: int
    command: tuple[str, ...] = ("python", "-m", "modelship_runtime.gateway_exporter")
    # A counter per model and track: a few MiB, a sliver of CPU.
    requests: tuple[tuple[str, str], ...] = (("cpu", "10m"), ("memory", "32Mi"))
    limits: tuple[tuple[str, str], ...] = (("cpu", "200m"), ("memory", "128Mi"))

    @property
    def syslog_target(self) -> str:
        """nginx's ``access_log syslog:...`` destination: the sidecar, on the pod's loopback."""
        return f"syslog:server=127.0.0.1:{self.syslog_port},nohostname,tag=modelship"

    @classmethod
    def of(cls, platform: Platform) -> Exporter | None:
        monitoring: Monitoring | None = platform.monitoring
        if monitoring is None:
            return None
        settings = monitoring.gateway_exporter
        image = settings.image or platform.jenkins.base_images["python"]
        return cls(image, settings.port, settings.syslog_port)
