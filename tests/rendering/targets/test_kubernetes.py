"""The Kubernetes target, checked by the real consumers: kubernetes-validate and kubectl kustomize."""

import re
import subprocess

import pytest
import yaml

from generator import evaluate, rendered_tree
from generator.config import loader
from generator.index import Index
from generator.rendering.plan import plan as plan_tree
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import VALID, platform_dir, tool

KUBERNETES_VERSION = "1.37.0"
HOSTILE_DESCRIPTION = "it's \"quoted\" {{ x }} ${HOME} $(id) `id` ; # : - ''' \\ \u00e9\U0001f600"


def rendered(folder):
    platform = loader.load(folder / "platform.yaml")
    evaluation = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index())
    tree = plan_tree(platform, evaluation.models, helpers.renderer())
    rendered_tree.write_tree(platform.rendered_path, tree, {})
    return platform, tree


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return rendered(platform_dir(tmp_path_factory.mktemp("example")))


def objects(tree, suffix):
    return {p: yaml.safe_load(c) for p, c in tree.items() if p.endswith(suffix)}


def kustomize(path):
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


def test_every_object_passes_strict_schema_validation(example):
    platform, tree = example
    files = [
        str(platform.rendered_path / p)
        for p in tree
        if p.endswith(".yaml") and "/kubernetes/" in p and not p.endswith("kustomization.yaml")
    ]
    assert len(files) > 40
    result = subprocess.run(
        [
            tool("kubernetes-validate"),
            "--strict",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            "--quiet",
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kustomize_builds_every_environment(example):
    platform = example[0]
    for env in platform.environments:
        built = kustomize(platform.rendered_path / env.name / "kubernetes")
        kinds = sorted({o["kind"] for o in built})
        assert kinds == [
            "Deployment",
            "Namespace",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Service",
        ]
        deployments = {o["metadata"]["name"] for o in built if o["kind"] == "Deployment"}
        assert deployments == {
            "fraud-score",
            "price-elasticity",
            "product-title-classifier",
            "search-ranking",
            "size-advice",
            "visual-similarity",
        }


def test_pods_meet_the_restricted_pod_security_standard(example):
    tree = example[1]
    for path, deployment in objects(tree, "/deployment.yaml").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, path
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        [container] = pod["containers"]
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert {"startupProbe", "readinessProbe", "livenessProbe", "resources"} <= container.keys()
    for path, namespace in objects(tree, "/namespace.yaml").items():
        assert (
            namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        ), path


def test_deployment_carries_labels_provenance_and_image(example):
    _, tree = example
    deployment = yaml.safe_load(
        tree["production/kubernetes/models-rnd/visual-similarity/deployment.yaml"]
    )
    labels = deployment["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "visual-similarity"
    assert labels["app.kubernetes.io/managed-by"] == "modelship"
    assert labels["app.kubernetes.io/version"] == "4f1255f50f5f32e93b4fb69704d23f466e468ebd"
    annotations = deployment["metadata"]["annotations"]
    assert annotations["modelship.dev/source-repo"] == "acme/blaze-visual-similarity-model"
    commit = annotations["modelship.dev/source-commit"]
    assert len(commit) == 40
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"registry.acme.example/models/visual-similarity:{commit[:7]}"
    env = {e["name"]: e["value"] for e in container["env"]}
    # The model server's contract (README, runtime/python); the artifact is in the image, at
    # the MODEL_ARTIFACT the image sets.
    assert env == {
        "MODEL_ID": "visual-similarity",
        "MODEL_NAME": "blaze-visual-similarity-model",
        "MODEL_VERSION": "4f1255f50f5f32e93b4fb69704d23f466e468ebd",
        "MODEL_PICKLE": "true",
        "MODEL_INPUT_TYPE": "doubles",
        "MODEL_SLO_MICROSECONDS": "100000",
        "PORT": "8080",
    }
    assert deployment["spec"]["replicas"] == 2


def test_disruption_budget_only_with_more_than_one_instance(example):
    _, tree = example
    assert "production/kubernetes/models-pricing/price-elasticity/pdb.yaml" not in tree
    assert "production/kubernetes/models-search/search-ranking/pdb.yaml" in tree
    kustomization = yaml.safe_load(
        tree["production/kubernetes/models-pricing/price-elasticity/kustomization.yaml"]
    )
    assert kustomization["resources"] == ["deployment.yaml", "networkpolicy.yaml", "service.yaml"]


def test_network_policy_admits_only_the_gateway(example):
    platform, tree = example
    policy = yaml.safe_load(tree["staging/kubernetes/models-rnd/size-advice/networkpolicy.yaml"])
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "size-advice"
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    [peer] = rule["from"]
    assert peer["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": platform.gateway.namespace
    }
    assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": platform.gateway.name}


def test_hostile_values_stay_inert_through_kustomize(tmp_path):
    # Written with escapes: a raw U+2028 in the file is refused (YAML 1.1 reads a line break).
    values = {"description": HOSTILE_DESCRIPTION, "default_output": "'''\n$(reboot)\u2028{{ }}"}
    text = yaml.safe_dump({**VALID, **values}, allow_unicode=False)
    platform, _ = rendered(platform_dir(tmp_path, repos={"churn-model": text}))
    built = kustomize(platform.rendered_path / "production" / "kubernetes")
    [deployment] = [o for o in built if o["kind"] == "Deployment"]
    assert deployment["metadata"]["annotations"]["modelship.dev/description"] == HOSTILE_DESCRIPTION
    assert len(built) == 4 + 4  # 4 namespaces, and the model's 4 objects: nothing injected


def test_object_names_are_valid_kubernetes_names(example):
    """Schema validation does not check name formats; the API server does."""
    dns_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
    dns_1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
    _, tree = example
    for path, content in tree.items():
        if "/kubernetes/" not in path or path.endswith("kustomization.yaml"):
            continue
        document = yaml.safe_load(content)
        name = document["metadata"]["name"]
        pattern = dns_1035 if document["kind"] == "Service" else dns_1123
        assert pattern.match(name), (path, name)
        assert len(name) <= 63, (path, name)
