"""Monitoring (Prometheus Operator, Grafana), per environment, when platform.yaml has a
``monitoring`` block.

<env>/kubernetes/<namespace>/<id>/servicemonitor.yaml   Prometheus scrapes the model's /metrics
                                                        (its canary's too: one job, the
                                                        `track` label tells them apart)
<env>/kubernetes/<namespace>/<id>/prometheusrule.yaml   its SLO (slo.py): SLI recordings,
                                                        error-budget metadata, burn-rate alerts,
                                                        fallback share, no ready replicas
<env>/gateway/servicemonitor.yaml                       the gateway exporter's /metrics
<env>/monitoring/kustomization.yaml                     (with grafana) one dashboard ConfigMap
<env>/monitoring/dashboards/<team>.json                 per team, in Grafana's namespace,
                                                        labelled for its dashboard sidecar

The model's objects are listed by its own kustomization (kubernetes.py reads
``observability.model_files``), the gateway's by the gateway's, the dashboards by the
platform part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generator.config.settings import Environment, Monitoring, Platform, Team
from generator.rendering import dashboards, observability, slo
from generator.rendering.deployment import ModelDeployment, Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.targets.gateway import GatewayObjects
from generator.rendering.targets.kubernetes import team_folder, teams_of
from generator.rendering.templating import Renderer


def dashboard_uid(platform: Platform, team: Team) -> str:
    return f"modelship-{platform.name}-{team.name}"[:40]


def dashboard_url(monitoring: Monitoring, uid: str, model_id: str) -> str | None:
    if monitoring.grafana is None:
        return None
    return f"{monitoring.grafana.url.rstrip('/')}/d/{uid}?var-model={model_id}"


@dataclass(frozen=True)
class ScrapeTarget:
    """What a ServiceMonitor prints, each a whole value."""

    name: str
    namespace: str
    labels: dict[str, str]
    selector: dict[str, str]
    job_label: str
    port: str
    interval: str
    path: str = observability.METRICS_PATH


def model_subject(platform: Platform, monitoring: Monitoring, m: ModelDeployment) -> slo.Subject:
    team = platform.teams[m.team]
    deployments = (m.id,) if m.canary is None else (m.id, m.canary.name)
    return slo.Subject(
        id=m.id,
        namespace=m.namespace,
        team=m.team,
        slo_seconds=m.slo_us / 1_000_000,
        objective=m.objective,
        fallback_share=monitoring.fallback_share,
        deployments=deployments,
        runbook_url=monitoring.runbook_url,
        dashboard_url=dashboard_url(monitoring, dashboard_uid(platform, team), m.id),
    )


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    monitoring = platform.monitoring
    if monitoring is None:
        return
    object_labels = monitoring.prometheus.object_labels
    # Two environments that run a model alike (they differ in its instances or resources)
    # give it the same two files: made once, by the values they are made of.
    made: dict[tuple[object, ...], tuple[bytes, bytes]] = {}
    for placed in release.environments:
        env = placed.environment
        folders = {team.namespace: team_folder(env, team) for team in teams_of(platform)}
        for m in placed.deployments:
            if m.namespace in folders and release.renders(m.id):
                subject = model_subject(platform, monitoring, m)
                labels = {**m.labels, **object_labels}
                selector = m.model_pod_selector
                key = (subject, tuple(labels.items()), tuple(selector.items()))
                if key not in made:
                    made[key] = _model(monitoring, subject, labels, selector, renderer)
                scrape, rules = made[key]
                folder = f"{folders[m.namespace]}/{m.id}"
                yield RenderedFile(f"{folder}/servicemonitor.yaml", scrape, owner=m.id)
                yield RenderedFile(f"{folder}/prometheusrule.yaml", rules, owner=m.id)
        gateway = GatewayObjects.of(platform, placed)
        yield RenderedFile(
            f"{env.name}/gateway/servicemonitor.yaml",
            renderer.render(
                "monitoring/servicemonitor.yaml.j2",
                target=ScrapeTarget(
                    name=gateway.name,
                    namespace=gateway.namespace,
                    labels={**gateway.labels, **object_labels},
                    selector=gateway.selector_labels,
                    job_label="app.kubernetes.io/name",
                    port="metrics",
                    interval=monitoring.prometheus.scrape_interval,
                ),
                track=False,
            ),
        )
        if monitoring.grafana is not None:
            yield from _dashboards(platform, monitoring, env, renderer)


def _model(
    monitoring: Monitoring,
    subject: slo.Subject,
    labels: dict[str, str],
    selector: dict[str, str],
    renderer: Renderer,
) -> tuple[bytes, bytes]:
    """The model's ServiceMonitor and PrometheusRule: made of ``subject``, ``labels`` and
    ``selector`` only (the key render() keeps them by)."""
    target = ScrapeTarget(
        name=subject.id,
        namespace=subject.namespace,
        labels=labels,
        selector=selector,
        job_label="app.kubernetes.io/name",
        port="http",
        interval=monitoring.prometheus.scrape_interval,
    )
    return (
        renderer.render("monitoring/servicemonitor.yaml.j2", target=target, track=True),
        renderer.render(
            "monitoring/prometheusrule.yaml.j2",
            subject=subject,
            labels=labels,
            groups=slo.groups(subject),
        ),
    )


def _dashboards(
    platform: Platform, monitoring: Monitoring, env: Environment, renderer: Renderer
) -> Iterator[RenderedFile]:
    grafana = monitoring.grafana
    assert grafana is not None
    folder = f"{env.name}/{observability.DASHBOARDS_FOLDER}"
    files = []
    for team in teams_of(platform):
        path = f"dashboards/{team.name}.json"
        files.append(path)
        board = dashboards.team_dashboard(platform, team, dashboard_uid(platform, team))
        yield RenderedFile(
            f"{folder}/{path}", renderer.render("monitoring/dashboard.json.j2", d=board)
        )
    yield RenderedFile(
        f"{folder}/kustomization.yaml",
        renderer.render(
            "monitoring/kustomization.yaml.j2",
            grafana=grafana,
            platform=platform,
            dashboards=[
                dashboards.DashboardFile(f"{platform.name}-dashboard-{team.name}", path)
                for team, path in zip(teams_of(platform), files, strict=True)
            ],
        ),
    )
