"""platform.yaml → Platform: read, check (schema, then ``checks``), and build.

Building passes a dataclass only the keys platform.yaml sets, so every default comes
from ``settings`` (written there once); paths are resolved against platform.yaml's folder.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from generator import regular_file, resources, schemacheck, yamlpos
from generator.config import checks
from generator.config.settings import (
    DEFAULT_PLATFORM_FILE,
    DEFAULT_PROMOTIONS,
    DEFAULT_WORKDIR,
    ConsulEndpoint,
    ConsulSettings,
    Defaults,
    DispatchSettings,
    Environment,
    EnvironmentGateway,
    Gateway,
    GatewayExporter,
    GitHubAuth,
    GitHubLimits,
    GitHubSettings,
    GitIdentity,
    GrafanaSettings,
    ImageGate,
    InstanceRule,
    JenkinsSettings,
    ModelSelection,
    Monitoring,
    Platform,
    PrometheusSettings,
    PromotionSettings,
    PublishSettings,
    PullRequestSettings,
    RenderedRepository,
    SyncSettings,
    Team,
)
from generator.errors import ConfigError, UsageError

PLATFORM_ENV = "MODELSHIP_PLATFORM"
PLATFORM_LIMIT = 1024 * 1024  # bytes of platform.yaml read at most, from a file or a URL

T = TypeVar("T")


def is_url(value: str | None) -> bool:
    """Whether a platform's location (``--platform``, ``--index``) is a URL rather than a
    file: only ``validate`` reads one (``published.py``)."""
    return value is not None and value.startswith(("https://", "http://"))


def locate(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """The platform.yaml a command reads: ``--platform``, else ``$MODELSHIP_PLATFORM``, else
    ./platform.yaml."""
    if explicit == "":
        raise UsageError("--platform: give the path or URL of a platform.yaml, not an empty word")
    return Path(explicit or environ.get(PLATFORM_ENV) or DEFAULT_PLATFORM_FILE)


def load(path: Path) -> Platform:
    """Read, validate and resolve a platform.yaml; raise ConfigError listing every problem."""
    try:
        # --platform may name a pipe, a device such as /dev/zero, or a huge file.
        text = regular_file.read_text(path, PLATFORM_LIMIT, "a platform.yaml", follow_links=True)
    except regular_file.Unreadable as problem:
        raise ConfigError(f"{path}: {problem.message}") from None
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; pass --platform or run from the platform repository"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    return parse(text, path)


def parse(text: str, path: Path, shown: str | None = None) -> Platform:
    """The Platform of ``text``, read from ``path`` (paths resolve against its folder);
    messages name it as ``shown`` (default: the path)."""
    shown = shown or str(path)
    try:
        document = yamlpos.load(text)
    except yamlpos.YamlSyntaxError as error:
        position = error.position
        raise ConfigError(
            f"{shown}:{position.line}:{position.column}: invalid YAML: {error.message}"
        ) from None
    findings = sorted(
        schemacheck.check(document, resources.schema("platform"), shown, "platform")
        + checks.findings(document, shown, path.resolve().parent)
    )
    if findings:
        raise ConfigError("invalid platform configuration:\n" + "\n".join(map(str, findings)))
    return replace(build(document.data, path.resolve().parent), config_file=path.resolve())


def _given(
    cls: Callable[..., T],
    data: Mapping[str, Any],
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
    **fixed: Any,
) -> T:
    """``cls`` built from the keys ``data`` sets (each through ``convert[key]`` when given)
    and ``fixed``; every key ``data`` leaves out takes the dataclass's own default."""
    convert = convert or {}
    values = {key: convert.get(key, _same)(value) for key, value in data.items()}
    return cls(**values, **fixed)


def _same(value: Any) -> Any:
    return value


def build(data: dict[str, Any], root: Path) -> Platform:
    """The Platform of a checked platform.yaml document, paths resolved against ``root``."""
    source = data["source"]
    rendered = data["rendered"]
    repository = _rendered_repository(rendered.get("repository"), root)
    tree_base = repository.workdir if repository is not None else root
    templates = data.get("templates")
    optional: dict[str, Any] = {}
    if "consul" in data and "prefix" in data["consul"]:
        optional["consul_prefix"] = data["consul"]["prefix"]
    if "consul" in data and "timeout" in data["consul"]:
        optional["consul"] = ConsulSettings(timeout=data["consul"]["timeout"])
    for key in ("max_delete_share", "mass_delete_floor"):
        if key in data.get("safety", {}):
            optional[key] = data["safety"][key]
    if "defaults" in data:
        optional["defaults"] = _defaults(data["defaults"])
    if "jenkins" in data:
        optional["jenkins"] = _jenkins(data["jenkins"])
    if "publish" in data:
        optional["publish"] = _publish(data["publish"])
    if "monitoring" in data:
        optional["monitoring"] = _monitoring(data["monitoring"])
    if "image_gate" in data:
        optional["image_gate"] = _given(ImageGate, data["image_gate"])
    return Platform(
        name=data["name"],
        github=_github(data["github"], root),
        source_type=source["type"],
        source_path=(root / source["path"]) if "path" in source else None,
        rendered_path=_normal(tree_base / rendered["path"]),
        registry=data["registry"],
        artifact_store=data["artifact_store"],
        gateway=_gateway(data["gateway"]),
        environments=tuple(
            _environment(name, env) for name, env in sorted(data["environments"].items())
        ),
        teams={
            name: _given(Team, team, {"github_teams": tuple}, name=name)
            for name, team in sorted(data["teams"].items())
        },
        sync=_sync(data.get("sync", {}), rendered, repository),
        promotions=_promotions(data.get("promotions", {}), root),
        templates_path=(root / templates) if templates else None,
        root=root,
        rendered_repository=repository,
        **optional,
    )


