"""index.json is read as untrusted input: every entry is checked by the MLproject rules and its
own (id, source, digests, files, state) before any model is rendered again from it. Format 2
is written; format 1, which every platform rendered before environments could differ, is
still read."""

import json

import pytest

from generator import index
from generator.errors import ConfigError, ExitCode
from testsupport.helpers import ROOT

EXAMPLE = json.loads((ROOT / "rendered" / "index.json").read_text())
# The example platform's index.json as Modelship wrote it before format 2.
FORMAT_1 = json.loads((ROOT / "tests" / "data" / "index-format-1.json").read_text())


def damaged(change, model_id="size-advice", document=FORMAT_1):
    document = json.loads(json.dumps(document))
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


def spec_setter(*path, value):
    """In format 2: change the model's own spec (under its digest)."""

    def change(entry):
        setter(*path, value=value)(entry["specs"][entry["spec"]])

    return change


def test_the_example_index_loads():
    loaded = index.loads((ROOT / "rendered" / "index.json").read_bytes())
    assert loaded.format == index.FORMAT == 2
    assert len(loaded.models) == 6
    assert "production/consul/kv.json" in loaded.shared_files
    staging = loaded.in_environment("staging")
    production = loaded.in_environment("production")
    assert sorted(staging) == sorted(production) == sorted(loaded.models)
    assert {entry.instances for entry in staging.values()} == {1}
    assert all(entry.promotion is not None for entry in production.values())


def test_a_format_1_index_is_read_as_running_in_every_environment_it_has_files_in():
    loaded = index.loads(dumped(FORMAT_1))
    assert loaded.format == 1
    entry = loaded.models["size-advice"]
    assert sorted(entry.environments) == ["production", "staging"]
    for placed in entry.environments.values():
        assert placed.model == entry.model
        assert (placed.instances, placed.slo, placed.namespace) == (2, 80000, "models-rnd")
        assert placed.image == FORMAT_1["models"]["size-advice"]["image"]
        assert placed.promotion is None


def test_format_2_is_written_and_read_back_unchanged():
    loaded = index.loads(dumped(FORMAT_1))
    written = index.dumps(loaded.models.values(), loaded.shared_files)
    again = index.loads(written)
    assert json.loads(written)["format"] == 2
    assert again.models == loaded.models
    assert index.dumps(again.models.values(), again.shared_files) == written


def test_rejected_repositories_are_written_only_when_there_are_some_and_read_back():
    loaded = index.loads(dumped(EXAMPLE))
    plain = index.dumps(loaded.models.values(), loaded.shared_files)
    assert "rejected" not in json.loads(plain)
    rejected = index.Rejected("acme/churn-model", "a" * 40, ("MLproject:10:6: slo: bad",))
    written = index.dumps(loaded.models.values(), loaded.shared_files, rejected=[rejected])
    assert json.loads(written)["rejected"] == {
        "acme/churn-model": {"commit": "a" * 40, "errors": ["MLproject:10:6: slo: bad"]}
    }
    assert index.loads(written).rejected == {"acme/churn-model": rejected}


def test_a_spec_is_kept_once_under_its_digest():
    entry = EXAMPLE["models"]["size-advice"]
    assert list(entry["specs"]) == [entry["spec"]]
    assert {placed["spec"] for placed in entry["environments"].values()} == {entry["spec"]}
    spec = index.loads(dumped(EXAMPLE)).models["size-advice"].model.spec
    assert index.spec_digest(spec) == entry["spec"]


def test_a_field_left_at_its_default_does_not_change_the_digest():
    spec = index.loads(dumped(EXAMPLE)).models["size-advice"].model.spec
    assert spec.skip_environments == ()
    record = dict(EXAMPLE["models"]["size-advice"]["specs"][index.spec_digest(spec)])
    record.pop("skip_environments")  # as a spec recorded before the key existed
    older = damaged(spec_setter("skip_environments", value=...), document=EXAMPLE)
    assert index.loads(dumped(older)).models["size-advice"].model.spec == spec


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
def test_a_bad_format_1_entry_is_a_damaged_entry_of_that_model_alone(path, value, expected):
    message = damage_of(damaged(setter(*path, value=value)))
    assert message.startswith("rendered/index.json:"), message
    assert f": models.size-advice.{expected}" in message, message


