"""The input contract of POST /predict, every input type (modelship_runtime.inputs)."""

import base64
import json

import pytest
from modelship_runtime.inputs import InvalidInput, parse


def body(row: object) -> bytes:
    return json.dumps({"input": row}).encode()


@pytest.mark.parametrize(
    ("input_type", "row", "parsed"),
    [
        ("integers", [1, -2, 2**63 - 1, -(2**63)], [1, -2, 2**63 - 1, -(2**63)]),
        ("floats", [1.5, 2, -3.4e38], [1.5, 2.0, -3.4e38]),
        ("doubles", [1.1, 5.1, 7, 1e308], [1.1, 5.1, 7.0, 1e308]),
        ("bytes", [base64.b64encode(b"\x00\xffimage").decode(), ""], [b"\x00\xffimage", b""]),
        ("strings", ["caf\u00e9", "", "\U0001f600"], ["caf\u00e9", "", "\U0001f600"]),
    ],
)
def test_each_input_type_takes_its_values(input_type, row, parsed):
    result = parse(body(row), input_type)
    assert result == parsed
    assert [type(v) for v in result] == [type(v) for v in parsed]


@pytest.mark.parametrize(
    ("input_type", "row", "message"),
    [
        ("integers", [1, 2.5], "input[1]: must be an integer (integers), got 2.5"),
        ("integers", [True], "input[0]: must be an integer (integers), got true"),
        ("integers", [2**63], "input[0]: must be an integer within 64 bits (integers)"),
        ("integers", ["1"], 'input[0]: must be an integer (integers), got "1"'),
        ("floats", [3.5e38], "input[0]: must be a number within range (floats), got 3.5e+38"),
        ("floats", [None], "input[0]: must be a number (floats), got null"),
        ("doubles", [1.1, "x"], 'input[1]: must be a number (doubles), got "x"'),
        ("doubles", [[1.0]], "input[0]: must be a number (doubles), got [1.0]"),
        ("doubles", [False], "input[0]: must be a number (doubles), got false"),
        ("doubles", [10**400], "input[0]: must be a number within range (doubles)"),
        ("bytes", ["not base64!"], "input[0]: must be standard, padded base64 (bytes)"),
        ("bytes", ["YWJj"[:3]], "input[0]: must be standard, padded base64 (bytes)"),
        ("bytes", ["_-8="], "input[0]: must be standard, padded base64 (bytes)"),
        ("bytes", [12], "input[0]: must be a base64 string (bytes), got 12"),
        ("strings", ["a", 1], "input[1]: must be a string (strings), got 1"),
        ("strings", [{"a": 1}], 'input[0]: must be a string (strings), got {"a": 1}'),
    ],
)
def test_a_wrong_item_is_named_with_its_position(input_type, row, message):
    with pytest.raises(InvalidInput) as raised:
        parse(body(row), input_type)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the body is not JSON"),
        (b"{", "the body is not JSON"),
        (b"\xff\xfe", "the body is not JSON"),
        (b'{"input": [NaN]}', "NaN is not JSON; send numbers only"),
        (b'{"input": [Infinity]}', "Infinity is not JSON; send numbers only"),
        (b"[1.1, 5.1]", 'the body must be a JSON object such as {"input": [1.1, 5.1]}'),
        (b'{"inputs": [1]}', 'the body must be a JSON object such as {"input": [1.1, 5.1]}'),
        (b'{"input": [1], "id": 3}', 'unknown key "id"; the body holds only "input"'),
        (b'{"input": []}', "input must be a non-empty list of doubles, got []"),
        (b'{"input": 1.1}', "input must be a non-empty list of doubles, got 1.1"),
        (b'{"input": {"a": 1}}', 'input must be a non-empty list of doubles, got {"a": 1}'),
        (b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "the body is nested too deeply"),
    ],
)
def test_a_wrong_shape_is_refused_with_a_clear_message(raw, message):
    with pytest.raises(InvalidInput) as raised:
        parse(raw, "doubles")
    assert str(raised.value).startswith(message)


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(InvalidInput) as raised:
        parse(body(["x" * 1000]), "doubles")
    assert len(str(raised.value)) < 100
    assert str(raised.value).endswith('got "' + "x" * 36 + "...")
