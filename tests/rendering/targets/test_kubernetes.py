"""The Kubernetes, gateway, Flux and Argo CD objects, checked by the real consumers: one
`kubernetes-validate --strict` run over every core object, `kubectl kustomize` on every
entry point a sync agent is told to apply, and the published CRD schemas of Flux and
Argo CD (converted to JSON Schema in ../shared/reference/crds)."""

import difflib
import re
import subprocess

import pytest
import yaml

from generator import evaluate, rendered_tree
from generator.config import loader
from generator.index import Index
from generator.rendering.targets.gateway import GATEWAY_KINDS
from generator.rendering.targets.kubernetes import TEAM_KINDS
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import VALID, platform_dir, tool
from testsupport.kube import crd_problems, gateway_config, is_crd_kind, kustomize

KUBERNETES_VERSION = "1.37.0"
HOSTILE_DESCRIPTION = "it's \"quoted\" {{ x }} ${HOME} $(id) `id` ; # : - ''' \\ \u00e9\U0001f600"
MODELS = {
    "fraud-score",
    "price-elasticity",
    "product-title-classifier",
    "search-ranking",
    "size-advice",
    "visual-similarity",
}


def rendered(folder):
    platform = loader.load(folder / "platform.yaml")
    evaluation = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index())
    tree = helpers.plan_everywhere(platform, evaluation.models, helpers.renderer())
    rendered_tree.write_tree(platform.rendered_path, tree, {})
    return platform, tree


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return rendered(platform_dir(tmp_path_factory.mktemp("example")))


def objects(tree, suffix):
    return {p: yaml.safe_load(c) for p, c in tree.items() if p.endswith(suffix)}


def entry_points(platform):
    """Every folder a sync agent applies, per environment, and the whole environment."""
    for env in platform.environments:
        yield f"{env.name}/platform"
        yield f"{env.name}/gateway"
        yield f"{env.name}/kubernetes"
        yield f"{env.name}/flux"
        yield f"{env.name}/flux/platform"
        yield f"{env.name}/argocd"
        for team in platform.teams.values():
            yield f"{env.name}/kubernetes/{team.namespace}"


@pytest.fixture(scope="module")
def built(example):
    """Every entry point built by the real kustomize: folder → its objects."""
    platform, _ = example
    return {folder: kustomize(platform.rendered_path / folder) for folder in entry_points(platform)}


def kinds(documents):
    return sorted({d["kind"] for d in documents})


def test_every_core_object_passes_strict_schema_validation(example, built, tmp_path):
    """One kubernetes-validate run: the plain manifests of the tree, and what kustomize
    builds of the platform parts (the gateway's generated ConfigMaps with them)."""
    platform, tree = example
    core = ("/platform/", "/gateway/", "/kubernetes/", "/flux/platform/")
    # ServiceMonitors and PrometheusRules: their CRD schemas (tests/rendering/targets/test_monitoring.py).
    custom = ("servicemonitor.yaml", "prometheusrule.yaml")
    files = [
        str(platform.rendered_path / p)
        for p in tree
        if p.endswith(".yaml")
        and not p.endswith(("kustomization.yaml", *custom))
        and any(folder in f"/{p}" for folder in core)
    ]
    assert len(files) > 60
    for env in platform.environments:
        generated = tmp_path / f"{env.name}-flux-platform.yaml"
        generated.write_text(
            yaml.safe_dump_all(
                [
                    o
                    for o in built[f"{env.name}/flux/platform"]
                    if not is_crd_kind(o["apiVersion"], o["kind"])
                ]
            )
        )
        files.append(str(generated))
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


def test_kustomize_builds_every_entry_point(example, built):
    platform = example[0]
    for env in platform.environments:
        assert kinds(built[f"{env.name}/kubernetes"]) == [
            "ConfigMap",
            "Deployment",
            "Namespace",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "PrometheusRule",
            "Service",
            "ServiceMonitor",
        ]
        deployments = {
            o["metadata"]["name"]
            for o in built[f"{env.name}/kubernetes"]
            if o["kind"] == "Deployment"
        }
        assert deployments == {*MODELS, platform.gateway.name}
        assert kinds(built[f"{env.name}/platform"]) == [
            "ConfigMap",
            "Deployment",
            "Namespace",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Service",
            "ServiceMonitor",
        ]
        assert kinds(built[f"{env.name}/flux/platform"]) == [
            *kinds(built[f"{env.name}/platform"])[:5],
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount",
            "ServiceMonitor",
        ]
        assert kinds(built[f"{env.name}/flux"]) == ["GitRepository", "Kustomization"]
        assert kinds(built[f"{env.name}/argocd"]) == ["AppProject", "Application"]


