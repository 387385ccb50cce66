import json
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator import environments, evaluate, index, mlproject
from generator.config import loader
from generator.errors import ExitCode, TemplateError
from generator.index import Index
from generator.model import Model, Provenance
from generator.rendering.plan import Incremental, Recorded
from generator.rendering.plan import plan as plan_tree
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import ROOT, platform_dir, read_tree

EXAMPLE = loader.load(ROOT / "platform.yaml")
RENDERER = helpers.renderer()


def plan_for(folder):
    platform = loader.load(folder / "platform.yaml")
    scan = LocalSource.from_platform(platform).scan()
    evaluation = evaluate.evaluate(platform, scan, Index())
    return helpers.plan_everywhere(
        platform, evaluation.models, helpers.renderer(platform.templates_path)
    )


def test_same_inputs_give_byte_identical_plans(tmp_path):
    folder = platform_dir(tmp_path)
    assert plan_for(folder) == plan_for(folder)


def test_hash_seed_does_not_change_the_output(tmp_path):
    trees = []
    for seed in ("1", "2"):
        folder = platform_dir(tmp_path / seed)
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "generator", "render"],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
        )
        trees.append(read_tree(folder / "rendered"))
    assert trees[0] == trees[1]


def test_changing_one_mlproject_changes_only_that_models_files_and_the_index(tmp_path):
    folder = platform_dir(tmp_path)
    before = plan_for(folder)
    path = folder / "examples/repos/size-advice-model/MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    after = plan_for(folder)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    owned = set(index.loads(after[index.INDEX_PATH]).models["size-advice"].files)
    # Besides the index, only Consul's import files (one line per key) hold every model.
    consul = {"production/consul/kv.json", "staging/consul/kv.json"}
    assert changed - owned == {index.INDEX_PATH, *consul}
    assert changed & owned
    changed_lines = set(after["staging/consul/kv.json"].splitlines()) - set(
        before["staging/consul/kv.json"].splitlines()
    )
    changed_keys = {json.loads(line.rstrip(b","))["key"] for line in changed_lines}
    # The folder's content hash is its commit, so the commit and image change with the slo.
    assert changed_keys == {
        f"modelship/models/size-advice/{field}" for field in ("slo", "commit", "image")
    }


def test_index_records_every_model_with_provenance_and_files(tmp_path):
    tree = plan_for(platform_dir(tmp_path))
    recorded = index.loads(tree[index.INDEX_PATH])
    entry = recorded.models["visual-similarity"]
    assert entry.repo == "acme/blaze-visual-similarity-model"
    assert entry.model.spec.version == "4f1255f50f5f32e93b4fb69704d23f466e468ebd"
    assert entry.model.spec.packages == ("scikit-learn", "pandas")
    assert entry.state == "deployed"
    assert all(path in tree for path in entry.files)
    owned = [p for e in recorded.models.values() for p in e.files]
    assert len(owned) == len(set(owned)), "a file has two owners"


def test_platform_templates_override_built_ins_file_by_file(tmp_path):
    folder = platform_dir(tmp_path)
    override = folder / "my-templates" / "kubernetes"
    override.mkdir(parents=True)
    builtin = (ROOT / "templates/kubernetes/service.yaml.j2").read_text()
    (override / "service.yaml.j2").write_text(builtin.replace("type: ClusterIP", "type: NodePort"))
    with (folder / "platform.yaml").open("a") as handle:
        handle.write("templates: my-templates\n")
    tree = plan_for(folder)
    services = [c for p, c in tree.items() if "/kubernetes/" in p and p.endswith("/service.yaml")]
    deployments = [c for p, c in tree.items() if p.endswith("/deployment.yaml")]
    assert sum(1 for p in tree if p.endswith("/gateway/deployment.yaml")) == 2
    deployments = [
        c for p, c in tree.items() if "/kubernetes/" in p and p.endswith("/deployment.yaml")
    ]
    assert len(services) == len(deployments) == 12
    assert all(b"type: NodePort" in c for c in services)
    assert all(b"kind: Deployment" in c for c in deployments)


def test_an_undefined_name_in_a_template_is_an_error_not_an_empty_string(tmp_path):
    folder = platform_dir(tmp_path)
    helpers.override_template(folder, "kubernetes/service.yaml.j2", "name: {{ m.no_such_field }}\n")
    with pytest.raises(TemplateError, match="no_such_field"):
        plan_for(folder)
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render"], cwd=folder, capture_output=True, text=True
    )
    assert result.returncode == ExitCode.USAGE
    assert "template error: kubernetes/service.yaml.j2" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_template_syntax_names_file_and_line(tmp_path):
    folder = platform_dir(tmp_path)
    helpers.override_template(folder, "kubernetes/service.yaml.j2", "a: 1\n{% if %}\n")
    with pytest.raises(TemplateError, match=r"service.yaml.j2:2: "):
        plan_for(folder)


def test_no_models_still_renders_namespaces(tmp_path):
    tree = plan_for(platform_dir(tmp_path, repos={}))
    assert index.loads(tree[index.INDEX_PATH]).models == {}
    assert "staging/platform/namespaces/models-rnd.yaml" in tree
    assert "production/kubernetes/models-rnd/kustomization.yaml" in tree