SIZE_ADVICE_SPEC = EXAMPLE["models"]["size-advice"]["spec"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (spec_setter("slo", value="fast"), f".specs.{SIZE_ADVICE_SPEC}.slo: must be an integer"),
        (spec_setter("team", value=...), f".specs.{SIZE_ADVICE_SPEC}: missing required key 'team'"),
        (spec_setter("colour", value="red"), f".specs.{SIZE_ADVICE_SPEC}.colour: unknown key"),
        (
            spec_setter("skip_environments", value="production"),
            f".specs.{SIZE_ADVICE_SPEC}.skip_environments: must be a list of environment names",
        ),
        (
            spec_setter("slo", value=90000),
            f".specs.{SIZE_ADVICE_SPEC}: is not the digest of the spec",
        ),
        (setter("spec", value="sha256:" + "0" * 64), ".spec: names the spec sha256:000"),
        (setter("spec", value="HEAD"), ".spec: must be a spec digest"),
        (
            setter("environments", "production", "spec", value="sha256:" + "1" * 64),
            ".environments.production.spec: names the spec sha256:111",
        ),
        (
            setter("environments", "staging", "instances", value="2"),
            ".environments.staging.instances: must be an integer",
        ),
        (
            setter("environments", "staging", "state", value="paused"),
            ".environments.staging.state: must be deployed, kept-on-error or waiting-for-image",
        ),
        (
            setter("environments", "staging", "source", "commit", value="HEAD"),
            ".environments.staging.source.commit: must be the 40 lowercase hex characters",
        ),
        (
            setter("environments", "production", "promotion", "action", value="merge"),
            ".environments.production.promotion.action: must be promote or rollback",
        ),
        (
            setter("environments", "Prod", value={}),
            ".environments: must be keyed by environment names",
        ),
        (setter("environments", value=...), ": missing required key 'environments'"),
        (setter("files", value=["../x"]), ".files[0]: must be a path inside the rendered tree"),
    ],
)
def test_a_bad_format_2_entry_is_a_damaged_entry_of_that_model_alone(change, expected):
    message = damage_of(damaged(change, document=EXAMPLE))
    assert message.startswith("rendered/index.json:"), message
    assert f": models.size-advice{expected}" in message, message


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
    document = json.loads(json.dumps(FORMAT_1))
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
    assert item.files == tuple(FORMAT_1["models"]["size-advice"]["files"])
    assert item.environments == ("production", "staging")  # the folders of its files
    assert item.record["spec"]["slo"] == "fast"
    broken = index.loads(dumped(damaged(setter("files", value=["../x"]))))
    assert broken.damaged["size-advice"].files is None
    assert broken.damaged["size-advice"].repo == "acme/size-advice-model"
    assert broken.damaged["size-advice"].environments == ()


