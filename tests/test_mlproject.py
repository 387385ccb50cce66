import dataclasses
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import mlproject
from generator.findings import Severity
from generator.mlproject import Canary, ModelSpec
from testsupport.helpers import VALID
from testsupport.helpers import mlproject as text_of


def messages(text, repo=""):
    return [str(f) for f in mlproject.parse(text, "MLproject", repo).findings]


def test_valid_file_gives_a_spec_with_defaults_left_open():
    result = mlproject.parse(text_of(), "MLproject")
    assert result.findings == ()
    spec = result.spec
    assert spec is not None
    assert (spec.id, spec.team, spec.input_type) == ("churn", "rnd", "doubles")
    assert spec.main_language == "python"
    assert spec.exposed is False
    assert spec.pickle is True
    assert spec.slo is None
    assert spec.instances is None
    assert spec.packages == ()


def test_reference_model_from_the_blog():
    text = text_of(
        name="blaze-visual-similarity-model",
        id="visual-similarity",
        description="Returns a list of (visually) similar products",
        slo=100000,
        default_output="0.00",
        packages=["scikit-learn", "pandas"],
        exposed=False,
        pickle=True,
    )
    result = mlproject.parse(text, "MLproject", "acme/blaze-visual-similarity-model")
    assert result.findings == ()
    assert result.spec.packages == ("scikit-learn", "pandas")
    assert result.spec.slo == 100000


def test_every_error_is_reported_at_once():
    text = "name: churn-model\nid: X\nteam: rnd\nslo: fast\ninstances: 0\n"
    found = messages(text)
    assert any(m.startswith("MLproject:2:5: id: must be a DNS-1035 label") for m in found)
    assert any(m.startswith("MLproject:4:6: slo: must be an integer") for m in found)
    assert any(
        m.startswith("MLproject:5:12: instances: must be an integer between 1 and 50")
        for m in found
    )
    assert sum("missing required key" in m for m in found) == 4


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "slo",
            999,
            "slo: must be an integer number of microseconds between 1000 and 10000000 (got 999)",
        ),
        ("slo", 10_000_001, "(got 10000001)"),
        ("slo", True, "(got true)"),
        ("instances", 51, "instances: must be an integer between 1 and 50 (got 51)"),
        ("exposed", "maybe", 'exposed: must be true or false (got "maybe")'),
        ("pickle", 1, "pickle: must be true or false (got 1)"),
        ("id", "a", "id: must be a DNS-1035 label"),
        ("id", "x" * 41, "id: must be a DNS-1035 label"),
        ("id", "-churn", "id: must be a DNS-1035 label"),
        ("id", "2churn", "starting with a letter"),
        ("version", "4f1255f50f5f32e93b4fb69704d23f466e468eb", "version: must be the sha1"),
        (
            "input_type",
            "tensor",
            "input_type: must be one of integers, floats, doubles, bytes, strings",
        ),
        ("main-language", "scala", "main-language: must be 'python'"),
        ("description", "x" * 201, "description: must be one line of 1 to 200 characters"),
        ("description", "", "description: must be one line"),
        ("description", "a\u2028b", "U+2028, which YAML 1.1 (Modelship, MLflow) reads as a line"),
        ("description", "a\tb", "without control characters"),
        (
            "packages",
            "pandas",
            "packages: must be a list of at most 200 PEP 508 requirement strings",
        ),
        ("packages", ["pandas", 3], "packages[1]: must be a PEP 508 requirement string"),
        ("packages", ["pandas>=>2"], "packages[0]: not a PEP 508 requirement"),
        ("default_output", ["a"], "default_output: must be a string"),
        ("team", "R&D", "team: must be a team name"),
        ("name", "..", "name: must be a name of 1 to 100 letters"),
        ("name", ".hidden", "that starts with a letter or digit"),
    ],
)
def test_rules_name_the_key_and_the_value(key, value, expected):
    found = messages(text_of(**{key: value}))
    assert any(expected in m for m in found), found
    assert mlproject.parse(text_of(**{key: value})).spec is None


@pytest.mark.parametrize(
    "key", ["name", "id", "team", "description", "version", "input_type", "default_output"]
)
def test_required_keys(key):
    assert f"missing required key '{key}'" in "\n".join(messages(text_of(**{key: ...})))


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("input-type", "input_type"),
        ("main_language", "main-language"),
        ("instance", "instances"),
        ("slos", "slo"),
    ],
)
def test_unknown_keys_suggest_the_known_one(typo, suggestion):
    found = messages(text_of() + f"{typo}: 1\n")
    assert any(f"{typo}: unknown key; did you mean '{suggestion}'?" in m for m in found), found


def test_unknown_key_without_a_close_match_lists_the_keys():
    [finding] = messages(text_of() + "zzz: 1\n")
    assert "zzz: unknown key; known keys are canary, conda_env, " in finding


@pytest.mark.parametrize(
    ("key", "shown"), [("null", "null"), ("~", "null"), ("yes", "true"), ("true", "true")]
)
def test_a_key_yaml_reads_as_null_or_a_boolean_is_named_as_written_in_json(key, shown):
    [finding] = messages(text_of() + f"{key}: 1\n")
    assert f"{shown}: unknown key" in finding
    assert "None" not in finding
    assert "True" not in finding


