"""The gateway target, checked by a real nginx on loopback in front of stand-in model servers.

The rendered configuration runs unchanged, as the gateway's pod gets it: what `kubectl
kustomize` builds of rendered/<env>/gateway (the ConfigMaps generated from nginx.conf and the
route files, mounted at the paths the Deployment's projected volume names) is written into
a folder, checked to be byte for byte the rendered files, and served. The test platform's
``gateway.listen`` puts both servers on free loopback ports, ``nginx -p`` puts pid, logs and
temporary files in a temp folder, and a file in ``upstreams/`` (the hook nginx.conf
includes) names an upstream block after each model's Service, which nginx then uses
instead of DNS.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from generator import evaluate
from generator.config import loader, settings
from generator.errors import ConfigError
from generator.index import Index
from generator.rendering import escapers
from generator.rendering.targets.gateway import default_answer
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import ROOT, mlproject, modelship, platform_dir
from testsupport.kube import gateway_config, kustomize
from testsupport.nginx import STOP_WAIT_S, call, free_port, nginx_command, predict, running_nginx

ENV = "staging"
MAX_BODY = 16 * 1024
SLOW_SLO_US = 200_000
HOSTILE_OUTPUT = (
    'it\'s "quoted" {braces} {{ jinja }}; semi; colon: # hash\nnew line\r\ttab '
    "${HOME} $host $1 $ ${ ${modelship_dollar} ''' \"\"\" $(rm -rf /) `id` "
    'back\\slash \\n \\" \\$ caf\u00e9 \u00fc \u4e2d \U0001f600 \u2028 end$'
)


# ---------------------------------------------------------------- stand-in model servers


class StandIn(BaseHTTPRequestHandler):
    """A model container's POST /predict: answers the sum of its input, slowly, or with 503."""

    server: StandInServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        behaviour = self.server.behaviour
        if behaviour == "slow":
            self.server.stop.wait(STOP_WAIT_S)
        if behaviour == "busy":
            self._send(503, {"error": "overloaded"})
            return
        self._send(
            200,
            {
                "output": sum(json.loads(body)["input"]),
                "served_by": self.server.name,
                "path": self.path,
                "host": self.headers["Host"],
            },
        )

    def _send(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the gateway gave up on a slow answer
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, behaviour: str) -> None:
        super().__init__(("127.0.0.1", 0), StandIn)
        self.name = name
        self.behaviour = behaviour
        self.stop = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]


@dataclass(frozen=True)
class StandInModel:
    id: str
    namespace: str
    exposed: bool
    behaviour: str  # echo | slow | busy | down | unresolvable
    slo: int = 1_000_000
    default_output: str = "0.0"

    @property
    def service(self) -> str:
        return f"{self.id}.{self.namespace}.svc.cluster.local"


MODELS = {
    m.id: m
    for m in (
        StandInModel("echo", "models-rnd", exposed=True, behaviour="echo"),
        StandInModel("secret", "models-fraud", exposed=False, behaviour="echo"),
        StandInModel(
            "slow", "models-rnd", True, "slow", slo=SLOW_SLO_US, default_output=HOSTILE_OUTPUT
        ),
        StandInModel("down", "models-rnd", True, "down", default_output=HOSTILE_OUTPUT),
        StandInModel("busy", "models-search", True, "busy", default_output="busy-default"),
        # No upstream block: nginx asks the resolver, which nothing answers.
        StandInModel("ghost", "models-rnd", True, "unresolvable", slo=300_000),
    )
}
TEAMS = {"models-rnd": "rnd", "models-fraud": "fraud", "models-search": "search"}


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[dict[str, int]]:
    """Model id → loopback port; 'down' gets a port nothing listens on."""
    servers = {
        m.id: StandInServer(m.id, m.behaviour)
        for m in MODELS.values()
        if m.behaviour not in {"down", "unresolvable"}
    }
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for s in servers.values()
    ]
    for thread in threads:
        thread.start()
    try:
        yield {"down": free_port(), **{name: s.port for name, s in servers.items()}}
    finally:
        for server in servers.values():
            server.stop.set()
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(timeout=STOP_WAIT_S)


