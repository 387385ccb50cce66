"""Team isolation, as a property over generated MLprojects: for every team and environment,
every object the team's sync object applies (its Flux Kustomization's and Argo CD
Application's folder) is in the team's namespace and of a kind the team may write, and no
MLproject value — id, name, team, description, default answer, any string — puts an object
in another team's folder, namespace or project.

Each generated platform goes through the real parse, policy and plan; at the end one run of
the real kustomize builds every team folder of every example (each wrapped with a name
suffix that says which example and team it was) and the property is checked again on what
kustomize made of them.
"""

from __future__ import annotations

import posixpath
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import evaluate
from generator.config import loader
from generator.index import Index
from generator.rendering.targets.kubernetes import TEAM_KINDS
from generator.sources.base import Scan
from testsupport import helpers
from testsupport.helpers import ROOT, mlproject
from testsupport.kube import kustomize
from testsupport.scans import snapshot

PLATFORM = loader.load(ROOT / "platform.yaml")
TEAMS = sorted(PLATFORM.teams.values(), key=lambda team: team.name)
ALLOWED = {(kind.group, kind.kind) for kind in TEAM_KINDS}
# Values that look like something else of the platform: namespaces, names of sync objects.
LOOKALIKES = [
    *(team.namespace for team in TEAMS),
    *(f"{PLATFORM.name}-team-{team.name}" for team in TEAMS),
    PLATFORM.gateway.namespace,
    PLATFORM.gateway.name,
    PLATFORM.sync.flux_namespace,
    PLATFORM.sync.argocd_namespace,
    "kube-system",
    "default",
]
IDS = st.one_of(
    st.sampled_from([value for value in LOOKALIKES if value[0].isalpha()]),
    st.from_regex(r"[a-z][-a-z0-9]{0,30}[a-z0-9]", fullmatch=True),
)
TEXT = st.one_of(
    st.sampled_from(["namespace: kube-system", "../models-search", "{{ team }}", "$(id)"]),
    st.text(min_size=1, max_size=30),
)
MODEL = st.fixed_dictionaries(
    {
        "id": IDS,
        "team": st.sampled_from([team.name for team in TEAMS]),
        "description": TEXT,
        "default_output": TEXT,
    },
    optional={
        "exposed": st.booleans(),
        "instances": st.integers(min_value=1, max_value=50),
        "skip_environments": st.lists(st.sampled_from(["staging", "production"]), unique=True),
    },
)
PLATFORMS = st.lists(MODEL, min_size=1, max_size=4, unique_by=lambda m: m["id"])
EXAMPLES = 40
NO_GATEWAY_NAMESPACE = (
    f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {PLATFORM.gateway.namespace}\n"
    "$patch: delete\n"
)
SUFFIX = re.compile(r"-x\d+x([a-z]+)x(\d+)(-[a-z0-9]+)?$")
built_trees: list[dict[str, bytes]] = []


def resources_of(tree: dict[str, bytes], folder: str) -> list[dict]:
    """What kustomize would build of ``folder`` in ``tree``: its resources, followed through
    the kustomizations they are, each a file of the tree (never one outside it)."""
    kustomization = yaml.safe_load(tree[f"{folder}/kustomization.yaml"])
    found = []
    for resource in kustomization["resources"]:
        path = posixpath.normpath(posixpath.join(folder, resource))
        assert path.startswith(f"{folder}/"), f"{folder} reaches out to {resource}"
        if f"{path}/kustomization.yaml" in tree:
            found.extend(resources_of(tree, path))
        else:
            found.append(yaml.safe_load(tree[path]))
    if "namespace" in kustomization:
        for document in found:
            document["metadata"]["namespace"] = kustomization["namespace"]
    return found


RENDERER = helpers.renderer()


def render(models: list[dict]) -> tuple[dict[str, bytes], dict[str, str]]:
    """The tree of the models the platform accepts (a value the contract refuses yields no
    object at all), and the team of each."""
    snapshots = [
        snapshot(m["id"], mlproject(name=f"{m['id']}-model", **m), sha="ab"[n % 2])
        for n, m in enumerate(models)
    ]
    evaluation = evaluate.evaluate(PLATFORM, Scan(tuple(snapshots)), Index())
    tree = helpers.plan_everywhere(PLATFORM, evaluation.models, RENDERER)
    return tree, {m.id: m.spec.team for m in evaluation.models}