def test_flux_and_argocd_objects_pass_their_published_crd_schemas(example, built):
    """The CRDs' x-kubernetes-validations (CEL) rules are about fields these objects do not
    set (kubeConfig, a GitRepository's serviceAccountName); the test says so."""
    platform = example[0]
    checked = {}
    for env in platform.environments:
        for folder in (f"{env.name}/flux", f"{env.name}/argocd"):
            for document in built[folder]:
                assert crd_problems(document) == [], (folder, document["metadata"]["name"])
                checked[document["apiVersion"]] = checked.get(document["apiVersion"], 0) + 1
                assert "kubeConfig" not in document.get("spec", {})
    assert checked == {
        "source.toolkit.fluxcd.io/v1": 2,
        "kustomize.toolkit.fluxcd.io/v1": 2 * (2 + len(platform.teams)),
        "argoproj.io/v1alpha1": 2 * 2 * (2 + len(platform.teams)),
    }


def by_kind(documents, kind):
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def group_kinds(kinds_):
    return sorted((k.group, k.kind) for k in kinds_)


def test_a_teams_sync_objects_write_only_its_namespace_and_its_kinds(example, built):
    platform, _ = example
    prefix = platform.sync.path
    for env in platform.environments:
        flux = by_kind(built[f"{env.name}/flux"], "Kustomization")
        rbac = built[f"{env.name}/flux/platform"]
        argo_projects = by_kind(built[f"{env.name}/argocd"], "AppProject")
        argo_apps = by_kind(built[f"{env.name}/argocd"], "Application")
        for team in platform.teams.values():
            name = f"{platform.name}-team-{team.name}"
            folder = f"{env.name}/kubernetes/{team.namespace}"
            applied = built[folder]
            assert {o["metadata"]["namespace"] for o in applied} <= {team.namespace}
            assert {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in applied} <= set(
                group_kinds(TEAM_KINDS)
            )
            spec = flux[name]["spec"]
            assert spec["path"] == f"./{prefix}/{folder}"
            assert (spec["targetNamespace"], spec["serviceAccountName"]) == (team.namespace, name)
            assert spec["prune"] is True
            assert spec["dependsOn"] == [{"name": f"{platform.name}-platform"}]
            assert {c["name"] for c in spec.get("healthChecks", [])} == {
                o["metadata"]["name"] for o in applied if o["kind"] == "Deployment"
            }
            [account] = [
                o for o in rbac if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == name
            ]
            assert account["metadata"]["namespace"] == platform.sync.flux_namespace
            [role] = [o for o in rbac if o["kind"] == "Role" and o["metadata"]["name"] == name]
            assert role["metadata"]["namespace"] == team.namespace
            granted = {
                (g, r)
                for rule in role["rules"]
                for g in rule["apiGroups"]
                for r in rule["resources"]
            }
            assert granted == {(k.group, k.resource) for k in TEAM_KINDS}
            [binding] = [
                o for o in rbac if o["kind"] == "RoleBinding" and o["metadata"]["name"] == name
            ]
            assert binding["metadata"]["namespace"] == team.namespace
            assert binding["subjects"] == [
                {"kind": "ServiceAccount", "name": name, "namespace": platform.sync.flux_namespace}
            ]
            project = argo_projects[name]["spec"]
            assert project["destinations"] == [
                {"server": "https://kubernetes.default.svc", "namespace": team.namespace}
            ]
            assert project["clusterResourceWhitelist"] == []
            assert sorted(
                (k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]
            ) == (group_kinds(TEAM_KINDS))
            assert project["sourceRepos"] == [platform.sync.url]
            app = argo_apps[name]["spec"]
            assert app["project"] == name
            assert app["source"]["path"] == f"{prefix}/{folder}"
            assert app["destination"]["namespace"] == team.namespace
        # No other object of the tree is granted anything in a team's namespace.
        bindings = [o for o in rbac if o["kind"] == "RoleBinding"]
        assert len(bindings) == len(platform.teams)


