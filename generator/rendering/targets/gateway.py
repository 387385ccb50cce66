"""Gateway: nginx configuration (openresty-compatible) and the Kubernetes objects that run
it, one folder per environment.

<env>/gateway/nginx.conf          the internal server (every model) and the public server
                                  (exposed models only); includes routes/*.conf in both
<env>/gateway/routes/<id>.conf    the model's POST /<id>/predict: its Service, SLO timeouts
                                  and the default answers it gives when the model misses them
<env>/gateway/kustomization.yaml  the objects below, and ConfigMaps generated from nginx.conf
                                  (one) and the route files (one per team), each named with
                                  a hash of its content: a route change rolls the Deployment
<env>/gateway/namespace.yaml, deployment.yaml, service.yaml, pdb.yaml (more than one
                                  replica), networkpolicy.yaml

The Deployment runs nginx as the models run (restricted pod security, read-only root file
system) with the configuration mounted at CONFIG_DIR — a ConfigMap key cannot hold '/', so
``routes/<id>.conf`` is the key ``<id>.conf`` mapped to that path — and a writable prefix
(pid, temporary files; the logs are linked to the container's stdout and stderr).

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
from collections.abc import Iterator
from dataclasses import dataclass

from generator.config.settings import Environment, Platform, PrometheusSettings
from generator.rendering import escapers, observability
from generator.rendering.deployment import (
    MANAGED_BY,
    MODEL_PORT,
    EnvironmentRelease,
    ModelDeployment,
    Release,
)
from generator.rendering.escapers import Raw
from generator.rendering.targets.base import Kind, RenderedFile
from generator.rendering.targets.kubernetes import kept_models, team_folder
from generator.rendering.templating import Renderer

# The model's Service listens on port 80, HTTP's default, so the upstream is the bare
# Service name: nginx matches an upstream block against a name without a port only.
SERVICE_DOMAIN = "svc.cluster.local"
CONFIG_DIR = "/etc/modelship/gateway"  # nginx.conf and routes/, from the ConfigMaps
PREFIX_DIR = "/var/run/modelship-gateway"  # nginx's prefix: pid, temporary files, logs/
# The kinds of the gateway's objects (and Namespace, cluster-wide): the platform part.
GATEWAY_KINDS = (
    Kind("", "ConfigMap", "configmaps"),
    Kind("apps", "Deployment", "deployments"),
    Kind("", "Service", "services"),
    Kind("networking.k8s.io", "NetworkPolicy", "networkpolicies"),
    Kind("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
    *(kind for kind in observability.MONITORING_KINDS if kind.kind == "ServiceMonitor"),
)
OBJECT_TEMPLATES = ("namespace", "deployment", "service", "networkpolicy", "pdb")


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
    canary_upstream: str | None = None
    split_variable: Raw | None = None  # $modelship_split_<id>: stable | canary, from splits/

    @classmethod
    def of(cls, deployment: ModelDeployment) -> Route:
        model_id = deployment.id
        canary = deployment.canary
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
            canary_upstream=None
            if canary is None
            else f"{canary.name}.{deployment.namespace}.{SERVICE_DOMAIN}",
            split_variable=None if canary is None else Raw("$" + split_variable(model_id)),
        )


def split_variable(model_id: str) -> str:
    """The nginx variable a model's split sets: an id is a DNS label, so '-' → '_' is unique."""
    return "modelship_split_" + model_id.replace("-", "_")


@dataclass(frozen=True)
class Split:
    """A model's weighted split between its stable and canary Deployments (splits/<id>.conf,
    included at nginx's http level): ``split_clients`` hashes the caller's X-Request-ID (or,
    without one, nginx's own random request id) with the model id, so a request id always
    lands on the same side, and requests without one spread by weight."""

    id: str
    key: Raw  # hashed: the request's key, then the id
    variable: Raw
    canary_share: Raw  # "10%"

    @classmethod
    def of(cls, deployment: ModelDeployment) -> Split | None:
        canary = deployment.canary
        if canary is None:
            return None
        return cls(
            id=deployment.id,
            key=Raw(f'"${{{SPLIT_KEY_VARIABLE}}}{deployment.id}"'),
            variable=Raw("$" + split_variable(deployment.id)),
            canary_share=Raw(f"{canary.weight}%"),
        )


SPLIT_KEY_VARIABLE = "modelship_split_key"  # nginx.conf: X-Request-ID, else $request_id


def servers(platform: Platform, env: Environment) -> tuple[Server, Server]:
    gateway = platform.gateway
    return (
        Server("internal", env.gateway.internal_host, gateway.listen_internal),
        Server("public", env.gateway.public_host, gateway.listen_public),
    )


def port_of(listen: str) -> int:
    """The port of an nginx ``[address:]port``."""
    return int(listen.rpartition(":")[2])


@dataclass(frozen=True)
class ConfigFile:
    key: str  # the ConfigMap key
    path: str  # the file's path under CONFIG_DIR, and in the rendered folder

    @property
    def source(self) -> str:
        """A configMapGenerator ``files`` entry: the key, then the file it holds."""
        return f"{self.key}={self.path}"


@dataclass(frozen=True)
class ConfigMapSource:
    name: str  # before kustomize appends the content hash
    files: tuple[ConfigFile, ...]