def test_a_damaged_format_2_entry_ran_where_its_environments_or_files_say():
    def change(entry):
        entry["specs"][entry["spec"]]["slo"] = "fast"
        entry["files"] = [path for path in entry["files"] if not path.startswith("production/")]

    item = index.loads(dumped(damaged(change, document=EXAMPLE))).damaged["size-advice"]
    assert set(EXAMPLE["models"]["size-advice"]["environments"]) == {"production", "staging"}
    assert item.environments == ("production", "staging")
    assert index.loads(dumped(damaged(change, document=EXAMPLE))).damaged_in("production") == {
        "size-advice": item
    }


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
        (lambda d: d.update(format=3), "format: must be 2 (or 1, written by an earlier Modelship)"),
        (lambda d: d.pop("models"), "missing required key 'models'"),
        (lambda d: d.update(models=[]), "models: must be a mapping of model ids to entries"),
        (lambda d: d.update(shared_files=["../x"]), "shared_files[0]: must be a path inside"),
        (lambda d: d.update(extra=1), "extra: unknown key"),
        (
            lambda d: d.update(rejected={"acme/x": {"commit": "abc", "errors": []}}),
            "rejected.acme/x.commit: must be the 40 lowercase hex characters",
        ),
        (
            lambda d: d.update(rejected={"../x": {"commit": "", "errors": []}}),
            "must be a GitHub repository as owner/name",
        ),
    ],
)
def test_a_bad_document_is_a_config_error(change, expected):
    for example in (EXAMPLE, FORMAT_1):
        document = json.loads(json.dumps(example))
        change(document)
        assert expected in problem_of(document)


def test_a_format_1_entry_in_a_format_2_index_is_read_as_format_1():
    """What a damaged format-1 entry becomes when the next render keeps it verbatim in a
    format-2 index: still checked by format 1's rules (its problems stay those a person must
    fix), and read as format 1 once repaired."""
    document = json.loads(json.dumps(EXAMPLE))
    document["models"]["size-advice"] = FORMAT_1["models"]["size-advice"]
    loaded = index.loads(dumped(document))
    assert loaded.models["size-advice"] == index.loads(dumped(FORMAT_1)).models["size-advice"]
    document["models"]["size-advice"] = damaged(setter("spec", "slo", value="fast"))["models"][
        "size-advice"
    ]
    message = damage_of(document)
    assert ": models.size-advice.spec.slo: must be an integer" in message, message
    assert "spec digest" not in message, message
    assert "environments" not in message, message


@pytest.mark.parametrize("data", [b"", b"{not json", b"[]", b"\xff\xfe"])
def test_what_is_not_json_or_not_an_object_is_not_an_index(data):
    with pytest.raises(ConfigError, match=r"not a (valid )?Modelship index"):
        index.loads(data, "rendered/index.json")


def test_a_state_is_found_in_an_earlier_index_of_either_format():
    old = index.loads(dumped(FORMAT_1)).models["size-advice"].model
    new = index.loads(dumped(EXAMPLE)).models["size-advice"].model
    key = index.spec_key(old)
    assert index.known_states(dumped(FORMAT_1), {key}) == {key: old}
    assert index.known_states(dumped(EXAMPLE), {index.spec_key(new)}) == {index.spec_key(new): new}
    assert index.known_states(dumped(FORMAT_1), {("0" * 40, key[1])}) == {}
    placed = index.recorded_state(dumped(FORMAT_1), "size-advice", "production")
    assert placed is not None
    assert placed.model == old
    assert index.recorded_state(dumped(FORMAT_1), "size-advice", "qa") is None


def test_a_damaged_earlier_index_yields_nothing_rather_than_an_unchecked_state():
    model = index.loads(dumped(FORMAT_1)).models["size-advice"].model
    key = index.spec_key(model)
    bad = damaged(setter("spec", "default_output", value=None))
    assert index.known_states(dumped(bad), {key}) == {}
    assert index.known_states(b"{not json", {key}) == {}
    assert index.recorded_state(dumped(bad), "size-advice", "production") is None


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'{"format": 2, "models": {}, "n": ' + b"9" * 5000 + b"}", "a number too long to read"),
        (b'\xff{"format": 2}', "not UTF-8 text, byte 0"),
        (b'{"format": 2,', "Expecting property name enclosed in double quotes"),
    ],
    ids=["long-number", "not-utf8", "not-json"],
)
def test_an_index_that_cannot_be_read_says_why_in_its_own_words(data, said):
    with pytest.raises(ConfigError) as caught:
        index.loads(data)
    assert caught.value.message.startswith("index.json: not a Modelship index (")
    assert said in caught.value.message
    assert "sys." not in caught.value.message