def test_standard_mlflow_keys_are_accepted():
    text = text_of() + (
        "python_env: python_env.yaml\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters:\n"
        "      alpha: float\n"
        "      data: {type: path, default: data.csv}\n"
        "    command: python train.py {alpha} {data}\n"
    )
    result = mlproject.parse(text)
    assert result.findings == ()
    assert result.spec.mlflow_env == "python_env"
    assert result.spec.entry_points == ("main",)


def test_docker_env_needs_an_image_and_list_shapes():
    found = messages(text_of() + "docker_env:\n  volumes: /data\n")
    assert any("docker_env: missing required key 'image'" in m for m in found)
    assert any("docker_env.volumes: must be a list of strings" in m for m in found)


def test_one_environment_only():
    found = messages(text_of() + "conda_env: c.yaml\ndocker_env: {image: x}\n")
    assert any("a project can use only one environment" in m for m in found)


def test_entry_point_shapes_mlflow_would_crash_on():
    found = messages(
        text_of() + "entry_points:\n  main:\n    parameters:\n    command: x\n  other: 3\n"
    )
    assert any("entry_points.main.parameters: is empty" in m for m in found)
    assert any("entry_points.other: an entry point must be a mapping" in m for m in found)


def test_entry_point_typos_are_warnings():
    text = text_of() + (
        "entry_points:\n"
        "  main:\n"
        "    parameters:\n"
        "      n: {type:int, default: 3}\n"
        "    command: python train.py {n} {missing}\n"
        "    comand: typo\n"
    )
    result = mlproject.parse(text)
    assert result.spec is not None
    assert all(f.severity is Severity.WARNING for f in result.findings)
    found = "\n".join(map(str, result.findings))
    assert "write 'type: int' with a space after the colon" in found
    assert "{missing} is not a declared parameter" in found
    assert "warning: entry_points.main.comand: MLflow ignores this key" in found


def test_name_differing_from_the_repository_is_a_warning():
    result = mlproject.parse(text_of(), "MLproject", "acme/other-model")
    [finding] = result.findings
    assert finding.severity is Severity.WARNING
    assert "is normally the repository name ('other-model')" in finding.message
    assert result.spec is not None


def test_numbers_meant_as_text_get_a_quote_hint():
    text = text_of().replace("default_output: '0.0'", "default_output: 0.00")
    [finding] = messages(text)
    assert finding.endswith(
        'default_output: YAML read 0.00 as a number; quote it: default_output: "0.00"'
    )


def test_duplicate_keys_are_errors_at_the_second_occurrence():
    [finding] = messages(text_of() + "slo: 2000\nslo: 3000\n")
    assert finding == "MLproject:9:1: slo: duplicate key (first defined at line 8)"


def test_duplicate_packages_are_warnings():
    result = mlproject.parse(text_of(packages=["pandas", "Pandas>=2"]))
    [finding] = result.findings
    assert finding.severity is Severity.WARNING
    assert "Pandas is already listed at packages[0]" in finding.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "MLproject:1:1: the file is empty"),
        (
            "[1, 2]\n",
            "MLproject:1:1: the MLproject must be a mapping of keys to values (got [1, 2])",
        ),
        (
            "just text\n",
            'MLproject:1:1: the MLproject must be a mapping of keys to values (got "just text")',
        ),
        (
            "a: b: c\n",
            "MLproject:1:5: invalid YAML: mapping values are not allowed in this context",
        ),
    ],
)
def test_malformed_files(text, expected):
    assert messages(text)[0].startswith(expected)


def test_findings_are_sorted_by_position():
    found = mlproject.parse("slo: x\nid: Y\n").findings
    assert list(found) == sorted(found)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_no_text_raises(text):
    result = mlproject.parse(text)
    assert (result.spec is None) == any(f.severity is Severity.ERROR for f in result.findings)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [*VALID, "slo", "instances", "packages", "entry_points", "docker_env", "exposed"]
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_no_structure_raises(data):
    mlproject.parse(yaml.safe_dump(data))


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"canary": Canary("c" * 40, 10)},
        {
            "canary": Canary("c" * 40, 10, "v2"),
            "slo_objective": 99.5,
            "slo": 5,
            "instances": 3,
            "packages": ("pandas>=2", "scikit-learn"),
            "skip_environments": ("production",),
            "mlflow_env": "conda.yaml",
            "entry_points": ("main",),
        },
    ],
)
def test_a_record_is_the_spec_as_asdict_gives_it(extra):
    """index.json's record of a spec: ``asdict`` with lists for tuples, less what an
    MLproject leaves out (no slo_objective, no canary, a canary's version)."""
    spec = ModelSpec(
        name="churn-model",
        id="churn",
        team="rnd",
        description="d",
        version="1",
        input_type="floats",
        default_output="0.0",
        **extra,
    )
    expected = {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in dataclasses.asdict(spec).items()
        if not (key in ("slo_objective", "canary") and value is None)
    }
    if "canary" in expected:
        expected["canary"] = {k: v for k, v in expected["canary"].items() if v is not None}
    record = mlproject.record_of(spec)
    assert record == expected
    assert json.dumps(record, sort_keys=True) == json.dumps(expected, sort_keys=True)