@dataclass(frozen=True)
class GatewayObjects:
    """Everything the gateway's Kubernetes templates print, each a whole value."""

    name: str
    namespace: str
    image: str
    replicas: int
    requests: dict[str, str]
    limits: dict[str, str]
    labels: dict[str, str]
    selector_labels: dict[str, str]
    internal_port: int
    public_port: int
    model_port: int
    model_namespaces: tuple[str, ...]
    config_maps: tuple[ConfigMapSource, ...]
    command: tuple[str, ...]
    exporter: observability.Exporter | None = None
    prometheus: PrometheusSettings | None = None
    config_dir: str = CONFIG_DIR
    prefix_dir: str = PREFIX_DIR
    logs_dir: str = f"{PREFIX_DIR}/logs"

    @classmethod
    def of(cls, platform: Platform, release: EnvironmentRelease) -> GatewayObjects:
        gateway = platform.gateway
        selector = {
            "app.kubernetes.io/name": gateway.name,
            "app.kubernetes.io/instance": gateway.name,
        }
        maps = [ConfigMapSource(f"{gateway.name}-nginx", (ConfigFile("nginx.conf", "nginx.conf"),))]
        env = release.environment
        kept_routes = {path for item in release.preserved for path in item.files}
        by_team: dict[str, list[ModelDeployment]] = {}
        for deployment in release.deployments:
            by_team.setdefault(deployment.team, []).append(deployment)
        for team in sorted(platform.teams.values(), key=lambda t: t.name):
            ids = {d.id for d in by_team.get(team.name, ())}
            # A model kept as it was is served from its route file as the tree holds it.
            ids.update(
                model_id
                for model_id in kept_models(team_folder(env, team), release.preserved)
                if f"{env.name}/gateway/{route_file(model_id)}" in kept_routes
            )
            routes = tuple(ConfigFile(f"{i}.conf", route_file(i)) for i in sorted(ids))
            splitting = {d.id for d in by_team.get(team.name, ()) if d.canary}
            splitting.update(
                model_id
                for model_id in ids
                if f"{env.name}/gateway/{split_file(model_id)}" in kept_routes
            )
            routes += tuple(ConfigFile(f"{i}.split.conf", split_file(i)) for i in sorted(splitting))
            if routes:
                maps.append(ConfigMapSource(f"{gateway.name}-routes-{team.name}", routes))
        start = (
            f"ln -sf /dev/stdout {PREFIX_DIR}/logs/access.log && "
            f"ln -sf /dev/stderr {PREFIX_DIR}/logs/error.log && "
            f"exec nginx -p {PREFIX_DIR}/ -c {CONFIG_DIR}/nginx.conf -e stderr -g 'daemon off;'"
        )
        return cls(
            name=gateway.name,
            namespace=gateway.namespace,
            image=gateway.image,
            replicas=gateway.replicas,
            requests=dict(sorted(gateway.requests.items())),
            limits=dict(sorted(gateway.limits.items())),
            labels={
                **selector,
                "app.kubernetes.io/component": "gateway",
                "app.kubernetes.io/part-of": platform.name,
                "app.kubernetes.io/managed-by": MANAGED_BY,
            },
            selector_labels=selector,
            internal_port=port_of(gateway.listen_internal),
            public_port=port_of(gateway.listen_public),
            model_port=MODEL_PORT,
            model_namespaces=tuple(sorted(t.namespace for t in platform.teams.values())),
            config_maps=tuple(maps),
            command=("/bin/sh", "-c", start),
            exporter=observability.Exporter.of(platform),
            prometheus=platform.monitoring.prometheus if platform.monitoring else None,
        )


def route_file(model_id: str) -> str:
    """A model's route file, in the gateway's folder."""
    return f"routes/{model_id}.conf"


def split_file(model_id: str) -> str:
    """A model's split between its stable and canary versions, in the gateway's folder."""
    return f"splits/{model_id}.conf"


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    responses = Responses.of(platform)
    # One Route object for the environments that route a model alike, so that the renderer
    # (memoising by the values' identity) renders its route file once.
    routes: dict[Route, Route] = {}
    for placed in release.environments:
        env = placed.environment
        root = f"{env.name}/gateway"
        yield RenderedFile(
            f"{root}/nginx.conf",
            renderer.render(
                "gateway/nginx.conf.j2",
                env=env,
                gateway=platform.gateway,
                servers=servers(platform, env),
                responses=responses,
                exporter=observability.Exporter.of(platform),
            ),
        )
        for deployment in placed.deployments:
            if not release.renders(deployment.id):
                continue
            split = Split.of(deployment)
            if split is not None:
                yield RenderedFile(
                    f"{root}/{split_file(deployment.id)}",
                    renderer.render("gateway/split.conf.j2", m=deployment, split=split),
                    owner=deployment.id,
                )
            route = Route.of(deployment)
            yield RenderedFile(
                f"{root}/{route_file(deployment.id)}",
                renderer.render(
                    "gateway/route.conf.j2",
                    m=deployment,
                    model=deployment.identity,
                    route=routes.setdefault(route, route),
                    responses=responses,
                ),
                owner=deployment.id,
            )
        objects = GatewayObjects.of(platform, placed)
        names = [n for n in OBJECT_TEMPLATES if n != "pdb" or objects.replicas > 1]
        for name in names:
            yield RenderedFile(
                f"{root}/{name}.yaml",
                renderer.render(f"gateway/{name}.yaml.j2", platform=platform, gw=objects),
            )
        yield RenderedFile(
            f"{root}/kustomization.yaml",
            renderer.render(
                "gateway/kustomization.yaml.j2",
                gw=objects,
                resources=sorted(
                    [f"{name}.yaml" for name in names] + list(observability.gateway_files(platform))
                ),
            ),
        )
