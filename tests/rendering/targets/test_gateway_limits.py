"""nginx reads one configuration token of at most 4 KiB. A default_output at the contract's
limit (4096 characters), made of the characters the escaping expands most — quotes and
backslashes (JSON, then nginx), '$' (nginx's variable spelling), characters outside the BMP
(JSON's surrogate pairs) — must still give a gateway configuration `nginx -t` accepts, and the
answer must come back byte for byte from a real nginx."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.rendering import escapers
from generator.rendering.targets.gateway import output_value
from testsupport.helpers import mlproject, platform_dir
from testsupport.inprocess import modelship
from testsupport.nginx import free_port, nginx_command, predict, running_nginx

ENV = "staging"  # the environment whose gateway nginx serves
LIMIT = 4096  # the contract's longest default_output (schemas/mlproject.schema.json)
OUTPUTS = {
    "quotes": '"' * LIMIT,
    "backslashes": "\\" * LIMIT,
    "dollars": "$" * LIMIT,
    "astral": "\U0001f600" * LIMIT,
    "mixed": ("\"\\$\U0001f600é\n{}'" * LIMIT)[:LIMIT],
    "short": "0.0",
    "json": "[" + ", ".join(["0.5"] * 819) + "]",  # a JSON list of 4,095 characters
}


@pytest.fixture(scope="module")
def long_answers(tmp_path_factory) -> Iterator[tuple[int, dict[str, str], Path]]:
    """A rendered platform whose models all answer their (long) default; nginx serving it."""
    folder = platform_dir(
        tmp_path_factory.mktemp("limits"),
        {
            f"{name}-model": mlproject(name=f"{name}-model", id=name, default_output=output)
            for name, output in OUTPUTS.items()
        },
    )
    internal, public = free_port(), free_port()
    platform_file = folder / "platform.yaml"
    platform_file.write_text(
        platform_file.read_text()
        .replace("internal: 8080", f'internal: "127.0.0.1:{internal}"')
        .replace("public: 8081", f'public: "127.0.0.1:{public}"')
        .replace(
            "resolver: [10.96.0.10]", f'resolver: ["127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]'
        )
    )
    result = modelship("render", cwd=folder)
    assert result.returncode == 0, result.stderr
    gateway = folder / "rendered" / ENV / "gateway"
    down = free_port()  # nothing listens there: every model is unavailable
    (gateway / "upstreams").mkdir()
    (gateway / "upstreams" / "down.conf").write_text(
        "".join(
            f"upstream {name}.models-rnd.svc.cluster.local {{ server 127.0.0.1:{down}; }}\n"
            for name in OUTPUTS
        )
    )
    routes = {name: (gateway / "routes" / f"{name}.conf").read_text() for name in OUTPUTS}
    prefix = tmp_path_factory.mktemp("prefix")
    with running_nginx(prefix, gateway / "nginx.conf", (internal, public)):
        yield internal, routes, gateway / "nginx.conf"


def test_nginx_accepts_answers_at_the_contracts_limit(long_answers, tmp_path):
    result = subprocess.run(
        nginx_command(tmp_path, long_answers[2], "-t"), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_a_long_default_answer_comes_back_byte_for_byte(long_answers, name):
    port = long_answers[0]
    answer = predict(port, name)
    assert answer.status == 200
    body = answer.json()
    assert body["output"] == output_value(OUTPUTS[name])
    assert body["default"] is True


def test_no_token_of_a_route_file_is_longer_than_nginx_reads(long_answers):
    for name, text in long_answers[1].items():
        for line in text.splitlines():
            assert len(line.encode()) < escapers.NGINX_TOKEN_BYTES, (name, len(line))


def test_a_short_answer_is_still_one_token(long_answers):
    route = long_answers[1]["short"]
    expected = json.dumps(
        {"output": 0.0, "default": True, "default_explanation": "model short is unavailable"}
    )
    assert f"    return 200 {escapers.nginx_token(expected)};\n" in route
