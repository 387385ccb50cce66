"""What `validate` accepts is exactly what index.json accepts: one rule set, checked both ways.

A record index.json accepts is the record of some MLproject that validates to the same spec,
and every spec an MLproject validates to is a record index.json accepts. Generated values run
at and past every rule (any JSON value in any field, any unicode).
"""

import json

import yaml
from hypothesis import given
from hypothesis import strategies as st

from generator import mlproject, yamlpos
from generator.mlproject import MLFLOW_ENV_KEYS, RECORD_RENAMED
from testsupport.helpers import VALID
from testsupport.property import examples


def record_of(spec):
    """The spec as index.json writes it (JSON types)."""
    return json.loads(json.dumps(mlproject.record_of(spec)))


SPEC = mlproject.parse(yaml.safe_dump(VALID)).spec
assert SPEC is not None
RECORD = record_of(SPEC)
EXAMPLES = examples(150)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
# Values near the rules: texts of the right alphabet with a stray character, at the limits.
near_values = st.one_of(
    st.text(alphabet="abcdef0123456789\n", min_size=39, max_size=41),
    st.text(min_size=198, max_size=202),
    st.text(min_size=4095, max_size=4097),
    st.from_regex(r"[a-z][-a-z0-9]{0,40}[a-z0-9]\n?", fullmatch=True),
    st.integers(min_value=-2, max_value=10_000_002),
    st.lists(st.text(max_size=8), max_size=4),
    st.sampled_from([*MLFLOW_ENV_KEYS, "bash_env", None]),
)
# Canary blocks at and past their rules: a commit near 40 hex, a weight near 1..99.
canaries = st.fixed_dictionaries(
    {"commit": st.text(alphabet="abcdef0123456789", min_size=39, max_size=41)},
    optional={
        "weight": st.integers(min_value=-1, max_value=101),
        "version": st.text(alphabet="abcdef0123456789G", min_size=39, max_size=41),
    },
)
# Entry points whose names YAML reads as other things than text.
entry_points = st.dictionaries(
    st.one_of(st.integers(), st.booleans(), st.none(), st.dates(), st.text(max_size=4)),
    st.fixed_dictionaries({"command": st.just("python run.py")}),
    max_size=3,
)


def checked(record):
    text = json.dumps({"spec": record})
    return mlproject.check_record(yamlpos.YamlDocument(json.loads(text)), ("spec",), "index.json")


def as_mlproject(record):
    """The MLproject text a record stands for."""
    data = {RECORD_RENAMED.get(k, k): v for k, v in record.items()}
    data = {k: v for k, v in data.items() if not (k in ("slo", "instances") and v is None)}
    environment = data.pop("mlflow_env")
    if environment is not None:
        data[environment] = {"image": "python:3.11"} if environment == "docker_env" else "env.yaml"
    names = data.pop("entry_points")
    if names:
        data["entry_points"] = {name: {"command": "python run.py"} for name in names}
    return yaml.safe_dump(data, allow_unicode=False)


@EXAMPLES
@given(
    # The keys a record holds, and those it holds only when the MLproject sets them.
    st.sampled_from(sorted({*RECORD, "slo_objective", "canary"})),
    st.one_of(json_values, near_values, canaries),
)
def test_a_record_index_json_accepts_is_the_record_of_a_valid_mlproject(key, value):
    record = {**RECORD, key: value}
    result = checked(record)
    if result.spec is None:
        assert result.findings, "a refused record says why"
        return
    parsed = mlproject.parse(as_mlproject(record))
    assert [f for f in parsed.findings if f.is_error] == []
    assert parsed.spec == result.spec
    assert record_of(parsed.spec) == record


@EXAMPLES
@given(
    st.sampled_from(
        sorted({*VALID, "slo", "instances", "packages", "exposed", "entry_points", "canary"})
    ),
    st.one_of(json_values, near_values, entry_points, canaries),
)
def test_every_spec_an_mlproject_validates_to_is_a_record_index_json_accepts(key, value):
    text = yaml.safe_dump({**VALID, key: value}, allow_unicode=True)
    parsed = mlproject.parse(text)
    if parsed.spec is None:
        return
    result = checked(record_of(parsed.spec))
    assert result.findings == ()
    assert result.spec == parsed.spec
