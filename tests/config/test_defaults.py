"""Every default is written once, in the code; the schemas' ``"default"`` annotations (which
editors show) must say the same."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from generator import resources
from generator.config import loader
from generator.config.settings import Defaults, Platform
from generator.mlproject import ModelSpec

MINIMAL_PLATFORM = """\
name: minimal
github: {organization: acme}
source: {type: local, path: repos}
rendered:
  path: rendered
  repository: {url: /srv/git/rendered.git}
registry: registry.example/models
artifact_store: s3://artifacts/models
gateway: {namespace: gateway}
environments:
  staging: {gateway: {internal_host: models.internal, public_host: models.example}}
teams:
  rnd: {namespace: models-rnd}
monitoring:
  prometheus: {namespace: monitoring, pod_labels: {app.kubernetes.io/name: prometheus}}
  grafana: {namespace: monitoring, url: https://grafana.example}
"""

# Where a platform.yaml key lives on Platform when not under its own name.
PLATFORM_ALIASES = {
    "rendered.repository": "rendered_repository",
    "gateway.listen.internal": "gateway.listen_internal",
    "gateway.listen.public": "gateway.listen_public",
    "gateway.resources": "gateway",
    "consul.prefix": "consul_prefix",
    "safety.max_delete_share": "max_delete_share",
    "safety.mass_delete_floor": "mass_delete_floor",
}


def schema_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """``dotted.path`` → default, for every property of ``schema`` that declares one
    (``*`` for the values of a map, such as environments and teams)."""
    found: dict[str, Any] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            walk(resolve(schema, node["$ref"]), path)
        if "default" in node:
            found[".".join(path)] = node["default"]
        for key, child in node.get("properties", {}).items():
            walk(child, (*path, key))
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], (*path, "*"))

    walk(schema, ())
    return found


def resolve(schema: dict[str, Any], ref: str) -> Any:
    node: Any = schema
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def platform_value(platform: Platform, dotted: str) -> Any:
    for prefix in sorted(PLATFORM_ALIASES, key=len, reverse=True):
        if dotted == prefix or dotted.startswith(prefix + "."):
            dotted = PLATFORM_ALIASES[prefix] + dotted[len(prefix) :]
            break
    value: Any = platform
    for part in dotted.split("."):
        if part == "*":
            value = next(iter(value.values())) if isinstance(value, dict) else value[0]
        else:
            value = getattr(value, part)
    return value


def as_json(value: Any, root: Path) -> Any:
    if isinstance(value, Path):
        return value.relative_to(root).as_posix()
    if isinstance(value, tuple):
        return list(value)
    return value


@pytest.fixture(scope="module")
def minimal(tmp_path_factory) -> Platform:
    folder = tmp_path_factory.mktemp("minimal")
    return loader.parse(MINIMAL_PLATFORM, folder / "platform.yaml")


PLATFORM_DEFAULTS = schema_defaults(resources.schema("platform"))


def test_the_platform_schema_declares_defaults():
    assert len(PLATFORM_DEFAULTS) > 20


@pytest.mark.parametrize("dotted", sorted(PLATFORM_DEFAULTS))
def test_a_platform_schema_default_is_the_codes(minimal, dotted):
    assert as_json(platform_value(minimal, dotted), minimal.root) == PLATFORM_DEFAULTS[dotted]


MLPROJECT_DEFAULTS = schema_defaults(resources.schema("mlproject"))
SPEC_DEFAULTS = {
    field.name.replace("_", "-") if field.name == "main_language" else field.name: field.default
    for field in dataclasses.fields(ModelSpec)
    if field.default is not dataclasses.MISSING
}


@pytest.mark.parametrize("key", sorted(MLPROJECT_DEFAULTS))
def test_an_mlproject_schema_default_is_the_codes(key):
    expected = MLPROJECT_DEFAULTS[key]
    if key == "slo":  # left out, a model runs at the platform's default SLO
        assert Defaults().slo == expected
    else:
        assert as_json(SPEC_DEFAULTS[key], Path()) == expected


def test_the_index_schema_declares_no_default_of_its_own():
    assert schema_defaults(resources.schema("index")) == {}


def test_the_schema_files_are_json():
    for name in ("platform", "mlproject", "index"):
        path = resources.builtin_dir("schemas") / f"{name}.schema.json"
        assert json.loads(path.read_text()) == resources.schema(name)
