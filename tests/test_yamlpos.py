import pytest

from generator import yamlpos
from generator.yamlpos import Position


def test_positions_of_keys_and_values_are_one_based():
    document = yamlpos.load("name: x\nnested:\n  inner: [1, 2]\n")
    assert document.data == {"name": "x", "nested": {"inner": [1, 2]}}
    assert document.key_position(("nested", "inner")) == Position(3, 3)
    assert document.value_position(("nested", "inner")) == Position(3, 10)
    assert document.value_position(("nested", "inner", 1)) == Position(3, 14)


def test_unknown_path_falls_back_to_the_nearest_ancestor():
    document = yamlpos.load("a:\n  b: 1\n")
    assert document.value_position(("a", "missing", "deeper")) == Position(2, 3)


def test_duplicate_keys_are_recorded_with_both_positions():
    document = yamlpos.load("slo: 1\nid: x\nslo: 2\n")
    [duplicate] = document.duplicates
    assert duplicate.path == ("slo",)
    assert duplicate.position == Position(3, 1)
    assert duplicate.first == Position(1, 1)


def test_plain_scalars_keep_their_source_text():
    document = yamlpos.load('a: 0.00\nb: "0.00"\n')
    assert document.data == {"a": 0.0, "b": "0.00"}
    assert document.plain_scalars == {("a",): "0.00"}


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a: 1\n- b\n", Position(2, 1), "a list must be the value of a key"),
        ("a: [1\n", Position(2, 1), "did not find expected ','"),
        ("\tb: 1\n", Position(1, 1), "indent with spaces"),
        ("a: 1\n---\nb: 2\n", Position(2, 1), "expected a single document"),
        ("? [a]\n: 1\n", Position(1, 3), "unhashable key"),
        ("a: !!python/object:os.system x\n", Position(1, 4), "could not determine a constructor"),
        ("a: \x00\n", Position(1, 4), "control characters are not allowed"),
    ],
)
def test_syntax_errors_carry_a_position(text, position, fragment):
    with pytest.raises(yamlpos.YamlSyntaxError) as caught:
        yamlpos.load(text)
    assert caught.value.position == position
    assert fragment in caught.value.message


def test_aliases_that_expand_beyond_the_limit_are_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 30):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    with pytest.raises(yamlpos.YamlSyntaxError, match="expand this document to more than 100000"):
        yamlpos.load("\n".join(lines) + "\n")


def test_shared_aliases_within_the_limit_load():
    document = yamlpos.load("base: &b {cpu: 1}\nrequests: *b\nlimits: *b\n")
    assert document.data["limits"] == {"cpu": 1}


def test_a_recursive_alias_is_refused_at_its_position():
    with pytest.raises(
        yamlpos.YamlSyntaxError, match="refers to a value that contains it"
    ) as caught:
        yamlpos.load("a: 1\nname: &x [1, *x]\n")
    assert caught.value.position == Position(2, 7)


def test_deep_nesting_is_refused():
    with pytest.raises(yamlpos.YamlSyntaxError, match="nested more than 64 levels"):
        yamlpos.load("a: " + "[" * 200 + "]" * 200 + "\n")


def test_empty_document_is_none():
    assert yamlpos.load("").data is None
    assert yamlpos.load("# only a comment\n").data is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("slo: 1" + "0" * 5000 + "\n", "a number of more than 4300 digits"),
        ("when: 2024-02-30\n", "not a valid date"),
        ("when: 2024-13-01 10:00:00\n", "not a valid date"),
    ],
)
def test_values_yaml_cannot_construct_are_syntax_errors_at_their_position(text, fragment):
    with pytest.raises(yamlpos.YamlSyntaxError) as caught:
        yamlpos.load(text)
    assert caught.value.position.line == 1
    assert caught.value.position.column == text.index(":") + 3
    assert fragment in caught.value.message


def test_a_large_document_without_aliases_is_not_blamed_on_aliases():
    text = "packages:\n" + "".join(f"  - p{i}\n" for i in range(yamlpos.MAX_VALUES + 1))
    with pytest.raises(yamlpos.YamlSyntaxError) as caught:
        yamlpos.load(text)
    assert "alias" not in caught.value.message
    assert f"more than {yamlpos.MAX_VALUES} values" in caught.value.message