def check(objects: list[dict], namespace: str, where: str) -> None:
    for document in objects:
        assert document["metadata"]["namespace"] == namespace, where
        group = document["apiVersion"].rpartition("/")[0]
        assert (group, document["kind"]) in ALLOWED, where


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLATFORMS)
def test_no_mlproject_value_puts_an_object_in_another_teams_namespace(models):
    tree, team_of = render(models)
    for env in PLATFORM.environments:
        flux = f"{env.name}/flux/kustomizations"
        for team in TEAMS:
            folder = f"{env.name}/kubernetes/{team.namespace}"
            applied = resources_of(tree, folder)
            check(applied, team.namespace, folder)
            ids = {o["metadata"]["name"] for o in applied}
            assert ids <= {i for i, t in team_of.items() if t == team.name}
            name = f"{PLATFORM.name}-team-{team.name}"
            sync = yaml.safe_load(tree[f"{flux}/{name}.yaml"])["spec"]
            assert (sync["targetNamespace"], sync["serviceAccountName"]) == (team.namespace, name)
            assert sync["path"] == f"./rendered/{folder}"
            assert {c["namespace"] for c in sync.get("healthChecks", [])} <= {team.namespace}
            project = yaml.safe_load(tree[f"{env.name}/argocd/projects/{name}.yaml"])["spec"]
            assert [d["namespace"] for d in project["destinations"]] == [team.namespace]
            application = yaml.safe_load(tree[f"{env.name}/argocd/applications/{name}.yaml"])
            assert application["spec"]["project"] == name
            assert application["spec"]["source"]["path"] == f"rendered/{folder}"
        # Every object of a model is in the folder of its own team, nowhere else.
        for path in tree:
            parts = path.split("/")
            if parts[0] == env.name and parts[1] == "kubernetes" and len(parts) > 4:
                assert PLATFORM.teams[team_of[parts[3]]].namespace == parts[2], path
    built_trees.append(tree)


def test_what_kustomize_builds_of_every_team_folder_keeps_to_its_namespace(tmp_path):
    """The examples above, built by the real kustomize in one run: every team folder, and the
    gateway (whose ConfigMaps hold every model's route, and so its default answer)."""
    if not built_trees:  # run on its own (-k): the property's examples are made here
        test_no_mlproject_value_puts_an_object_in_another_teams_namespace()
    assert len(built_trees) >= EXAMPLES // 2
    wrappers = []
    for number, tree in enumerate(built_trees):
        root = tmp_path / f"example-{number}"
        for path, content in tree.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(content)
        for env in PLATFORM.environments:
            folders = [root / env.name / "kubernetes" / team.namespace for team in TEAMS]
            for position, folder in enumerate([*folders, root / env.name / "gateway"]):
                wrapper = tmp_path / "wrappers" / f"e{number}-{env.name}-{position}"
                wrapper.mkdir(parents=True)
                wrapping = {
                    "resources": [posixpath.relpath(folder, wrapper)],
                    "nameSuffix": f"-x{number}x{env.name}x{position}",
                }
                if folder.name == "gateway":  # a Namespace takes no suffix: one is enough
                    wrapping["patches"] = [{"patch": NO_GATEWAY_NAMESPACE}]
                (wrapper / "kustomization.yaml").write_text(yaml.safe_dump(wrapping))
                wrappers.append(wrapper.name)
    (tmp_path / "wrappers" / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": wrappers})
    )
    built = kustomize(tmp_path / "wrappers")
    assert built
    gateways = 0
    for document in built:
        name = document["metadata"]["name"]
        # the suffix, then (a generated ConfigMap) kustomize's hash of its content
        env, position, _ = SUFFIX.search(name).groups()
        if int(position) == len(TEAMS):
            gateways += 1
            assert document["metadata"]["namespace"] == PLATFORM.gateway.namespace, name
            continue
        check([document], TEAMS[int(position)].namespace, f"{env} {name}")
    assert gateways >= len(built_trees) * len(PLATFORM.environments)