def test_argo_cd_syncs_automatically_and_never_deletes_en_masse(example, built):
    platform = example[0]
    for env in platform.environments:
        for app in by_kind(built[f"{env.name}/argocd"], "Application").values():
            assert "finalizers" not in app["metadata"], "deleting an app keeps its resources"
            policy = app["spec"]["syncPolicy"]
            assert policy["automated"] == {"prune": True, "selfHeal": True, "allowEmpty": False}
            assert "PruneLast=true" in policy["syncOptions"]
            assert "FailOnSharedResource=true" in policy["syncOptions"]
        platform_project = by_kind(built[f"{env.name}/argocd"], "AppProject")[
            f"{platform.name}-platform"
        ]["spec"]
        assert platform_project["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]
        assert sorted(
            (k["group"], k["kind"]) for k in platform_project["namespaceResourceWhitelist"]
        ) == group_kinds(GATEWAY_KINDS)


def test_flux_follows_the_rendered_repository_and_the_platform_comes_first(example, built):
    platform = example[0]
    for env in platform.environments:
        [source] = by_kind(built[f"{env.name}/flux"], "GitRepository").values()
        assert source["spec"]["url"] == platform.sync.url
        assert source["spec"]["ref"] == {"branch": platform.sync.branch}
        assert source["spec"]["secretRef"] == {"name": platform.sync.secret}
        part = by_kind(built[f"{env.name}/flux"], "Kustomization")[f"{platform.name}-platform"]
        assert part["spec"]["wait"] is True
        assert part["spec"]["path"] == f"./{platform.sync.path}/{env.name}/flux/platform"
        assert part["spec"]["timeout"] == platform.sync.timeout


def test_pods_meet_the_restricted_pod_security_standard(example, built):
    platform = example[0]
    pods = [
        (o["metadata"]["name"], o["spec"]["template"]["spec"])
        for env in platform.environments
        for o in built[f"{env.name}/kubernetes"]
        if o["kind"] == "Deployment"
    ]
    assert len(pods) == 2 * (len(MODELS) + 1)
    for name, pod in pods:
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        # The gateway's pod has its metrics sidecar beside nginx.
        assert len(pod["containers"]) == (2 if name == platform.gateway.name else 1)
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert {
                "startupProbe",
                "readinessProbe",
                "livenessProbe",
                "resources",
            } <= container.keys()
    for env in platform.environments:
        for namespace in by_kind(built[f"{env.name}/platform"], "Namespace").values():
            labels = namespace["metadata"]["labels"]
            assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


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
    assert "staging/kubernetes/models-search/search-ranking/pdb.yaml" not in tree, "1 in staging"
    kustomization = yaml.safe_load(
        tree["production/kubernetes/models-pricing/price-elasticity/kustomization.yaml"]
    )
    assert kustomization["resources"] == [
        "deployment.yaml",
        "networkpolicy.yaml",
        "prometheusrule.yaml",
        "service.yaml",
        "servicemonitor.yaml",
    ]


def test_a_models_network_policy_admits_exactly_the_gateway(example, built):
    platform = example[0]
    for env in platform.environments:
        everything = built[f"{env.name}/kubernetes"]
        [gateway] = [
            o
            for o in everything
            if o["kind"] == "Deployment" and o["metadata"]["name"] == platform.gateway.name
        ]
        gateway_labels = gateway["spec"]["template"]["metadata"]["labels"]
        pods = [o for o in everything if o["kind"] == "Deployment" and o is not gateway]
        policies = [
            o
            for o in everything
            if o["kind"] == "NetworkPolicy"
            and o["metadata"]["namespace"] != platform.gateway.namespace
        ]
        assert len(policies) == len(MODELS)
        for policy in policies:
            assert policy["spec"]["policyTypes"] == ["Ingress"]
            # The gateway's rule; the second admits Prometheus (test_monitoring.py).
            rule, _prometheus = policy["spec"]["ingress"]
            [peer] = rule["from"]
            assert peer["namespaceSelector"]["matchLabels"] == {
                "kubernetes.io/metadata.name": gateway["metadata"]["namespace"]
            }
            selector = peer["podSelector"]["matchLabels"]
            assert selector.items() <= gateway_labels.items()
            for pod in pods:
                labels = pod["spec"]["template"]["metadata"]["labels"]
                assert not selector.items() <= labels.items(), "no model pod passes for the gateway"


def test_the_gateway_is_reachable_only_where_it_serves(example, built):
    platform = example[0]
    [policy] = [o for o in built["production/gateway"] if o["kind"] == "NetworkPolicy"]
    internal, public, metrics = policy["spec"]["ingress"]
    assert metrics["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert internal == {
        "from": [{"namespaceSelector": {}}],
        "ports": [{"port": "internal", "protocol": "TCP"}],
    }
    assert public == {"ports": [{"port": "public", "protocol": "TCP"}]}
    to_models, dns = policy["spec"]["egress"]
    assert {
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in to_models["to"]
    } == {team.namespace for team in platform.teams.values()}
    assert to_models["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert dns == {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}


def test_the_gateway_runs_the_rendered_nginx_configuration(example, built):
    platform, tree = example
    for env in platform.environments:
        files = gateway_config(built[f"{env.name}/gateway"])
        rendered_files = {
            p.removeprefix(f"{env.name}/gateway/"): c
            for p, c in tree.items()
            if p.startswith(f"{env.name}/gateway/") and p.endswith(".conf")
        }
        assert files == rendered_files
        assert set(files) == {"nginx.conf", *(f"routes/{m}.conf" for m in MODELS)}


def test_a_route_change_renames_its_config_map_and_rolls_the_gateway(tmp_path):
    folder = platform_dir(tmp_path)
    gateway = folder / "rendered" / "staging" / "gateway"
    rendered(folder)
    before = kustomize(gateway)
    path = folder / "examples/repos/size-advice-model/MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    rendered(folder)
    after = kustomize(gateway)
    names = {o["metadata"]["name"] for o in before if o["kind"] == "ConfigMap"}
    changed = {o["metadata"]["name"] for o in after if o["kind"] == "ConfigMap"} - names
    assert [name.rsplit("-", 1)[0] for name in changed] == ["modelship-gateway-routes-rnd"]
    [old], [new] = ([o for o in docs if o["kind"] == "Deployment"] for docs in (before, after))
    assert old["spec"]["template"] != new["spec"]["template"]


ALLOWED_DIFFERENCES = re.compile(
    r"^[-+]\s*("
    r"replicas: \d+|cpu: .*|memory: .*|server_name .*|- pdb\.yaml"
    r"|path: .*(staging|production).*|description: .*\((staging|production)\).*"
    r"|# The model gateway of the (staging|production) environment.*"
    r")$"
)


def test_staging_and_production_differ_only_where_platform_yaml_says(example):
    """diff -r rendered/staging rendered/production: replicas, resources, host names, the
    disruption budgets of models with more than one replica there, and the environment's
    own folder in the sync objects' paths."""
    _, tree = example
    staging = {p.removeprefix("staging/"): c for p, c in tree.items() if p.startswith("staging/")}
    production = {
        p.removeprefix("production/"): c for p, c in tree.items() if p.startswith("production/")
    }
    only_production = set(production) - set(staging)
    assert only_production == {p for p in production if p.endswith("/pdb.yaml")} - {
        "gateway/pdb.yaml"
    }
    assert set(staging) - set(production) == set()
    differing = []
    for path in sorted(set(staging) & set(production)):
        lines = difflib.unified_diff(
            staging[path].decode().splitlines(), production[path].decode().splitlines(), n=0
        )
        differing += [
            (path, line)
            for line in lines
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
    assert differing
    assert [d for d in differing if not ALLOWED_DIFFERENCES.match(d[1])] == []


def test_files_alike_in_both_environments_are_made_once(example):
    """A model whose environments differ only in replicas and resources gets its Service,
    NetworkPolicy and route made once for both (one bytes object), and model folders that
    hold the same files one kustomization; its Deployment is made for each."""
    _, tree = example
    for model in MODELS:
        folders = {
            env: next(p for p in tree if p.startswith(f"{env}/kubernetes/") and f"/{model}/" in p)
            for env in ("staging", "production")
        }
        folder = {env: path.rsplit("/", 1)[0] for env, path in folders.items()}
        for name in ("service.yaml", "networkpolicy.yaml"):
            assert tree[f"{folder['staging']}/{name}"] is tree[f"{folder['production']}/{name}"]
        route = f"gateway/routes/{model}.conf"
        assert tree[f"staging/{route}"] is tree[f"production/{route}"]
        staging, production = (tree[f"{folder[env]}/deployment.yaml"] for env in folder)
        assert staging != production  # replicas, resources
    kustomizations = [
        c for p, c in tree.items() if p.count("/") == 4 and p.endswith("/kustomization.yaml")
    ]
    assert len(kustomizations) == 2 * len(MODELS)
    assert len({id(c) for c in kustomizations}) == len(set(kustomizations)) < len(kustomizations)


def test_hostile_values_stay_inert_through_kustomize(tmp_path):
    # Written with escapes: a raw U+2028 in the file is refused (YAML 1.1 reads a line break).
    values = {"description": HOSTILE_DESCRIPTION, "default_output": "'''\n$(reboot)\u2028{{ }}"}
    text = yaml.safe_dump({**VALID, **values}, allow_unicode=False)
    platform, _ = rendered(platform_dir(tmp_path, repos={"churn-model": text}))
    built = kustomize(platform.rendered_path / "production" / "kubernetes" / "models-rnd")
    [deployment] = [o for o in built if o["kind"] == "Deployment"]
    assert deployment["metadata"]["annotations"]["modelship.dev/description"] == HOSTILE_DESCRIPTION
    assert (
        len(built) == 6
    )  # the model's 4 objects and its ServiceMonitor and PrometheusRule: nothing injected


def test_object_names_are_valid_kubernetes_names(example, built):
    """Schema validation does not check name formats; the API server does."""
    dns_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
    dns_1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
    platform = example[0]
    for folder in entry_points(platform):
        for document in built[folder]:
            name = document["metadata"]["name"]
            pattern = dns_1035 if document["kind"] == "Service" else dns_1123
            assert pattern.match(name), (folder, name)
            assert len(name) <= 63, (folder, name)