def _normal(path: Path) -> Path:
    """``a/../b`` → ``b``: paths are compared, and shown, as the folders they name."""
    return Path(os.path.normpath(path))


def _github(data: dict[str, Any], root: Path) -> GitHubSettings:
    def auth(values: dict[str, Any]) -> GitHubAuth:
        return _given(GitHubAuth, values, {"private_key_file": lambda path: root / path})

    return _given(
        GitHubSettings,
        data,
        {
            "include_topics": tuple,
            "exclude_topics": tuple,
            "auth": auth,
            "limits": lambda values: _given(GitHubLimits, values),
        },
    )


def _environment(name: str, data: dict[str, Any]) -> Environment:
    def instances(value: Any) -> InstanceRule:
        return (
            InstanceRule(factor=value["factor"])
            if isinstance(value, dict)
            else (InstanceRule(count=value))
        )

    def models(values: dict[str, Any]) -> ModelSelection:
        return _given(ModelSelection, values, {"teams": tuple, "exclude": tuple})

    plain = {key: value for key, value in data.items() if key not in ("resources", "promotion")}
    resources_ = data.get("resources", {})
    optional = {key: resources_[key] for key in ("requests", "limits") if key in resources_}
    if "promotion" in data:
        optional["promoted_from"] = data["promotion"]["from"]
    return _given(
        Environment,
        plain,
        {
            "gateway": lambda values: _given(EnvironmentGateway, values, {"resolver": tuple}),
            "instances": instances,
            "models": models,
            "consul": lambda values: _given(ConsulEndpoint, values),
        },
        name=name,
        **optional,
    )


def _gateway(data: dict[str, Any]) -> Gateway:
    fallback = Gateway(namespace=data["namespace"])
    plain = {key: value for key, value in data.items() if key not in ("listen", "resources")}
    listen = {
        f"listen_{server}": str(address) for server, address in data.get("listen", {}).items()
    }
    resources_ = data.get("resources", {})
    return _given(
        Gateway,
        {**plain, **listen},
        requests={**fallback.requests, **resources_.get("requests", {})},
        limits={**fallback.limits, **resources_.get("limits", {})},
    )


def _sync(
    data: dict[str, Any], rendered: dict[str, Any], repository: RenderedRepository | None
) -> SyncSettings:
    """Where clusters follow the tree: sync's own keys, else the separate repository's URL
    and branch and the tree's folder (checks.py makes sure there is a URL)."""
    inherited: dict[str, Any] = {"path": rendered["path"]}
    if repository is not None:
        inherited.update(url=repository.url, branch=repository.branch)
    return _given(SyncSettings, {**inherited, **data}, {"path": posixpath.normpath})


def _promotions(data: dict[str, Any], root: Path) -> PromotionSettings:
    plain = {key: value for key, value in data.items() if key != "path"}
    path = _normal(root / data.get("path", DEFAULT_PROMOTIONS))
    return _given(PromotionSettings, plain, path=path)


def _rendered_repository(data: dict[str, Any] | None, root: Path) -> RenderedRepository | None:
    if data is None:
        return None
    plain = {key: value for key, value in data.items() if key != "workdir"}
    workdir = _normal(root / data.get("workdir", DEFAULT_WORKDIR))
    return _given(RenderedRepository, plain, workdir=workdir)


def _defaults(data: dict[str, Any]) -> Defaults:
    fallback = Defaults()
    resources_ = data.get("resources", {})
    plain = {key: value for key, value in data.items() if key != "resources"}
    return _given(
        Defaults,
        plain,
        requests={**fallback.requests, **resources_.get("requests", {})},
        limits={**fallback.limits, **resources_.get("limits", {})},
    )


def _jenkins(data: dict[str, Any]) -> JenkinsSettings:
    fallback = JenkinsSettings()
    plain = {key: value for key, value in data.items() if key != "base_images"}
    return _given(
        JenkinsSettings,
        plain,
        {"dispatch": lambda values: DispatchSettings(**values)},
        base_images={**fallback.base_images, **data.get("base_images", {})},
    )


def _publish(data: dict[str, Any]) -> PublishSettings:
    def identity(values: dict[str, Any]) -> GitIdentity:
        return GitIdentity(**values)

    return _given(
        PublishSettings,
        data,
        {
            "author": identity,
            "committer": lambda values: identity(values) if values else None,
            "pull_request": lambda values: _given(PullRequestSettings, values),
        },
    )


def _monitoring(data: dict[str, Any]) -> Monitoring:
    return _given(
        Monitoring,
        data,
        {
            "prometheus": lambda values: _given(PrometheusSettings, values),
            "objective": float,
            "fallback_share": float,
            "grafana": lambda values: _given(GrafanaSettings, values),
            "gateway_exporter": lambda values: _given(GatewayExporter, values),
        },
    )
