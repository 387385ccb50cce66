"""index.json is read as untrusted input: every entry is checked by the MLproject rules and its
own (id, source, files, state) before any model is rendered again from it."""

import json

import pytest

from generator import index
from generator.errors import ConfigError, ExitCode
from testsupport.helpers import ROOT

EXAMPLE = json.loads((ROOT / "rendered" / "index.json").read_text())


def damaged(change, model_id="size-advice"):
    document = json.loads(json.dumps(EXAMPLE))
    change(document["models"][model_id])
    return document


def dumped(document):
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def problem_of(document):
    with pytest.raises(ConfigError) as caught:
        index.loads(dumped(document), "rendered/index.json")
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.message


def damage_of(document, model_id="size-advice"):
    """The problems of the one damaged entry of ``document``; the other entries load."""
    loaded = index.loads(dumped(document), "rendered/index.json")
    assert set(loaded.damaged) == {model_id}
    assert model_id not in loaded.models
    assert len(loaded.models) == len(document["models"]) - 1
    return "\n".join(str(problem) for problem in loaded.damaged[model_id].problems)


def position_of(document, text):
    before = dumped(document).decode()
    before = before[: before.index(text)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


def setter(*path, value):
    def change(entry):
        target = entry
        for key in path[:-1]:
            target = target[key]
        if value is ...:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


def test_the_example_index_loads():
    loaded = index.loads((ROOT / "rendered" / "index.json").read_bytes())
    assert len(loaded.models) == 6
    assert "production/consul/kv.json" in loaded.shared_files


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("spec", "slo"), "fast", "spec.slo: must be an integer number of microseconds"),
        (("spec", "slo"), 10, "spec.slo: must be an integer number of microseconds"),
        (("spec", "default_output"), None, "spec.default_output: must be a string"),
        (("spec", "exposed"), "false", "spec.exposed: must be true or false"),
        (("spec", "instances"), 0, "spec.instances: must be an integer between 1 and 50"),
        (("spec", "version"), "v1", "spec.version: must be the sha1 of the trained model"),
        (("spec", "input_type"), "images", "spec.input_type: must be one of integers"),
        (("spec", "main_language"), "java", "spec.main-language: must be 'python'"),
        (("spec", "packages"), ["not a requirement!"], "spec.packages[0]: not a PEP 508"),
        (("spec", "description"), "two\nlines", "spec.description: must be one line"),
        (("spec", "team"), ..., "spec: missing required key 'team'"),
        (("spec", "colour"), "red", "spec.colour: unknown key"),
        (
            ("spec", "mlflow_env"),
            "bash_env",
            "spec.mlflow_env: must be conda_env, docker_env, python_env or null",
        ),
        (("spec", "entry_points"), [1], "spec.entry_points: an entry point name must be text"),
        (("spec", "entry_points"), [[1]], "spec.entry_points: must be a list of entry point names"),
        (
            ("spec", "entry_points"),
            ["b", "a"],
            "spec.entry_points: is not as an MLproject gives it",
        ),
        (("source", "commit"), 5, "source.commit: must be the 40 lowercase hex characters"),
        (("source", "commit"), "HEAD", "source.commit: must be the 40 lowercase hex characters"),
        (("source", "repo"), "../x", "source.repo: must be a GitHub repository as owner/name"),
        (("source", "branch"), None, "source.branch: must be a string"),
        (("source", "clone_url"), ..., "source: missing required key 'clone_url'"),
        (("state",), "paused", "state: must be deployed or kept-on-error"),
        (("files",), ["../../../../tmp/x"], "files[0]: must be a path inside the rendered tree"),
        (("files",), ["/etc/passwd"], "files[0]: must be a path inside the rendered tree"),
        (("files",), ["a//b"], "files[0]: must be a path inside the rendered tree"),
        (("files",), "jenkins/x.yaml", "files: must be a list of paths"),
        (("errors",), [3], "errors[0]: must be an error message"),
        (("instances",), "2", "instances: must be an integer"),
    ],
)
def test_a_bad_entry_is_a_damaged_entry_of_that_model_alone(path, value, expected):
    message = damage_of(damaged(setter(*path, value=value)))
    assert message.startswith("rendered/index.json:"), message
    assert f": models.size-advice.{expected}" in message, message


def test_the_problem_is_positioned_at_its_line():
    document = damaged(setter("spec", "slo", value="fast"))
    line, column = position_of(document, '"fast"')
    message = damage_of(document)
    assert f"rendered/index.json:{line}:{column}: models.size-advice.spec.slo: " in message


def test_every_problem_is_listed():
    def change(entry):
        entry["spec"]["slo"] = "fast"
        entry["source"]["commit"] = 5

    message = damage_of(damaged(change))
    assert "models.size-advice.spec.slo" in message
    assert "models.size-advice.source.commit" in message


def test_an_id_must_be_a_dns_label_equal_to_its_key():
    document = json.loads(json.dumps(EXAMPLE))
    entry = document["models"].pop("size-advice")
    entry["spec"]["id"] = "../../../../tmp/x"
    document["models"]["../../../../tmp/x"] = entry
    message = damage_of(document, "../../../../tmp/x")
    assert "models.../../../../tmp/x.spec.id: must be a DNS-1035 label" in message
    other = damaged(setter("spec", "id", value="other-id"))
    assert "models.size-advice.spec.id: the entry of 'size-advice' holds the model 'other-id'" in (
        damage_of(other)
    )


def test_what_can_be_trusted_of_a_damaged_entry_is_kept_apart():
    loaded = index.loads(dumped(damaged(setter("spec", "slo", value="fast"))))
    item = loaded.damaged["size-advice"]
    assert item.repo == "acme/size-advice-model"
    assert item.files == tuple(EXAMPLE["models"]["size-advice"]["files"])
    assert item.record["spec"]["slo"] == "fast"
    broken = index.loads(dumped(damaged(setter("files", value=["../x"]))))
    assert broken.damaged["size-advice"].files is None
    assert broken.damaged["size-advice"].repo == "acme/size-advice-model"


def test_an_entry_nested_thousands_deep_is_a_damaged_entry_and_a_document_a_config_error():
    deep: list = []
    for _ in range(500):
        deep = [deep]
    message = damage_of(damaged(setter("spec", "packages", value=deep)))
    assert "nested more than 64 levels deep" in message
    with pytest.raises(ConfigError, match="nested too deeply"):
        index.loads(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(format=2), "format: must be 1"),
        (lambda d: d.pop("models"), "missing required key 'models'"),
        (lambda d: d.update(models=[]), "models: must be a mapping of model ids to entries"),
        (lambda d: d.update(shared_files=["../x"]), "shared_files[0]: must be a path inside"),
        (lambda d: d.update(extra=1), "extra: unknown key"),
    ],
)
def test_a_bad_document_is_a_config_error(change, expected):
    document = json.loads(json.dumps(EXAMPLE))
    change(document)
    assert expected in problem_of(document)


@pytest.mark.parametrize("data", [b"", b"{not json", b"[]", b"\xff\xfe"])
def test_what_is_not_json_or_not_an_object_is_not_an_index(data):
    with pytest.raises(ConfigError, match=r"not a (valid )?Modelship index"):
        index.loads(data, "rendered/index.json")
