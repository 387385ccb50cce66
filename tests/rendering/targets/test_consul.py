"""The Consul target: kv.json read the way `consul kv import` reads it (a JSON array of
impexp.Entry: key, flags as uint64, value as standard base64 of the stored bytes)."""

import base64
import binascii
import json

import pytest
import yaml

from generator import evaluate
from generator.config import loader
from generator.index import Damaged, Index, Preserved
from generator.rendering import escapers
from generator.rendering.deployment import EnvironmentRelease, ModelDeployment, Release
from generator.rendering.targets import consul
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import mlproject, platform_dir, write_repo

FIELDS = {
    "name",
    "team",
    "description",
    "version",
    "input_type",
    "slo",
    "default_output",
    "exposed",
    "repo",
    "commit",
    "image",
    "route",
}
HOSTILE_DESCRIPTION = "it's \"quoted\" {{ x }} ${HOME} $(id) `id` ; ../../etc ''' \\ é😀"
HOSTILE_OUTPUT = (
    '"},{"key":"modelship/models/other/image","flags":0,"value":"ZXZpbA=="}\n'
    "'''\n$(reboot)\n`id` ${X} {{ }} ../../../other/image\u2028\x00 é😀"
)


def plan(folder):
    platform = loader.load(folder / "platform.yaml")
    evaluation = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index())
    return platform, helpers.plan_everywhere(platform, evaluation.models, helpers.renderer())


def consul_import(content: bytes) -> dict[str, bytes]:
    """Decode kv.json as `consul kv import` does, refusing whatever it would refuse."""
    entries = json.loads(content)
    assert isinstance(entries, list)
    pairs = {}
    for entry in entries:
        assert set(entry) == {"key", "flags", "value"}
        assert isinstance(entry["key"], str)
        assert isinstance(entry["flags"], int)
        assert 0 <= entry["flags"] < 2**64
        assert isinstance(entry["value"], str)
        try:
            pairs[entry["key"]] = base64.b64decode(entry["value"], validate=True)
        except binascii.Error as error:
            pytest.fail(f"{entry['key']}: not standard base64: {error}")
    assert len(pairs) == len(entries), "a key is listed twice"
    return pairs


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = platform_dir(tmp_path_factory.mktemp("platform"))
    text = mlproject(
        name="hostile-model",
        id="hostile",
        description=HOSTILE_DESCRIPTION,
        default_output=HOSTILE_OUTPUT,
    )
    write_repo(folder / "examples" / "repos", "hostile-model", text)
    return plan(folder)


def test_every_environment_gets_the_same_importable_file(example):
    platform, tree = example
    files = {env.name: tree[f"{env.name}/consul/kv.json"] for env in platform.environments}
    assert set(files) == {"production", "staging"}
    assert len(set(files.values())) == 1
    assert len(consul_import(files["production"])) == 7 * len(FIELDS)


def test_keys_are_sorted_and_each_model_has_its_folder(example):
    _, tree = example
    content = tree["production/consul/kv.json"]
    keys = [entry["key"] for entry in json.loads(content)]
    assert keys == sorted(keys)
    models = json.loads(tree["index.json"])["models"]
    by_model = {}
    for key in keys:
        prefix, model_id, field = key.rsplit("/", 2)
        assert prefix == "modelship/models"
        by_model.setdefault(model_id, set()).add(field)
    assert by_model == dict.fromkeys(models, FIELDS)


def test_values_round_trip_for_every_model(example):
    _, tree = example
    pairs = consul_import(tree["staging/consul/kv.json"])
    for model_id, model in json.loads(tree["index.json"])["models"].items():
        entry = model["environments"]["staging"]
        spec, source = model["specs"][entry["spec"]], entry["source"]

        def value(field, model_id=model_id):
            return pairs[f"modelship/models/{model_id}/{field}"].decode("utf-8")

        assert value("name") == spec["name"]
        assert value("team") == spec["team"]
        assert value("description") == spec["description"]
        assert value("version") == spec["version"]
        assert value("input_type") == spec["input_type"]
        assert value("default_output") == spec["default_output"]
        assert value("slo") == str(entry["slo"])
        assert value("exposed") == ("true" if spec["exposed"] else "false")
        assert value("repo") == source["repo"]
        assert value("commit") == source["commit"]
        assert value("image") == entry["image"]
        assert value("route") == f"/{model_id}/predict"


def test_the_image_is_the_one_the_deployment_runs(example):
    _, tree = example
    pairs = consul_import(tree["production/consul/kv.json"])
    deployment = yaml.safe_load(
        tree["production/kubernetes/models-search/search-ranking/deployment.yaml"]
    )
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert pairs["modelship/models/search-ranking/image"].decode() == container["image"]
    assert pairs["modelship/models/search-ranking/slo"] == b"50000"
    assert pairs["modelship/models/search-ranking/exposed"] == b"true"


