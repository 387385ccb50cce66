"""Schema patterns end where the value ends: a trailing newline is never let through.

JSON Schema patterns are ECMA-262 regular expressions, whose ``$`` (without the multiline
flag) matches only at the very end; Python's ``$`` also matches before a final ``\\n``.
A version or id with a trailing newline would reach Kubernetes label values, the Jenkins job
name and the artifact URI, which refuse it.
"""

import json

import pytest

from generator import index, mlproject, schemacheck
from generator.findings import has_errors
from testsupport.helpers import mlproject as mlproject_text

VERSION = "4f1255f50f5f32e93b4fb69704d23f466e468ebd"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", "churn\n"),
        ("name", "churn-model\n"),
        ("version", VERSION + "\n"),
        ("team", "rnd\n"),
        ("description", "Predicts churn\n"),
    ],
)
def test_a_trailing_newline_is_refused_in_every_patterned_key(key, value):
    result = mlproject.parse(mlproject_text(**{key: value}), "MLproject", "acme/churn-model")
    assert result.spec is None
    assert [f.key for f in result.findings if f.is_error] == [key]


def test_index_json_refuses_a_trailing_newline_in_its_own_patterns():
    record = {
        "format": 1,
        "models": {},
        "shared_files": ["staging/kubernetes/kustomization.yaml\n"],
    }
    with pytest.raises(Exception, match="shared_files"):
        index.loads(json.dumps(record).encode())


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^a$", "a", True),
        ("^a$", "a\n", False),
        ("^a\\$$", "a$", True),
        ("^[$]+$", "$$", True),
        ("^(a|b$)", "b\n", False),
        ("a$|^b", "b\n", True),
    ],
)
def test_dollar_means_the_end_of_the_value_as_in_ecma_262(pattern, text, matches):
    validator = schemacheck.validator_for({"type": "string", "pattern": pattern})
    assert validator.is_valid(text) is matches


def test_every_valid_example_still_validates():
    assert not has_errors(mlproject.parse(mlproject_text()).findings)
