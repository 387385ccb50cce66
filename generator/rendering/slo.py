"""A model's SLO as Prometheus rules: SLI recordings over the standard windows, error-budget
metadata, and multi-window multi-burn-rate alerts as Google's SRE workbook ("Alerting on
SLOs") sets them out, in the manner of Sloth and Pyrra.   (pure)

The SLO: over 30 days, ``objective`` percent of a model's requests are answered by the model
itself within its ``slo``. An event is one POST /predict the model server observed
(``modelship_model_request_duration_seconds``, whose histogram has a bucket at exactly the
SLO) or one the gateway answered by default because the model was unavailable (refused,
down, 502/503/504: the server never saw it). Good: the server's bucket at the SLO. A request
the gateway gave up on (a timeout) is bad through the server's own histogram, which records
it past the SLO when it finally answers; the gateway's timeouts are therefore not added.

Every number is a Decimal made from the objective's decimal spelling, so 99.9 gives an
error budget of exactly 0.001 and a page threshold of exactly 0.0144.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PERIOD_DAYS = 30
PERIOD_HOURS = Decimal(PERIOD_DAYS * 24)
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
_UNIT_HOURS = {"m": Decimal(1) / 60, "h": Decimal(1), "d": Decimal(24)}

# Metric names: the model server's (runtime/python/modelship_runtime/metrics.py) and the
# gateway exporter's (runtime/python/modelship_runtime/gateway_exporter.py).
DURATION = "modelship_model_request_duration_seconds"
GATEWAY_REQUESTS = "modelship_gateway_requests_total"
GATEWAY_DEFAULTS = "modelship_gateway_default_answers_total"
# Recorded series, one family per quantity (Sloth's slo:* names, under our own prefix).
SLI_ERROR = "modelship_slo:sli_error:ratio_rate"  # + window
OBJECTIVE = "modelship_slo:objective:ratio"
ERROR_BUDGET = "modelship_slo:error_budget:ratio"
TIME_PERIOD = "modelship_slo:time_period:days"
CURRENT_BURN = "modelship_slo:current_burn_rate:ratio"
PERIOD_BURN = "modelship_slo:period_burn_rate:ratio"
BUDGET_REMAINING = "modelship_slo:period_error_budget_remaining:ratio"
LATENCY_TARGET = "modelship_slo:latency_target:seconds"
FALLBACK_WINDOW = "10m"


def window_hours(window: str) -> Decimal:
    return Decimal(window[:-1]) * _UNIT_HOURS[window[-1]]


@dataclass(frozen=True)
class BurnRateAlert:
    """One pair of windows of a multi-window alert: it fires when the error rate over both
    ``long`` and ``short`` is more than ``factor`` times the error budget, i.e. when the
    budget would be gone ``factor`` times faster than the period; ``budget_spent`` is the
    share of the whole period's budget that rate spends within ``long``."""

    severity: str  # page | ticket
    long: str
    short: str
    budget_spent: Decimal

    @property
    def factor(self) -> Decimal:
        return (self.budget_spent * PERIOD_HOURS / window_hours(self.long)).normalize()

    def threshold(self, budget: Decimal) -> Decimal:
        """The error ratio above which this pair fires."""
        return (self.factor * budget).normalize()

    @property
    def hours_to_exhaustion(self) -> Decimal:
        """How long the whole budget lasts at this burn rate."""
        return (PERIOD_HOURS / self.factor).normalize()


# The workbook's recommendation (table 5-8 and its ticket rows, as Sloth uses them).
BURN_RATE_ALERTS = (
    BurnRateAlert("page", "1h", "5m", Decimal("0.02")),
    BurnRateAlert("page", "6h", "30m", Decimal("0.05")),
    BurnRateAlert("ticket", "1d", "2h", Decimal("0.10")),
    BurnRateAlert("ticket", "3d", "6h", Decimal("0.10")),
)


def error_budget(objective_percent: float) -> Decimal:
    """The allowed share of bad events: 99.9 → 0.001 (exact)."""
    return (1 - Decimal(str(objective_percent)) / 100).normalize()


def go_float(seconds: float) -> str:
    """A float as the Prometheus client writes a bucket's ``le`` (Python's repr: 0.1, 1.0)."""
    return repr(float(seconds))


def _number(value: Decimal) -> str:
    """A Decimal as PromQL reads it: plain digits, no exponent (0.001, 14.4, 6)."""
    return format(value.normalize(), "f")


def selector(**labels: str) -> str:
    """A PromQL label selector; values are ids, namespaces and numbers, never quotes."""
    return "{" + ", ".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


@dataclass(frozen=True)
class Rule:
    """One rule of a PrometheusRule group: a recording (``record``) or an alert."""

    expr: str
    record: str | None = None
    alert: str | None = None
    duration: str | None = None  # an alert's `for`
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Subject:
    """What the rules of one model are about."""

    id: str
    namespace: str
    team: str
    slo_seconds: float
    objective: float  # percent
    fallback_share: float  # percent
    deployments: tuple[str, ...]  # the model's Deployments (with its canary's)
    runbook_url: str | None
    dashboard_url: str | None


def groups(subject: Subject) -> tuple[Group, ...]:
    return (_sli(subject), _metadata(subject), _alerts(subject))


def _labels(subject: Subject) -> dict[str, str]:
    return {"model": subject.id, "namespace": subject.namespace, "team": subject.team}


def _own(subject: Subject) -> str:
    """The recorded series of this model."""
    return selector(model=subject.id, namespace=subject.namespace)