def test_index_holds_enough_to_render_every_model_again(tmp_path):
    folder = platform_dir(tmp_path)
    tree = plan_for(folder)
    platform = loader.load(folder / "platform.yaml")
    models = [entry.model for entry in index.loads(tree[index.INDEX_PATH]).models.values()]
    assert helpers.plan_everywhere(platform, models, helpers.renderer()) == tree


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("a: {{ m.requests }}\n", "kubernetes/service.yaml.j2:1: TypeError: cannot write a dict"),
        ("a: 1\nb: {{ 1 / 0 }}\n", "kubernetes/service.yaml.j2:2: ZeroDivisionError"),
        ('{% include "nope.yaml.j2" %}\n', "nope.yaml.j2: template not found (included by"),
    ],
)
def test_errors_in_a_platforms_template_are_usage_errors_with_file_and_line(
    tmp_path, template, message
):
    folder = platform_dir(tmp_path)
    helpers.override_template(folder, "kubernetes/service.yaml.j2", template)
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render"], cwd=folder, capture_output=True, text=True
    )
    assert result.returncode == ExitCode.USAGE
    assert f"template error: {message}" in result.stderr
    assert "internal error" not in result.stderr


def test_structure_filters_exist_only_where_their_output_is_one_token(tmp_path):
    folder = platform_dir(tmp_path)
    helpers.override_template(folder, "gateway/route.conf.j2", "set $x {{ m.labels | to_json }};\n")
    with pytest.raises(TemplateError, match="No filter named 'to_json'"):
        plan_for(folder)


def test_a_missing_templates_folder_is_an_error(tmp_path):
    folder = platform_dir(tmp_path)
    with (folder / "platform.yaml").open("a") as handle:
        handle.write("templates: no-such-folder\n")
    with pytest.raises(TemplateError, match="no-such-folder does not exist"):
        plan_for(folder)


def test_a_templates_folder_that_is_a_file_is_an_error_saying_so(tmp_path):
    folder = platform_dir(tmp_path)
    (folder / "notes.txt").write_text("not templates\n")
    with (folder / "platform.yaml").open("a") as handle:
        handle.write("templates: notes.txt\n")
    with pytest.raises(TemplateError, match=r"notes\.txt is not a folder"):
        plan_for(folder)


SPEC_VALUES = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
        "id": st.from_regex(r"[a-z][-a-z0-9]{0,20}[a-z0-9]", fullmatch=True),
        "team": st.sampled_from(["rnd", "search", "pricing", "fraud"]),
        "description": st.text(min_size=1, max_size=40),
        "version": st.from_regex(r"[0-9a-f]{40}", fullmatch=True),
        "input_type": st.sampled_from(["integers", "floats", "doubles", "bytes", "strings"]),
        "default_output": st.text(max_size=40),
    },
    optional={
        "slo": st.one_of(st.integers(), st.floats(allow_nan=False)),
        "instances": st.one_of(st.integers(), st.booleans()),
        "exposed": st.booleans(),
        "pickle": st.booleans(),
        "packages": st.lists(st.sampled_from(["pandas", "numpy>=1.26", 'x; python_version<"4"'])),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPEC_VALUES)
def test_every_valid_mlproject_renders_and_round_trips_through_the_index(data):
    """Whatever passes validation renders without error, and index.json gives it back."""
    result = mlproject.parse(yaml.safe_dump(data), "MLproject", "acme/" + data["name"])
    event("valid" if result.spec is not None else "invalid")
    if result.spec is None:
        return
    model = Model(result.spec, Provenance("acme/" + data["name"], "a" * 40, "u", "main"))
    tree = plan_tree(EXAMPLE, [model], RENDERER)
    [entry] = index.loads(tree[index.INDEX_PATH]).models.values()
    assert entry.model == model
    assert plan_tree(EXAMPLE, [entry.model], RENDERER) == tree


def test_no_target_renders_the_files_of_a_model_whose_digests_match(tmp_path):
    """A model whose inputs digest is the one its files were recorded with is copied, not
    rendered again, by every target (the Target protocol's ``release.renders``): here its
    recorded files hold a marker no template writes, and the plan keeps the marker."""
    folder = platform_dir(tmp_path)
    platform = loader.load(folder / "platform.yaml")
    models = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index()).models
    catalog = {index.spec_key(m): m for m in models}
    placements = environments.place(
        platform, models, {}, Index(), helpers.pins_of(platform, models), catalog
    )
    first = Incremental(code="code", mlproject={}, recorded={})
    tree = plan_tree(platform, models, RENDERER, placements=placements, incremental=first)
    entries = json.loads(tree[index.INDEX_PATH])["models"]
    marker = b"# kept from the last render\n"
    recorded = {
        model_id: Recorded(
            entry["digests"]["inputs"], dict.fromkeys(entry["files"], marker), "files"
        )
        for model_id, entry in entries.items()
    }
    again = plan_tree(
        platform,
        models,
        RENDERER,
        placements=placements,
        incremental=Incremental(code="code", mlproject={}, recorded=recorded),
    )
    owned = {path for entry in entries.values() for path in entry["files"]}
    assert owned
    assert {path for path in owned if again[path] != marker} == set()
