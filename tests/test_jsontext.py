"""jsontext writes what json.dumps(indent=2, sort_keys=True, ensure_ascii=True) writes."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import jsontext

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_the_text_is_what_json_dumps_writes(value):
    assert jsontext.dumps(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True)


def test_what_json_cannot_write_is_refused():
    with pytest.raises(TypeError):
        jsontext.dumps({"a": object()})
    with pytest.raises(TypeError):
        jsontext.dumps({1: "a"})
