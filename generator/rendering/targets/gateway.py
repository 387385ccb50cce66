"""Gateway: nginx configuration (openresty-compatible), one folder per environment.

<env>/gateway/nginx.conf          the internal server (every model) and the public server
                                  (exposed models only); includes routes/*.conf in both
<env>/gateway/routes/<id>.conf    the model's POST /<id>/predict: its Service, SLO timeouts
                                  and the default answers it gives when the model misses them

A route proxies to the model's Service by its DNS name held in a variable, so
nginx resolves it per request with the cluster DNS (``resolver``): a missing
Service makes that model answer its default, not the gateway fail to start.
nginx looks such a name up among its ``upstream`` blocks first; nginx.conf
includes ``upstreams/*.conf`` (empty as rendered), so an upstream block named
after a Service replaces DNS for that model — the way the tests point models
at loopback without touching a route.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from generator.config.settings import Environment, Platform
from generator.index import Preserved
from generator.rendering import escapers
from generator.rendering.deployment import ModelDeployment
from generator.rendering.escapers import Raw
from generator.rendering.targets.base import RenderedFile
from generator.rendering.templating import Renderer

# The model's Service listens on port 80, HTTP's default, so the upstream is the bare
# Service name: nginx matches an upstream block against a name without a port only.
SERVICE_DOMAIN = "svc.cluster.local"


def _json(**fields: object) -> str:
    """A response body: JSON, ASCII only (non-ASCII as \\u escapes), keys in the given order."""
    return json.dumps(fields, ensure_ascii=True)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def output_value(default_output: str) -> object:
    """The MLproject's ``default_output`` as the JSON value it spells, so that a default answer's
    ``output`` has the type of a real one (``0.0``, ``[]``, ``{"label": "none"}``); text that is
    not JSON (or holds NaN, Infinity, or a number no float can hold) stays a string."""
    try:
        value = json.loads(default_output, parse_constant=_refuse_constant)
        json.dumps(value, allow_nan=False)  # 1e999 reads as inf, which JSON cannot write
    except (ValueError, RecursionError):
        return default_output
    return value


def default_answer(output: str, explanation: str) -> str:
    """The answer a caller gets instead of the model's: the blog's Clipper-style contract."""
    return _json(output=output_value(output), default=True, default_explanation=explanation)


@dataclass(frozen=True)
class Responses:
    """The bodies the gateway answers by itself, the same for every model."""

    not_found: str
    method_not_allowed: str
    too_large: str
    healthy: str

    @classmethod
    def of(cls, platform: Platform) -> Responses:
        return cls(
            not_found=_json(error="not_found", message="no model here; call POST /<id>/predict"),
            method_not_allowed=_json(
                error="method_not_allowed",
                message='POST a JSON body such as {"input": [1.1, 5.1]}',
            ),
            too_large=_json(
                error="payload_too_large",
                message=f"the request body is larger than {platform.gateway.max_body_size}, "
                "the gateway's limit",
            ),
            healthy=_json(status="ok"),
        )


@dataclass(frozen=True)
class Server:
    name: str  # the value of $modelship_server: internal | public
    host: str
    listen: str


# nginx reads at most 4 KiB per token; an answer whose token would pass half of that is built
# in a variable of its own, piece by piece (see Answer).
ANSWER_TOKEN_BYTES = escapers.NGINX_TOKEN_BYTES // 2
ANSWER_VARIABLE = "modelship_answer"


@dataclass(frozen=True)
class Answer:
    """A default answer as ``return 200 <body>;`` prints it: the answer itself, one token —
    or, when a long default_output makes that token longer than nginx reads, a variable that
    ``set <variable> <piece>;`` directives build first, each token within the limit."""

    body: str | Raw
    pieces: tuple[Raw, ...] = ()

    @property
    def variable(self) -> Raw:
        return Raw("$" + ANSWER_VARIABLE)

    @classmethod
    def of(cls, text: str) -> Answer:
        if len(escapers.nginx_token(text).encode("utf-8")) <= ANSWER_TOKEN_BYTES:
            return cls(text)
        pieces = escapers.nginx_appends(ANSWER_VARIABLE, text, ANSWER_TOKEN_BYTES)
        return cls(Raw("$" + ANSWER_VARIABLE), pieces=tuple(pieces))


@dataclass(frozen=True)
class Route:
    """Everything a model's route file prints, each a whole value."""

    id: str
    path: str
    upstream: str
    exposed: bool
    timeout: str
    timeout_location: str
    unavailable_location: str
    timeout_answer: Answer
    unavailable_answer: Answer

    @classmethod
    def of(cls, deployment: ModelDeployment) -> Route:
        model_id = deployment.id
        whole_ms, rest_us = divmod(deployment.slo_us, 1000)
        slo_ms = f"{whole_ms}.{rest_us:03d}".rstrip("0").rstrip(".")
        return cls(
            id=model_id,
            path=deployment.route,
            upstream=f"{model_id}.{deployment.namespace}.{SERVICE_DOMAIN}",
            exposed=deployment.exposed,
            # nginx times in whole milliseconds; rounding up never cuts a model's SLO short.
            timeout=f"{whole_ms + (rest_us > 0)}ms",
            timeout_location=f"@{model_id}-timeout",
            unavailable_location=f"@{model_id}-unavailable",
            timeout_answer=Answer.of(
                default_answer(
                    deployment.default_output,
                    f"model {model_id} did not answer within its SLO of {slo_ms} ms",
                )
            ),
            unavailable_answer=Answer.of(
                default_answer(deployment.default_output, f"model {model_id} is unavailable")
            ),
        )


def servers(platform: Platform, env: Environment) -> tuple[Server, Server]:
    gateway = platform.gateway
    return (
        Server("internal", env.internal_host, gateway.listen_internal),
        Server("public", env.public_host, gateway.listen_public),
    )


def render(
    platform: Platform,
    deployments: Sequence[ModelDeployment],
    renderer: Renderer,
    *,
    preserved: Sequence[Preserved] = (),  # their route and job files list nothing shared
) -> Iterator[RenderedFile]:
    responses = Responses.of(platform)
    for env in platform.environments:
        root = f"{env.name}/gateway"
        yield RenderedFile(
            f"{root}/nginx.conf",
            renderer.render(
                "gateway/nginx.conf.j2",
                env=env,
                gateway=platform.gateway,
                servers=servers(platform, env),
                responses=responses,
            ),
        )
        for deployment in deployments:
            yield RenderedFile(
                f"{root}/routes/{deployment.id}.conf",
                renderer.render(
                    "gateway/route.conf.j2",
                    m=deployment,
                    route=Route.of(deployment),
                    responses=responses,
                ),
                owner=deployment.id,
            )
