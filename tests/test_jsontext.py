"""jsontext writes what json.dumps(indent=2, sort_keys=True, ensure_ascii=True) writes, floats
spelled in their shortest form; what orjson cannot write as read, as json.dumps writes it."""

import dataclasses
import datetime
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import jsontext


@dataclasses.dataclass
class Point:
    x: int


def standard(value):
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True).encode("ascii")


def tree_of(leaves):
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
        ),
        max_leaves=30,
    )


# Text of every kind (astral characters, controls, lone surrogates) and integers of any size.
WITHOUT_FLOATS = tree_of(st.none() | st.booleans() | st.integers() | st.text())
FINITE = tree_of(st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=300, deadline=None)
@given(WITHOUT_FLOATS)
def test_the_text_is_what_json_dumps_writes(value):
    assert jsontext.dumps(value) == standard(value)


@settings(max_examples=300, deadline=None)
@given(FINITE)
def test_floats_read_back_as_they_were_and_the_rest_is_what_json_dumps_writes(value):
    text = jsontext.dumps(value)
    assert json.loads(text) == value
    assert text.isascii()
    assert json.dumps(json.loads(text), indent=2, sort_keys=True).encode() == standard(value)


@pytest.mark.parametrize("odd", [math.nan, math.inf, -math.inf])
def test_a_value_written_back_as_read_keeps_nan_and_infinity(odd):
    entry = {"slo_objective": odd, "text": "d\u00e9j\u00e0 \U0001f600"}
    document = {"models": {"m": entry}, "format": 2}
    assert jsontext.dumps(document, as_read=[entry]) == standard(document)


@pytest.mark.parametrize(
    "text", ["d\u00e9j\u00e0 vu \U0001f600\x7f", "ascii with a DEL \x7f"], ids=["past", "del"]
)
def test_text_past_printable_ascii_is_escaped_as_json_dumps_escapes_it(text):
    document = {"description": text, "plain": "ascii"}
    assert jsontext.dumps(document) == standard(document)
    assert b"\x7f" not in jsontext.dumps(document)


@pytest.mark.parametrize(
    "value",
    [
        {"a": object()},
        {1: "a"},
        {"a": [{2: "b"}]},
        {"at": datetime.date(2026, 12, 1)},
        {"x": Point(1)},
    ],
    ids=["object", "number key", "number key within", "date", "dataclass"],
)
def test_what_is_not_json_is_refused(value):
    with pytest.raises(TypeError):
        jsontext.dumps(value)
