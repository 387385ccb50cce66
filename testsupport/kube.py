"""The real kustomize (kubectl's), reading what it builds as a pod would see it, and the
published CRD schemas of Flux and Argo CD (../shared/reference/crds, converted to JSON
Schema; read there, never copied into the project)."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from testsupport.helpers import ROOT, tool

CRDS = ROOT.parent / "shared" / "reference" / "crds"


class KubernetesYaml(yaml.SafeLoader):
    """YAML as Kubernetes reads it: a plain ``=`` is the string "=" (PyYAML's safe loader
    knows no constructor for the YAML 1.1 'value' tag it resolves it to)."""


KubernetesYaml.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def kustomize(path: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize path`` builds; it must succeed."""
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return list(yaml.load_all(result.stdout, Loader=KubernetesYaml))


def gateway_config(documents: list[dict[str, Any]]) -> dict[str, bytes]:
    """The gateway's configuration as its pod sees it: each ConfigMap key at the path its
    Deployment's projected volume mounts it (nginx.conf, routes/<id>.conf)."""
    maps = {o["metadata"]["name"]: o["data"] for o in documents if o["kind"] == "ConfigMap"}
    [deployment] = [o for o in documents if o["kind"] == "Deployment"]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    [volume] = [v for v in volumes if v["name"] == "config"]
    files = {}
    for source in volume["projected"]["sources"]:
        data = maps[source["configMap"]["name"]]
        for item in source["configMap"]["items"]:
            files[item["path"]] = data[item["key"]].encode()
    return files


@cache
def _crd_catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads((CRDS / "catalog.json").read_text())
    return catalog["groups"]


def is_crd_kind(api_version: str, kind: str) -> bool:
    """Whether ``kind`` is one of the published custom resources (Flux's, Argo CD's, ...)."""
    group = api_version.rpartition("/")[0]
    return kind in _crd_catalog().get(group, {}).get("kinds", {})


@cache
def crd_validator(api_version: str, kind: str) -> Any:
    """The validator of the CRD's published schema for ``api_version`` (group/version)."""
    group, version = api_version.split("/")
    entry = _crd_catalog()[group]["kinds"][kind]["versions"][version]
    return jsonschema.Draft7Validator(json.loads((CRDS / entry["file"]).read_text()))


def crd_problems(document: dict[str, Any]) -> list[str]:
    """What the CRD's schema says of ``document``. Its x-kubernetes-validations (CEL) rules
    are not run: those of the objects Modelship renders are about fields it never sets
    (kubeConfig, a GitRepository's serviceAccountName), which the callers check."""
    validator = crd_validator(document["apiVersion"], document["kind"])
    name = document.get("metadata", {}).get("name")
    return [
        f"{document['kind']}/{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]