@dataclass(frozen=True)
class Gateway:
    internal: int
    public: int
    prefix: Path
    conf: Path  # the configuration served: as the pod mounts it
    rendered: Path  # rendered/<env>/gateway

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, stand_ins) -> Iterator[Gateway]:
    """The test platform rendered by the real CLI, served by nginx on two free loopback ports."""
    folder = platform_dir(
        tmp_path_factory.mktemp("gateway"),
        {
            f"{m.id}-model": mlproject(
                name=f"{m.id}-model",
                id=m.id,
                team=TEAMS[m.namespace],
                exposed=m.exposed,
                slo=m.slo,
                default_output=m.default_output,
            )
            for m in MODELS.values()
        },
    )
    internal, public = free_port(), free_port()
    platform_file = folder / "platform.yaml"
    platform_file.write_text(
        platform_file.read_text()
        .replace("max_body_size: 1m", f"max_body_size: {MAX_BODY // 1024}k")
        .replace("internal: 8080", f'internal: "127.0.0.1:{internal}"')
        .replace("public: 8081", f'public: "127.0.0.1:{public}"')
        .replace(
            "resolver: [10.96.0.10]", f'resolver: ["127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]'
        )
    )
    settings = loader.load(platform_file)
    assert (settings.gateway.listen_internal, settings.gateway.listen_public) == (
        f"127.0.0.1:{internal}",
        f"127.0.0.1:{public}",
    )
    assert settings.gateway.max_body_size == f"{MAX_BODY // 1024}k"
    assert all(env.gateway.resolver[0].startswith("127.0.0.1:") for env in settings.environments)
    result = modelship("render", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    rendered_dir = folder / "rendered" / ENV / "gateway"
    mounted = gateway_config(kustomize(rendered_dir))
    assert mounted == {
        path.relative_to(rendered_dir).as_posix(): path.read_bytes()
        for path in rendered_dir.rglob("*.conf")
    }
    assert len(mounted) == 1 + len(MODELS)
    gateway_dir = tmp_path_factory.mktemp("mounted")
    for relative, content in mounted.items():
        (gateway_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (gateway_dir / relative).write_bytes(content)
    (gateway_dir / "upstreams").mkdir()
    (gateway_dir / "upstreams" / "loopback.conf").write_text(
        "".join(
            f"upstream {MODELS[name].service} {{ server 127.0.0.1:{port}; }}\n"
            for name, port in sorted(stand_ins.items())
        )
    )
    prefix = tmp_path_factory.mktemp("prefix")
    conf = gateway_dir / "nginx.conf"
    with running_nginx(prefix, conf, (internal, public)):
        yield Gateway(internal, public, prefix, conf, rendered_dir)


def access_log_lines(gateway: Gateway) -> list[dict]:
    return [json.loads(line) for line in gateway.access_log.read_text().splitlines()]


# -------------------------------------------------------------------------- the contract


def test_a_normal_answer_passes_through_to_the_models_service(gateway):
    answer = predict(gateway.internal, "echo", [1.5, 2.0])
    assert answer.status == 200
    assert answer.json() == {
        "output": 3.5,
        "served_by": "echo",
        "path": "/predict",
        "host": "echo.models-rnd.svc.cluster.local",
    }


def test_an_exposed_model_answers_on_the_public_server_too(gateway):
    answer = predict(gateway.public, "echo")
    assert answer.status == 200
    assert answer.json()["served_by"] == "echo"


def test_a_slow_model_gets_its_default_answer_within_about_its_slo(gateway):
    answer = predict(gateway.internal, "slow")
    slo = SLOW_SLO_US / 1_000_000
    assert answer.status == 200
    assert slo * 0.9 <= answer.seconds < slo + 0.5
    assert answer.body == default_answer(
        HOSTILE_OUTPUT, "model slow did not answer within its SLO of 200 ms"
    ).encode("ascii")
    assert answer.json() == {
        "output": HOSTILE_OUTPUT,
        "default": True,
        "default_explanation": "model slow did not answer within its SLO of 200 ms",
    }


def test_an_unavailable_model_gets_its_default_answer(gateway):
    answer = predict(gateway.public, "down")
    assert answer.status == 200
    assert answer.seconds < 0.5
    assert answer.json() == {
        "output": HOSTILE_OUTPUT,
        "default": True,
        "default_explanation": "model down is unavailable",
    }


def test_a_model_whose_service_cannot_be_resolved_gets_its_default_answer(gateway):
    answer = predict(gateway.internal, "ghost")
    assert answer.status == 200
    assert answer.seconds < 0.3 + 0.5
    assert answer.json() == {
        "output": 0.0,  # default_output "0.0" is JSON: the default has a real answer's type
        "default": True,
        "default_explanation": "model ghost is unavailable",
    }


def test_a_model_answering_503_gets_its_default_answer(gateway):
    answer = predict(gateway.internal, "busy")
    assert answer.status == 200
    assert answer.json() == {
        "output": "busy-default",
        "default": True,
        "default_explanation": "model busy is unavailable",
    }


def test_a_hostile_default_output_comes_back_byte_exact_in_valid_json(gateway):
    answer = predict(gateway.internal, "down")
    # The exact bytes a JSON encoder writes for the value: nothing nginx added or expanded.
    assert json.dumps(HOSTILE_OUTPUT).encode("ascii") in answer.body
    assert json.loads(answer.body)["output"] == HOSTILE_OUTPUT


def test_an_unexposed_model_exists_only_on_the_internal_server(gateway):
    public = predict(gateway.public, "secret")
    assert public.status == 404
    assert public.body == call(gateway.public, "POST", "/no-such-model/predict", b"{}").body
    internal = predict(gateway.internal, "secret")
    assert internal.status == 200
    assert internal.json()["served_by"] == "secret"


@pytest.mark.parametrize("path", ["/nope/predict", "/echo/predict/", "/echo", "/", "/echo/x"])
def test_an_unknown_path_gets_404_json_on_both_servers(gateway, path):
    for port in (gateway.internal, gateway.public):
        answer = call(port, "POST", path, b'{"input": [1]}')
        assert answer.status == 404
        assert answer.json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_predict_takes_only_post(gateway, method):
    answer = call(gateway.internal, method, "/echo/predict")
    assert answer.status == 405
    assert answer.headers["Allow"] == "POST"
    if method != "HEAD":
        assert answer.json()["error"] == "method_not_allowed"


def test_a_body_over_the_platform_limit_gets_413_json(gateway):
    big = json.dumps({"input": [0.5] * MAX_BODY}).encode()
    answer = call(gateway.internal, "POST", "/echo/predict", big)
    assert answer.status == 413
    assert answer.json()["error"] == "payload_too_large"
    assert predict(gateway.internal, "echo", [0.5] * (MAX_BODY // 8)).status == 200


def test_the_gateway_answers_its_own_health_check(gateway):
    for port in (gateway.internal, gateway.public):
        assert call(port, "GET", "/healthz").json() == {"status": "ok"}


def test_the_access_log_is_json_with_model_and_latency(gateway):
    predict(gateway.internal, "echo")
    predict(gateway.internal, "slow")
    lines = access_log_lines(gateway)
    echo = [line for line in lines if line["model"] == "echo" and line["server"] == "internal"]
    assert echo[-1]["status"] == 200
    assert echo[-1]["upstream_status"] == "200"
    assert echo[-1]["default_answer"] == ""
    assert isinstance(echo[-1]["request_time"], float)
    slow = [line for line in lines if line["model"] == "slow"][-1]
    assert slow["status"] == 200
    assert slow["upstream_status"] == "504"
    assert slow["default_answer"] == "timeout"
    assert slow["request_time"] >= SLOW_SLO_US / 1_000_000 * 0.9
    assert slow["uri"] == "/slow/predict"


@pytest.mark.parametrize(
    ("default_output", "output"),
    [
        ("0.00", 0.0),
        ('[0.5, "x"]', [0.5, "x"]),
        ('{"label": "caf\u00e9"}', {"label": "caf\u00e9"}),
        ("null", None),
        ('"0.00"', "0.00"),  # quoted: a string
        ("0.0.0", "0.0.0"),
        ("NaN", "NaN"),
        ("1e999", "1e999"),
        ("[" * 3000, "[" * 3000),
        (HOSTILE_OUTPUT, HOSTILE_OUTPUT),
    ],
)
def test_a_default_output_that_is_json_is_answered_as_that_json_value(default_output, output):
    answer = default_answer(default_output, "model x is unavailable")
    assert answer.isascii()
    assert json.loads(answer)["output"] == output


# ------------------------------------------------------------- the example platform's tree


@pytest.mark.parametrize(
    "env", [env.name for env in loader.load(ROOT / "platform.yaml").environments]
)
def test_nginx_accepts_the_rendered_config_of_every_environment(tmp_path, env):
    conf = ROOT / "rendered" / env / "gateway" / "nginx.conf"
    result = subprocess.run(
        nginx_command(tmp_path, conf, "-t"), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr


def test_each_route_file_belongs_to_its_model_in_the_index(gateway):
    index = json.loads((gateway.rendered.parent.parent / "index.json").read_text())
    files = index["models"]["echo"]["files"]
    assert f"{ENV}/gateway/routes/echo.conf" in files
    assert f"{ENV}/gateway/nginx.conf" not in files


def rendered_routes(tmp_path: Path, **models: dict) -> dict[str, str]:
    """Route files of the staging environment for models given as id → MLproject overrides."""
    folder = platform_dir(
        tmp_path,
        {f"{i}-model": mlproject(name=f"{i}-model", id=i, **o) for i, o in models.items()},
    )
    platform = loader.load(folder / "platform.yaml")
    evaluation = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index())
    tree = helpers.plan_everywhere(platform, evaluation.models, helpers.renderer())
    return {i: tree[f"{ENV}/gateway/routes/{i}.conf"].decode() for i in models}


@pytest.mark.parametrize(
    ("slo", "timeout", "shown"),
    [
        (1000, "1ms", "1"),
        (1500, "2ms", "1.5"),
        (1001, "2ms", "1.001"),
        (10_000_000, "10000ms", "10000"),
    ],
)
def test_the_timeout_is_the_slo_rounded_up_to_whole_milliseconds(tmp_path, slo, timeout, shown):
    route = rendered_routes(tmp_path, timed={"slo": slo})["timed"]
    for directive in ("resolver_timeout", "proxy_connect_timeout", "proxy_read_timeout"):
        assert f"    {directive} {timeout};\n" in route
    assert f"within its SLO of {shown} ms" in route


# ------------------------------------------------------------------- the nginx escaper


def escaper_corpus() -> list[str]:
    """Hostile strings, every ASCII character alone, and seeded random mixtures."""
    rng = random.Random(20190109)
    alphabet = [chr(c) for c in range(1, 128)] + list(
        "\u00e9\u00fc\u4e2d\U0001f600\u2028\ufeff\x85"
    )
    fixed = [
        HOSTILE_OUTPUT,
        "",
        "fraud-score",
        "/a/b",
        "@named",
        "10.96.0.10:53",
        "$",
        "$$",
        "${",
        "${}",
        "$1",
        "${modelship_dollar}",
        "\\",
        "\\\\",
        "\\$",
        '\\"',
        "\\n",
        "~regex",
        "a;b",
        "a b",
        "# not a comment",
    ]
    singles = [chr(c) for c in range(1, 128)]
    mixtures = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(300)
    ]
    return fixed + singles + mixtures


def test_every_escaped_string_reaches_nginx_unchanged(tmp_path):
    """Through a real nginx: each value as the text of ``return`` and as the value of ``set``."""
    corpus = escaper_corpus()
    tokens = [escapers.nginx_token(value) for value in corpus]
    assert all("\n" not in token and "\r" not in token for token in tokens)
    port = free_port()
    locations = "".join(
        f"location = /return/{i} {{ return 200 {token}; }}\n"
        f"location = /set/{i} {{ set $value {token}; return 200 $value; }}\n"
        for i, token in enumerate(tokens)
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "pid logs/nginx.pid;\nerror_log logs/error.log;\nevents {}\nhttp {\n"
        f'geo ${escapers.NGINX_DOLLAR_VARIABLE} {{ default "$"; }}\n'
        "access_log off;\ndefault_type application/octet-stream;\n"
        "client_body_temp_path client_body_temp; proxy_temp_path proxy_temp;\n"
        "fastcgi_temp_path fastcgi_temp; uwsgi_temp_path uwsgi_temp; scgi_temp_path scgi_temp;\n"
        f"server {{\nlisten 127.0.0.1:{port};\n{locations}}}\n}}\n",
        encoding="utf-8",
    )
    with running_nginx(tmp_path, conf, (port,)):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            for i, value in enumerate(corpus):
                for kind in ("return", "set"):
                    connection.request("GET", f"/{kind}/{i}")
                    response = connection.getresponse()
                    assert (response.status, response.read()) == (200, value.encode()), (
                        kind,
                        value,
                        tokens[i],
                    )
        finally:
            connection.close()


# -------------------------------------------------------- the gateway's platform settings


def gateway_settings_text(listen: str = "", resolver: str = "") -> str:
    """The example platform.yaml with its gateway listen block and resolver lines replaced."""
    text = (ROOT / "platform.yaml").read_text()
    text = re.sub(r"^  listen:.*\n(^    .*\n)*", listen, text, flags=re.MULTILINE)
    return re.sub(r"^      resolver:.*\n", resolver, text, flags=re.MULTILINE)


def gateway_settings(tmp_path: Path, listen: str = "", resolver: str = "") -> settings.Platform:
    return loader.parse(gateway_settings_text(listen, resolver), tmp_path / "platform.yaml")


def test_gateway_settings_have_defaults(tmp_path):
    text = gateway_settings_text()
    assert "listen" not in text
    assert "resolver" not in text
    platform = loader.parse(text, tmp_path / "platform.yaml")
    assert (platform.gateway.listen_internal, platform.gateway.listen_public) == ("8080", "8081")
    assert {env.gateway.resolver for env in platform.environments} == {("10.96.0.10",)}


def test_listen_takes_a_port_or_an_address_and_resolver_a_list(tmp_path):
    platform = gateway_settings(
        tmp_path,
        '  listen:\n    internal: 80\n    public: "[::1]:8443"\n',
        '      resolver: [172.20.0.10, "[fd00::a]:53"]\n',
    )
    assert (platform.gateway.listen_internal, platform.gateway.listen_public) == (
        "80",
        "[::1]:8443",
    )
    assert {env.gateway.resolver for env in platform.environments} == {
        ("172.20.0.10", "[fd00::a]:53")
    }


@pytest.mark.parametrize(
    ("listen", "resolver", "message"),
    [
        (
            "  listen:\n    public: 8080\n",
            "",
            "gateway.listen.public: the public server needs a port of its own "
            "(the internal server listens on 8080)",
        ),
        (
            "  listen:\n    internal: 127.0.0.1:99999\n",
            "",
            "gateway.listen.internal: port must be between 1 and 65535",
        ),
        (
            "  listen:\n    internal: localhost\n",
            "",
            "gateway.listen.internal: must be a port or address:port",
        ),
        (
            "",
            "      resolver: [kube-dns.kube-system]\n",
            "environments.production.gateway.resolver[0]: must be a DNS server's IP address",
        ),
    ],
)
def test_bad_gateway_settings_are_named_with_their_position(tmp_path, listen, resolver, message):
    with pytest.raises(ConfigError) as caught:
        gateway_settings(tmp_path, listen, resolver)
    assert message in str(caught.value)
    assert "platform.yaml:" in str(caught.value)
