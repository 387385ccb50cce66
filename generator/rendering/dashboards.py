"""A team's Grafana dashboard: one row per model of the team (a repeated row over the
``model`` variable, whose values Prometheus lists from the SLO metadata the team's
PrometheusRules record), so the dashboard needs no change when a model comes or goes.   (pure)

Per model: request rate (by track and outcome), latency against the SLO line, error budget
left over the SLO's period, the share of default answers at the gateway, ready replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.config.settings import Platform, Team
from generator.rendering import slo

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "5m"


@dataclass(frozen=True)
class DashboardFile:
    name: str  # the ConfigMap's
    path: str  # dashboards/<team>.json

    @property
    def source(self) -> str:
        """A configMapGenerator ``files`` entry: the key, then the file it holds."""
        return f"{self.path.rsplit('/', 1)[-1]}={self.path}"


@dataclass(frozen=True)
class Dashboard:
    title: str
    uid: str
    description: str
    tags: list[str]
    variables: list[dict[str, Any]]
    panels: list[dict[str, Any]]


def _target(expr: str, legend: str, ref: str) -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _panel(
    number: int,
    title: str,
    kind: str,
    grid: dict[str, int],
    targets: list[dict[str, Any]],
    unit: str,
) -> dict[str, Any]:
    return {
        "id": number,
        "title": title,
        "type": kind,
        "datasource": DATASOURCE,
        "gridPos": grid,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
    }


def expressions(namespace: str) -> dict[str, list[tuple[str, str]]]:
    """Each panel's PromQL (with Grafana's ``$model``), by panel title: what the tests parse."""
    server = f'namespace="{namespace}", job=~"$model"'
    own = f'namespace="{namespace}", model=~"$model"'
    gateway = 'model=~"$model"'
    deployments = f'namespace="{namespace}", deployment=~"$model|$model-canary"'
    return {
        "Requests per second": [
            (
                "sum by (track, outcome) "
                f"(rate(modelship_model_requests_total{{{server}}}[{RATE}]))",
                "{{track}} {{outcome}}",
            ),
        ],
        "Latency against the SLO": [
            (
                "histogram_quantile(0.5, sum by (le) "
                f"(rate({slo.DURATION}_bucket{{{server}}}[{RATE}])))",
                "p50",
            ),
            (
                "histogram_quantile(0.99, sum by (le) "
                f"(rate({slo.DURATION}_bucket{{{server}}}[{RATE}])))",
                "p99",
            ),
            (f"max({slo.LATENCY_TARGET}{{{own}}})", "SLO"),
        ],
        "Error budget left (30 days)": [
            (f"max({slo.BUDGET_REMAINING}{{{own}}})", "budget left"),
        ],
        "Default answers at the gateway": [
            (
                f"sum(rate({slo.GATEWAY_DEFAULTS}{{{gateway}}}[{RATE}])) / "
                f"sum(rate({slo.GATEWAY_REQUESTS}{{{gateway}}}[{RATE}]))",
                "share of requests",
            ),
        ],
        "Ready replicas": [
            (
                f"sum by (deployment) (kube_deployment_status_replicas_available{{{deployments}}})",
                "{{deployment}} ready",
            ),
            (
                f"sum by (deployment) (kube_deployment_spec_replicas{{{deployments}}})",
                "{{deployment}} desired",
            ),
        ],
    }


# Panel title → (type, unit, width): a row of the dashboard is 24 wide.
LAYOUT = {
    "Requests per second": ("timeseries", "reqps", 6),
    "Latency against the SLO": ("timeseries", "s", 6),
    "Error budget left (30 days)": ("stat", "percentunit", 3),
    "Default answers at the gateway": ("timeseries", "percentunit", 5),
    "Ready replicas": ("timeseries", "short", 4),
}


def team_dashboard(platform: Platform, team: Team, uid: str) -> Dashboard:
    namespace = team.namespace
    variables = [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        },
        {
            "name": "model",
            "label": "Model",
            "type": "query",
            "datasource": DATASOURCE,
            "query": {
                "query": f'label_values({slo.OBJECTIVE}{{namespace="{namespace}"}}, model)',
                "refId": "model",
            },
            "definition": f'label_values({slo.OBJECTIVE}{{namespace="{namespace}"}}, model)',
            "refresh": 2,
            "multi": True,
            "includeAll": True,
            "current": {"text": "All", "value": "$__all"},
            "sort": 1,
            "hide": 0,
        },
    ]
    panels: list[dict[str, Any]] = [
        {
            "id": 1,
            "title": "$model",
            "type": "row",
            "repeat": "model",
            "collapsed": False,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0},
            "panels": [],
        }
    ]
    x = 0
    for number, (title, queries) in enumerate(expressions(namespace).items(), start=2):
        kind, unit, width = LAYOUT[title]
        targets = [
            _target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(queries)
        ]
        panels.append(
            _panel(number, title, kind, {"h": 8, "w": width, "x": x, "y": 1}, targets, unit)
        )
        x += width
    return Dashboard(
        title=f"{platform.name} / {team.name}: models",
        uid=uid,
        description=f"The models of team {team.name} (namespace {namespace}), "
        "rendered by Modelship: traffic, latency against each model's SLO, error budget, "
        "default answers and replicas.",
        tags=["modelship", platform.name, team.name],
        variables=variables,
        panels=panels,
    )
