"""A model's canary: its own Deployment and Service, labelled apart from the model's, a split
at the gateway, shown by list and diff, and gone cleanly when the MLproject drops it. (The
split itself is proven with the real nginx in test_gateway_traffic.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.config import loader
from generator.mlproject import parse
from generator.model import Model, Provenance
from generator.rendering.deployment import ModelDeployment, image_refs
from testsupport.gitfixtures import bare_remote, clean_env, platform_repo, publish
from testsupport.helpers import VALID, mlproject, platform_dir
from testsupport.helpers import modelship as modelship_cli
from testsupport.inprocess import modelship
from testsupport.kube import kustomize

CANARY_COMMIT = "0123456789abcdef0123456789abcdef01234567"
CANARY_VERSION = "fedcba9876543210fedcba9876543210fedcba98"
MODEL = "churn"
FOLDER = f"staging/kubernetes/models-rnd/{MODEL}"


def with_canary(**canary: Any) -> str:
    return mlproject(
        name="churn-model",
        id=MODEL,
        team="rnd",
        instances=4,
        canary={"commit": CANARY_COMMIT, "weight": 30, **canary},
    )


@pytest.fixture
def platform(tmp_path) -> Path:
    folder = platform_dir(tmp_path, {"churn-model": with_canary(version=CANARY_VERSION)})
    result = modelship("render", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_the_canary_is_a_deployment_and_service_of_its_own(platform):
    built = kustomize(platform / "rendered" / FOLDER)
    deployments = {d["metadata"]["name"]: d for d in built if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in built if d["kind"] == "Service"}
    assert sorted(deployments) == sorted(services) == [MODEL, f"{MODEL}-canary"]
    canary = deployments[f"{MODEL}-canary"]
    pod = canary["spec"]["template"]
    [container] = pod["spec"]["containers"]
    assert container["image"] == f"registry.acme.example/models/{MODEL}:0123456"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MODEL_VERSION"] == CANARY_VERSION
    assert env["MODEL_ID"] == MODEL  # the same model: its metrics carry its id
    assert pod["metadata"]["labels"]["modelship.dev/track"] == "canary"
    assert canary["metadata"]["annotations"]["modelship.dev/source-commit"] == CANARY_COMMIT
    # staging runs every model with one instance; the canary gets its share, at least one.
    assert canary["spec"]["replicas"] == 1
    stable = deployments[MODEL]
    assert stable["spec"]["template"]["metadata"]["labels"]["modelship.dev/track"] == "stable"
    # Each Service selects only its own pods.
    stable_pods = stable["spec"]["template"]["metadata"]["labels"]
    canary_pods = pod["metadata"]["labels"]
    for name, service in services.items():
        selector = service["spec"]["selector"].items()
        own, other = (
            (canary_pods, stable_pods) if name.endswith("-canary") else (stable_pods, canary_pods)
        )
        assert selector <= own.items()
        assert not selector <= other.items()
    # One NetworkPolicy, one ServiceMonitor cover both.
    [policy] = [d for d in built if d["kind"] == "NetworkPolicy"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= canary_pods.items()


def test_the_canary_of_a_larger_model_gets_its_share_of_the_pods(tmp_path):
    platform = loader.load(platform_dir(tmp_path, {}) / "platform.yaml")
    result = parse(with_canary(weight=30), "MLproject")
    assert result.spec is not None
    model = Model(result.spec, Provenance("acme/churn-model", "a" * 40, "", "main"))
    deployment = ModelDeployment.of(platform, model)
    assert deployment.instances == 4
    assert deployment.canary is not None
    assert deployment.canary.replicas == 2  # 30% of 4, rounded up
    assert deployment.canary.version == VALID["version"]  # the model's own by default
    expected = (
        f"registry.acme.example/models/{MODEL}:aaaaaaa",
        f"registry.acme.example/models/{MODEL}:0123456",
    )
    assert deployment.image_refs == image_refs(platform, model) == expected


def test_the_gateway_splits_only_a_model_with_a_canary(platform):
    gateway = platform / "rendered" / "staging" / "gateway"
    split = (gateway / "splits" / f"{MODEL}.conf").read_text()
    assert "30% canary;" in split
    assert "* stable;" in split
    route = (gateway / "routes" / f"{MODEL}.conf").read_text()
    assert f"{MODEL}-canary.models-rnd.svc.cluster.local" in route
    assert sorted(p.name for p in (gateway / "splits").iterdir()) == [f"{MODEL}.conf"]


def test_list_and_diff_show_the_canary_and_its_weight(platform):
    listed = modelship("list", "--env", "staging", cwd=platform)
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(MODEL)]
    assert row.split()[-4:] == ["canary", "0123456", "at", "30%"]
    as_json = json.loads(modelship("list", "--format", "json", cwd=platform).stdout)
    [model] = [m for m in as_json["models"] if m["id"] == MODEL]
    assert model["environments"]["staging"]["canary"] == {
        "commit": CANARY_COMMIT,
        "version": CANARY_VERSION,
        "weight": 30,
    }


def test_diff_and_its_markdown_show_a_canary_coming_and_going(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "remote.git"))
    assert publish(folder).returncode == 0
    canary = f"canary:\n  commit: {CANARY_COMMIT}\n  weight: 25\n"
    path = folder / "examples" / "repos" / "size-advice-model" / "MLproject"
    path.write_text(path.read_text() + canary)
    text = modelship_cli("diff", cwd=folder, env=clean_env())
    assert text.returncode == 0, text.stderr
    [line] = [line for line in text.stdout.splitlines() if line.startswith("      staging")]
    assert "(canary 0123456 at 25%)" in line, line
    markdown = modelship_cli("diff", "--format", "markdown", cwd=folder, env=clean_env()).stdout
    assert "canary 0123456 at 25\\%" in markdown  # Markdown escapes its punctuation
    as_json = json.loads(
        modelship_cli("diff", "--format", "json", cwd=folder, env=clean_env()).stdout
    )
    [model] = [m for m in as_json["models"] if m["id"] == "size-advice"]
    [staging] = [e for e in model["environments"] if e["environment"] == "staging"]
    assert staging["after"]["canary"] == {"commit": CANARY_COMMIT, "version": None, "weight": 25}
    assert publish(folder).returncode == 0
    path.write_text(path.read_text().replace(canary, ""))
    gone = modelship_cli("diff", cwd=folder, env=clean_env()).stdout
    assert "(canary removed)" in gone


def test_removing_the_block_removes_the_canary_cleanly(platform):
    repo = platform / "examples" / "repos" / "churn-model" / "MLproject"
    repo.write_text(mlproject(name="churn-model", id=MODEL, team="rnd", instances=4))
    result = modelship("render", cwd=platform)
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = platform / "rendered"
    assert not list(rendered.rglob("canary-*.yaml"))
    assert not list(rendered.rglob("splits/*.conf"))
    for env in ("staging", "production"):
        route = rendered / env / "gateway" / "routes" / f"{MODEL}.conf"
        if route.exists():
            assert "canary" not in route.read_text()
    built = kustomize(rendered / FOLDER)
    assert [d["metadata"]["name"] for d in built if d["kind"] == "Deployment"] == [MODEL]
    index = json.loads((rendered / "index.json").read_text())
    assert "canary" not in json.dumps(index)
