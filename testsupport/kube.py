"""The real kustomize (kubectl's), and reading what it builds as a pod would see it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from testsupport.helpers import tool


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
