import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jenkins_jobs.formatter import CustomFormatter

from generator.rendering import escapers

HOSTILE = [
    "quote \" and ' and \\",
    "braces {{ }} {% %} ${HOME} $(rm -rf /) `id`",
    "semi; colon: hash # dash - star * amp & bang !",
    "new\nline\rcarriage\ttab",
    "'''triple'''",
    '"""triple"""',
    "yes",
    "null",
    "~",
    "0x1F",
    "1e3",
    "0.00",
    "- list",
    "? key",
    "---",
    "...",
    "@at `tick`",
    "\u2028line separator\u2029",
    "",
    " leading and trailing ",
]


@given(st.text())
def test_every_string_round_trips_through_yaml(value):
    assert yaml.safe_load(f"key: {escapers.yaml_scalar(value)}\n") == {"key": value}


@given(st.text())
def test_yaml_scalars_are_one_line(value):
    assert "\n" not in escapers.yaml_scalar(value)


@given(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)
    )
)
def test_scalars_keep_their_type_in_yaml(value):
    assert yaml.safe_load(f"key: {escapers.yaml_scalar(value)}\n") == {"key": value}


@pytest.mark.parametrize("value", ["true", "False", "yes", "No", "on", "OFF", "y", "n", "null"])
def test_words_that_some_yaml_reads_as_booleans_are_quoted(value):
    assert escapers.yaml_scalar(value) == json.dumps(value)


@pytest.mark.parametrize("value", ["visual-similarity", "app.kubernetes.io/name", "models-rnd"])
def test_ordinary_names_stay_plain(value):
    assert escapers.yaml_scalar(value) == value


def test_numbers_that_look_like_text_are_quoted():
    assert escapers.yaml_scalar("4f1255f5") == '"4f1255f5"'
    assert escapers.yaml_scalar("1e3") == '"1e3"'


def test_raw_passes_through_and_other_types_are_refused():
    assert escapers.yaml_scalar(escapers.Raw("{a: 1}")) == "{a: 1}"
    with pytest.raises(TypeError, match="to_json"):
        escapers.yaml_scalar({"a": 1})
    with pytest.raises(ValueError, match="nan"):
        escapers.yaml_scalar(float("nan"))


@pytest.mark.parametrize("value", HOSTILE)
def test_json_values_round_trip(value):
    assert json.loads(escapers.json_value(value)) == value
    assert yaml.safe_load(f"key: {escapers.to_json({'v': value})}") == {"key": {"v": value}}


def jjb_format(text):
    """What Jenkins Job Builder does to every string of a job: its own str.format."""
    return CustomFormatter(allow_empty=False).format(text)


@given(st.text())
def test_every_string_reaches_jenkins_job_builder_unchanged(value):
    loaded = yaml.safe_load(f"key: {escapers.jjb_scalar(value)}\n")["key"]
    assert jjb_format(loaded) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_reach_jenkins_job_builder_unchanged(value):
    loaded = yaml.safe_load(f"key: {escapers.jjb_scalar(value)}\n")["key"]
    assert jjb_format(loaded) == value


def test_jenkins_job_builder_scalars_keep_their_type():
    assert yaml.safe_load(f"k: {escapers.jjb_scalar(30)}") == {"k": 30}
    assert yaml.safe_load(f"k: {escapers.jjb_scalar(False)}") == {"k": False}


@pytest.mark.parametrize(
    "value", ["fraud-score", "/fraud-score/predict", "@fraud-score-timeout", "10.96.0.10", "1m"]
)
def test_nginx_names_stay_plain(value):
    assert escapers.nginx_token(value) == value


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("", '""'),
        ("two words", '"two words"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("line\nbreak\r\ttab", '"line\\nbreak\\r\\ttab"'),
        ("a;b{c}#d'e", '"a;b{c}#d\'e"'),
        ("$host ${x}", '"${modelship_dollar}host ${modelship_dollar}{x}"'),
        ("caf\u00e9", '"caf\u00e9"'),
    ],
)
def test_nginx_tokens_are_quoted_and_escaped(value, token):
    assert escapers.nginx_token(value) == token


@given(st.text().filter(lambda text: "\0" not in text))
def test_an_nginx_token_is_one_line_with_no_bare_quote_or_dollar(value):
    token = escapers.nginx_token(value)
    assert "\n" not in token
    assert "\r" not in token
    if token.startswith('"'):
        inner = token[1:-1].replace("\\\\", "").replace('\\"', "")
        assert '"' not in inner
        assert "$" not in inner.replace("${modelship_dollar}", "")


def test_nginx_numbers_flags_and_refusals():
    assert escapers.nginx_token(100) == "100"
    assert escapers.nginx_token(True) == "on"
    assert escapers.nginx_token(escapers.Raw("$x")) == "$x"
    with pytest.raises(ValueError, match="NUL"):
        escapers.nginx_token("a\0b")
    for value in (None, 1.5, {"a": 1}, ["a"]):
        with pytest.raises(TypeError, match="nginx token"):
            escapers.nginx_token(value)