def sli_error_expression(subject: Subject, window: str) -> str:
    server = selector(namespace=subject.namespace, job=subject.id)
    within = selector(namespace=subject.namespace, job=subject.id, le=go_float(subject.slo_seconds))
    unavailable = selector(model=subject.id, reason="unavailable")
    return (
        f"1 - (sum(rate({DURATION}_bucket{within}[{window}])) / "
        f"(sum(rate({DURATION}_count{server}[{window}])) + "
        f"(sum(rate({GATEWAY_DEFAULTS}{unavailable}[{window}])) or vector(0))))"
    )


def _sli(subject: Subject) -> Group:
    return Group(
        f"modelship-{subject.id}-sli",
        tuple(
            Rule(
                sli_error_expression(subject, window),
                record=SLI_ERROR + window,
                labels={**_labels(subject), "window": window},
            )
            for window in WINDOWS
        ),
    )


def _metadata(subject: Subject) -> Group:
    budget = error_budget(subject.objective)
    own = _own(subject)
    labels = _labels(subject)
    objective = (Decimal(str(subject.objective)) / 100).normalize()
    period = f"{PERIOD_DAYS}d"
    return Group(
        f"modelship-{subject.id}-meta",
        (
            Rule(f"vector({_number(objective)})", record=OBJECTIVE, labels=labels),
            Rule(f"vector({_number(budget)})", record=ERROR_BUDGET, labels=labels),
            Rule(f"vector({PERIOD_DAYS})", record=TIME_PERIOD, labels=labels),
            Rule(f"vector({go_float(subject.slo_seconds)})", record=LATENCY_TARGET, labels=labels),
            Rule(
                f"{SLI_ERROR}5m{own} / on(model, namespace) group_left() {ERROR_BUDGET}{own}",
                record=CURRENT_BURN,
                labels=labels,
            ),
            Rule(
                f"avg_over_time({SLI_ERROR}5m{own}[{period}]) / on(model, namespace) "
                f"group_left() {ERROR_BUDGET}{own}",
                record=PERIOD_BURN,
                labels=labels,
            ),
            Rule(f"1 - {PERIOD_BURN}{own}", record=BUDGET_REMAINING, labels=labels),
        ),
    )


def burn_rate_expression(subject: Subject, severity: str) -> str:
    """Either pair of windows of ``severity`` burning faster than its factor."""
    budget = _number(error_budget(subject.objective))
    own = _own(subject)
    pairs = [
        f"(({SLI_ERROR}{a.long}{own} > ({_number(a.factor)} * {budget})) and "
        f"({SLI_ERROR}{a.short}{own} > ({_number(a.factor)} * {budget})))"
        for a in BURN_RATE_ALERTS
        if a.severity == severity
    ]
    return " or ".join(pairs)


def fallback_expression(subject: Subject) -> str:
    model = selector(model=subject.id)
    share = _number(Decimal(str(subject.fallback_share)) / 100)
    return (
        f"(sum(rate({GATEWAY_DEFAULTS}{model}[{FALLBACK_WINDOW}])) / "
        f"sum(rate({GATEWAY_REQUESTS}{model}[{FALLBACK_WINDOW}]))) > {share}"
    )


def no_ready_replicas_expression(subject: Subject) -> str:
    """From kube-state-metrics: a Deployment that wants pods and has none available."""
    names = "|".join(subject.deployments)
    which = f'{{namespace="{subject.namespace}", deployment=~"{names}"}}'
    return (
        f"(kube_deployment_spec_replicas{which} > 0) and "
        f"(kube_deployment_status_replicas_available{which} == 0)"
    )


def _annotations(subject: Subject, alert: str, summary: str, description: str) -> dict[str, str]:
    found = {"summary": summary, "description": description}
    if subject.runbook_url:
        found["runbook_url"] = f"{subject.runbook_url}#{alert.lower()}"
    if subject.dashboard_url:
        found["dashboard_url"] = subject.dashboard_url
    return found


def _alerts(subject: Subject) -> Group:
    labels = _labels(subject)
    slo_ms = f"{subject.slo_seconds * 1000:g} ms"
    objective = f"{subject.objective:g}%"
    rules = []
    for severity, alert in (("page", "ModelSLOBurnRatePage"), ("ticket", "ModelSLOBurnRateTicket")):
        windows = " or ".join(
            f"{_number(a.factor)}x over {a.long} and {a.short}"
            for a in BURN_RATE_ALERTS
            if a.severity == severity
        )
        rules.append(
            Rule(
                burn_rate_expression(subject, severity),
                alert=alert,
                labels={**labels, "severity": severity},
                annotations=_annotations(
                    subject,
                    alert,
                    f"Model {subject.id} is spending its error budget too fast",
                    f"The SLO of {subject.id} is {objective} of its requests answered by the "
                    f"model within {slo_ms} over {PERIOD_DAYS} days; its error rate is above "
                    f"{windows} the error budget's rate.",
                ),
            )
        )
    rules.append(
        Rule(
            fallback_expression(subject),
            alert="ModelFallbackShareHigh",
            duration="5m",
            labels={**labels, "severity": "ticket"},
            annotations=_annotations(
                subject,
                "ModelFallbackShareHigh",
                f"The gateway answers {subject.id} with its default answer too often",
                f"More than {subject.fallback_share:g}% of the requests to {subject.id} got "
                f"the default answer over {FALLBACK_WINDOW} (timeout or unavailable).",
            ),
        )
    )
    rules.append(
        Rule(
            no_ready_replicas_expression(subject),
            alert="ModelNoReadyReplicas",
            duration="5m",
            labels={**labels, "severity": "page"},
            annotations=_annotations(
                subject,
                "ModelNoReadyReplicas",
                f"Model {subject.id} has no ready pod",
                f"A Deployment of {subject.id} ({', '.join(subject.deployments)}) wants pods "
                "and has none available: every request gets the default answer.",
            ),
        )
    )
    return Group(f"modelship-{subject.id}-alerts", tuple(rules))
