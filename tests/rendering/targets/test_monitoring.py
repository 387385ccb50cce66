"""The monitoring target: ServiceMonitors, PrometheusRules (the SLO as Sloth and Pyrra write
it), the NetworkPolicy rule that admits Prometheus, and the team dashboards.

Every PromQL expression rendered (rules and dashboards) is parsed by promql-parser, a binding
of a Rust PromQL parser; ServiceMonitor and PrometheusRule objects, as kustomize builds them,
pass the Prometheus Operator's published CRD schemas (../shared/reference/crds); the burn-rate
arithmetic is held to the SRE workbook's worked examples.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from modelship_runtime.metrics import Metrics
from prometheus_client import generate_latest

from generator.rendering import dashboards, slo
from testsupport.helpers import mlproject, platform_dir, without_monitoring
from testsupport.inprocess import modelship
from testsupport.kube import crd_problems, kustomize

CANARY_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """The example platform, plus a model with its own objective and a canary, rendered."""
    folder = platform_dir(tmp_path_factory.mktemp("monitoring"))
    extra = folder / "examples" / "repos" / "churn-model"
    extra.mkdir()
    (extra / "MLproject").write_text(
        mlproject(
            name="churn-model",
            id="churn",
            team="rnd",
            slo=250_000,
            slo_objective=99.5,
            canary={"commit": CANARY_COMMIT, "weight": 20},
        )
    )
    result = modelship("render", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "rendered"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def rules(tree: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, rule)
        for path in sorted(tree.rglob("prometheusrule.yaml"))
        for document in documents(path)
        for group in document["spec"]["groups"]
        for rule in group["rules"]
    ]


def test_every_model_in_every_environment_has_a_servicemonitor_and_a_prometheusrule(tree):
    folders = sorted(p.parent for p in tree.glob("*/kubernetes/*/*/deployment.yaml"))
    assert len(folders) >= 12
    for folder in folders:
        listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
        assert {"servicemonitor.yaml", "prometheusrule.yaml"} <= set(listed), folder


def test_every_rendered_promql_expression_parses(tree):
    expressions = [rule["expr"] for _, rule in rules(tree)]
    # Per model: 7 SLI windows, 7 metadata recordings, 4 alerts.
    assert len(expressions) == 18 * len(list(tree.rglob("prometheusrule.yaml")))
    boards = sorted(tree.glob("*/monitoring/dashboards/*.json"))
    assert len(boards) == 2 * 4
    for board in boards:
        for panel in json.loads(board.read_text())["panels"]:
            expressions.extend(target["expr"] for target in panel.get("targets", []))
    for expr in expressions:
        promql_parser.parse(expr)  # raises on anything Prometheus would refuse


def test_the_objects_pass_the_prometheus_operator_crd_schemas(tree):
    checked = 0
    for folder in sorted(p.parent for p in tree.glob("staging/kubernetes/*/*/deployment.yaml")):
        for document in kustomize(folder):
            if document["apiVersion"] == "monitoring.coreos.com/v1":
                assert crd_problems(document) == [], folder
                checked += 1
    gateway = [d for d in kustomize(tree / "staging" / "gateway") if d["kind"] == "ServiceMonitor"]
    assert len(gateway) == 1
    assert crd_problems(gateway[0]) == []
    assert checked == 2 * 7


def test_the_sli_counts_answers_within_the_slo_bucket_and_the_gateways_unavailable_answers(tree):
    [(_, rule)] = [
        (p, r)
        for p, r in rules(tree)
        if r.get("record") == "modelship_slo:sli_error:ratio_rate1h" and "churn" in str(p)
        and "staging" in str(p)
    ]  # fmt: skip
    assert rule["labels"] == {
        "model": "churn",
        "namespace": "models-rnd",
        "team": "rnd",
        "window": "1h",
    }
    expr = rule["expr"]
    assert (
        'modelship_model_request_duration_seconds_bucket{namespace="models-rnd", job="churn", le="0.25"}[1h]'
        in expr
    )
    assert (
        'modelship_gateway_default_answers_total{model="churn", reason="unavailable"}[1h]' in expr
    )


def test_the_windows_are_the_standard_ones(tree):
    windows = sorted(
        r["labels"]["window"]
        for p, r in rules(tree)
        if "staging" in str(p) and "/churn/" in str(p) and "window" in r.get("labels", {})
    )
    assert sorted(windows) == sorted(["5m", "30m", "1h", "2h", "6h", "1d", "3d"])


def _numbers(expr: str) -> list[float]:
    """The number literals of a PromQL expression, read from its syntax tree."""
    found: list[float] = []

    def walk(node: Any) -> None:
        if isinstance(node, promql_parser.NumberLiteral):
            found.append(node.val)
        for name in ("lhs", "rhs", "expr"):
            child = getattr(node, name, None)
            if child is not None and not isinstance(child, str | int | float):
                walk(child)

    walk(promql_parser.parse(expr))
    return found


def test_the_page_alert_fires_at_14_4_and_6_times_the_budget_of_a_model_objective(tree):
    alerts = {
        r["alert"]: r
        for p, r in rules(tree)
        if "alert" in r and "staging/kubernetes/models-rnd/churn" in str(p)
    }
    page = alerts["ModelSLOBurnRatePage"]
    assert page["labels"]["severity"] == "page"
    # churn's own objective, 99.5%: a budget of 0.005.
    assert sorted(set(_numbers(page["expr"]))) == [0.005, 6.0, 14.4]
    ticket = alerts["ModelSLOBurnRateTicket"]
    assert sorted(set(_numbers(ticket["expr"]))) == [0.005, 1.0, 3.0]
    assert ticket["labels"]["severity"] == "ticket"
    for alert in alerts.values():
        assert alert["labels"]["team"] == "rnd"
        assert alert["annotations"]["runbook_url"].startswith(
            "https://github.com/acme/modelship/blob/main/RUNBOOKS.md#"
        )
        assert alert["annotations"]["dashboard_url"].endswith("?var-model=churn")


def test_a_model_without_its_own_objective_takes_the_platforms(tree):
    [(_, rule)] = [
        (p, r)
        for p, r in rules(tree)
        if r.get("record") == "modelship_slo:error_budget:ratio"
        and "staging/kubernetes/models-rnd/visual-similarity" in str(p)
    ]
    assert rule["expr"] == "vector(0.001)"


def test_the_no_ready_replicas_alert_covers_the_canary_too(tree):
    [(_, alert)] = [
        (p, r)
        for p, r in rules(tree)
        if r.get("alert") == "ModelNoReadyReplicas"
        and "staging/kubernetes/models-rnd/churn" in str(p)
    ]
    assert 'deployment=~"churn|churn-canary"' in alert["expr"]
    assert alert["labels"]["severity"] == "page"


# --------------------------------------------------------------- the workbook's arithmetic


def test_the_workbook_99_9_objective_pages_at_14_4_over_1h_and_5m():
    budget = slo.error_budget(99.9)
    assert budget == Decimal("0.001")
    page_fast, page_slow, ticket_fast, ticket_slow = slo.BURN_RATE_ALERTS
    assert (page_fast.long, page_fast.short, page_fast.factor) == ("1h", "5m", Decimal("14.4"))
    assert page_fast.threshold(budget) == Decimal("0.0144")  # an error rate of 1.44%
    assert (page_slow.long, page_slow.short, page_slow.factor) == ("6h", "30m", 6)
    assert page_slow.threshold(budget) == Decimal("0.006")
    assert (ticket_fast.long, ticket_fast.short, ticket_fast.factor) == ("1d", "2h", 3)
    assert (ticket_slow.long, ticket_slow.short, ticket_slow.factor) == ("3d", "6h", 1)


def test_the_budget_spent_when_each_alert_fires_is_the_workbooks():
    # 2% of a 30-day budget in one hour, 5% in six hours, 10% in a day or in three days.
    spent = [(a.long, a.budget_spent) for a in slo.BURN_RATE_ALERTS]
    assert spent == [
        ("1h", Decimal("0.02")),
        ("6h", Decimal("0.05")),
        ("1d", Decimal("0.1")),
        ("3d", Decimal("0.1")),
    ]


def test_the_budget_lasts_50_hours_at_14_4_and_5_days_at_6():
    page_fast, page_slow, _, ticket_slow = slo.BURN_RATE_ALERTS
    assert page_fast.hours_to_exhaustion == 50
    assert page_slow.hours_to_exhaustion == 120
    assert ticket_slow.hours_to_exhaustion == 720  # a burn rate of 1: exactly the period


@pytest.mark.parametrize(
    ("objective", "budget"),
    [(99.9, "0.001"), (99.99, "0.0001"), (99.5, "0.005"), (99, "0.01"), (95, "0.05")],
)
def test_the_error_budget_is_exact(objective, budget):
    assert slo.error_budget(objective) == Decimal(budget)


# ------------------------------------------------------------------ the server's bucket


@pytest.mark.parametrize("slo_us", [1000, 2500, 100_000, 250_000, 1_234_567, 10_000_000])
def test_the_rules_select_the_bucket_the_model_server_exports_at_its_slo(slo_us):
    metrics = Metrics.create(slo_us / 1_000_000)
    metrics.duration.observe(0.0001)
    exposed = generate_latest(metrics.registry).decode()
    wanted = f'modelship_model_request_duration_seconds_bucket{{le="{slo.go_float(slo_us / 1_000_000)}"}}'
    assert wanted in exposed


# --------------------------------------------------------------------- network and labels


def test_the_models_networkpolicy_admits_prometheus_to_the_metrics_port_only(tree):
    [policy] = documents(tree / "staging/kubernetes/models-rnd/churn/networkpolicy.yaml")
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "churn",
        "app.kubernetes.io/component": "model",
    }
    prometheus = [
        rule for rule in policy["spec"]["ingress"]
        if rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    ]  # fmt: skip
    assert prometheus == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                }
            ],
            "ports": [{"port": "http", "protocol": "TCP"}],
        }
    ]


def test_the_servicemonitor_scrapes_the_models_services_by_their_name_label(tree):
    [monitor] = documents(tree / "staging/kubernetes/models-rnd/churn/servicemonitor.yaml")
    spec = monitor["spec"]
    assert spec["selector"]["matchLabels"]["app.kubernetes.io/name"] == "churn"
    assert spec["jobLabel"] == "app.kubernetes.io/name"
    [endpoint] = spec["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("http", "/metrics", "30s")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    # Both Services the monitor selects carry the label; the pods carry their track.
    for name in ("service.yaml", "canary-service.yaml"):
        [service] = documents(tree / "staging/kubernetes/models-rnd/churn" / name)
        assert service["metadata"]["labels"]["app.kubernetes.io/name"] == "churn"


def test_the_gateway_serves_its_metrics_to_prometheus_only(tree):
    built = kustomize(tree / "staging" / "gateway")
    [deployment] = [d for d in built if d["kind"] == "Deployment"]
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    exporter = containers["exporter"]
    assert exporter["command"] == ["python", "-m", "modelship_runtime.gateway_exporter"]
    assert exporter["securityContext"]["readOnlyRootFilesystem"] is True
    [policy] = [d for d in built if d["kind"] == "NetworkPolicy"]
    metrics = [
        r
        for r in policy["spec"]["ingress"]
        if r["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    ]
    assert metrics[0]["from"][0]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "prometheus"}
    }
    [service] = [d for d in built if d["kind"] == "Service"]
    assert {"name": "metrics", "port": 9113, "targetPort": "metrics", "protocol": "TCP"} in service[
        "spec"
    ]["ports"]


# ---------------------------------------------------------------------------- dashboards


def test_each_team_gets_a_dashboard_configmap_labelled_for_grafanas_sidecar(tree):
    built = kustomize(tree / "staging" / "monitoring")
    maps = {d["metadata"]["name"]: d for d in built}
    assert sorted(maps) == [f"acme-ml-dashboard-{t}" for t in ("fraud", "pricing", "rnd", "search")]
    for config_map in maps.values():
        assert config_map["metadata"]["namespace"] == "monitoring"
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        [(key, text)] = config_map["data"].items()
        board = json.loads(text)
        assert key.endswith(".json")
        assert board["uid"] == f"modelship-acme-ml-{key.removesuffix('.json')}"
    platform = yaml.safe_load((tree / "staging" / "platform" / "kustomization.yaml").read_text())
    assert "../monitoring" in platform["resources"]


def test_a_dashboard_is_grafana_dashboard_json_with_a_row_per_model(tree):
    board = json.loads((tree / "staging/monitoring/dashboards/rnd.json").read_text())
    assert board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["model"]["includeAll"] is True
    assert 'namespace="models-rnd"' in variables["model"]["definition"]
    [row, *panels] = board["panels"]
    assert (row["type"], row["repeat"]) == ("row", "model")
    titles = [p["title"] for p in panels]
    assert titles == list(dashboards.LAYOUT)
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    assert sum(p["gridPos"]["w"] for p in panels) == 24
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"]
        assert all('"$model' in t["expr"] for t in panel["targets"])
    latency = next(p for p in panels if p["title"] == "Latency against the SLO")
    assert any(
        t["legendFormat"] == "SLO" and slo.LATENCY_TARGET in t["expr"] for t in latency["targets"]
    )


def test_without_monitoring_nothing_of_it_is_rendered(tmp_path):
    folder = without_monitoring(
        platform_dir(
            tmp_path, {"churn-model": mlproject(name="churn-model", id="churn", team="rnd")}
        )
    )
    result = modelship("render", cwd=folder)
    assert result.returncode == 0, result.stderr
    rendered = folder / "rendered"
    assert not list(rendered.rglob("servicemonitor.yaml"))
    assert not list(rendered.rglob("prometheusrule.yaml"))
    assert not (rendered / "staging" / "monitoring").exists()
    assert "syslog" not in (rendered / "staging/gateway/nginx.conf").read_text()
    [policy] = documents(rendered / "staging/kubernetes/models-rnd/churn/networkpolicy.yaml")
    assert len(policy["spec"]["ingress"]) == 1