def test_hostile_values_are_data_under_their_own_key(example):
    _, tree = example
    pairs = consul_import(tree["production/consul/kv.json"])
    assert pairs["modelship/models/hostile/default_output"] == HOSTILE_OUTPUT.encode("utf-8")
    assert pairs["modelship/models/hostile/description"] == HOSTILE_DESCRIPTION.encode("utf-8")
    assert not any(key.startswith("modelship/models/other") for key in pairs)
    assert {k.rsplit("/", 1)[0] for k in pairs if "/hostile/" in k} == {"modelship/models/hostile"}


def test_keys_follow_the_platforms_prefix(tmp_path):
    folder = platform_dir(tmp_path, repos={"churn-model": mlproject()})
    platform_file = folder / "platform.yaml"
    platform_file.write_text(
        platform_file.read_text().replace("prefix: modelship/models", "prefix: acme/ml_v2/models")
    )
    _, tree = plan(folder)
    keys = sorted(consul_import(tree["staging/consul/kv.json"]))
    assert keys == sorted(f"acme/ml_v2/models/churn/{field}" for field in FIELDS)


def test_a_platform_without_models_gets_an_empty_import(tmp_path):
    _, tree = plan(platform_dir(tmp_path, repos={}))
    assert consul_import(tree["production/consul/kv.json"]) == {}


@pytest.mark.parametrize(
    ("prefix", "model_id", "field"),
    [
        ("modelship/models", "a/b", "name"),
        ("modelship/models", "..", "name"),
        ("modelship/models", "", "name"),
        ("modelship/models/", "churn", "name"),
        ("/modelship", "churn", "name"),
        ("modelship/models", "churn", "name\n"),
        ("modelship/models", "Churn", "name"),
    ],
)
def test_an_unsafe_key_is_refused(prefix, model_id, field):
    with pytest.raises(ValueError, match="unsafe Consul key"):
        consul.model_key(prefix, model_id, field)


def test_each_line_is_the_entry_as_to_json_writes_it(example):
    """kv.json's text does not depend on how it is made: one entry a line, as ``to_json``
    writes it (the lines of a model are written directly, without the JSON encoder)."""
    _, tree = example
    lines = tree["production/consul/kv.json"].decode("ascii").split("\n")
    assert lines[0] == "["
    assert lines[-2:] == ["]", ""]
    body = lines[1:-2]
    assert all(line.endswith(",") for line in body[:-1])
    assert not body[-1].endswith(",")
    for line in body:
        text = line.removesuffix(",")
        assert text == "  " + escapers.to_json(json.loads(text))


def test_a_platform_template_still_gets_every_entry(tmp_path):
    folder = platform_dir(tmp_path, repos={"churn-model": mlproject()})
    override = folder / "templates"
    (override / "consul").mkdir(parents=True)
    (override / "consul" / "kv.json.j2").write_text("{{ entries | to_json }}\n")
    platform = loader.load(folder / "platform.yaml")
    models = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index()).models
    built_in = helpers.plan_everywhere(platform, models, helpers.renderer())
    replaced = helpers.plan_everywhere(platform, models, helpers.renderer(override))
    path = "staging/consul/kv.json"
    assert replaced[path] != built_in[path]
    assert json.loads(replaced[path]) == json.loads(built_in[path])
    assert len(json.loads(replaced[path])) == len(FIELDS)


def kept(model_id, *keys):
    """A model kept as it was (its index.json entry damaged), with these keys in production."""
    damaged = Damaged(model_id, {}, (), (), None, ("production",))
    entries = tuple({"flags": 0, "key": key, "value": "eA=="} for key in keys)
    return Preserved(damaged, {}, {"production": entries})


def test_kept_keys_are_listed_in_key_order_with_the_rendered_ones(example):
    """A damaged entry's id is whatever index.json says: its keys may share a rendered model's
    folder, or lie in folders whose names begin alike; kv.json lists every key sorted."""
    platform, _ = example
    models = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index()).models
    production = next(env for env in platform.environments if env.name == "production")
    deployments = tuple(
        sorted((ModelDeployment.of(platform, m, production) for m in models), key=lambda d: d.id)
    )
    preserved = (
        kept(
            "fraud-score-x",
            "modelship/models/fraud-score-x/name",
            "modelship/models/fraud-score-x/a",
        ),
        kept("fraud-score/sub", "modelship/models/fraud-score/sub/name"),
        kept("fraud", "modelship/models/fraud/zz"),
    )
    release = Release(
        models=deployments,
        environments=(EnvironmentRelease(production, deployments, preserved),),
    )
    [rendered] = consul.render(platform, release, helpers.renderer())
    entries = json.loads(rendered.content)
    keys = [entry["key"] for entry in entries]
    assert keys == sorted(keys)
    assert len(keys) == len(deployments) * len(FIELDS) + 4
    assert {"modelship/models/fraud-score/sub/name", "modelship/models/fraud/zz"} <= set(keys)
    for line in rendered.content.decode("ascii").split("\n")[1:-2]:
        text = line.removesuffix(",")
        assert text == "  " + escapers.to_json(json.loads(text))
