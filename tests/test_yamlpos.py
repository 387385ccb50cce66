import pytest

from generator import yamlpos
from generator.yamlpos import Position
from testsupport.helpers import ROOT


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


HOSTILE = sorted((ROOT / "tests" / "hostile").rglob("*.MLproject"))
TEXTS = {
    "plain": "a: 1\nb: [x, 'y', 2.5, null, true]\nc: {d: e}\n",
    "an alias": "a: &x [1, 2]\nb: *x\n",
    "a merge": "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",
    "an inline merge": "derived:\n  <<: {x: 1}\n  y: 2\n",
    "a duplicate key": "a: 1\nb: 2\na: 3\n",
    "a date": "at: 2026-12-01\n",
    "a bad date": "at: 2024-02-30\n",
    "a huge number": "n: " + "9" * 5000 + "\n",
    "a set": "s: !!set {a, b}\n",
    "bad syntax": "a: [1, 2\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "nested 64": "v: " + "[" * 63 + "]" * 63 + "\n",
    "nested 65": "v: " + "[" * 65 + "]" * 65 + "\n",
    "empty": "",
    "a tag": "a: !!python/name:os.system x\n",
}


@pytest.mark.parametrize(
    "text",
    [*TEXTS.values(), *(path.read_text(encoding="utf-8", errors="replace") for path in HOSTILE)],
    ids=[*TEXTS, *(path.name for path in HOSTILE)],
)
def test_the_plain_reading_gives_what_load_gives_or_leaves_it_to_load(text):
    try:
        data = yamlpos.plain_data(text)
    except yamlpos.Unsure:
        return  # load decides, as before
    document = yamlpos.load(text)  # accepted without positions: load accepts it too
    assert not document.duplicates
    assert data == document.data


@pytest.mark.parametrize("name", ["a merge", "a duplicate key", "bad syntax"])
def test_what_needs_the_node_graph_is_left_to_load(name):
    with pytest.raises(yamlpos.Unsure):
        yamlpos.plain_data(TEXTS[name])


def test_the_plain_reading_keeps_the_limit_on_values():
    text = "a: [" + ", ".join(["1"] * 50) + "]\n"
    assert yamlpos.plain_data(text, max_values=100) == {"a": [1] * 50}
    with pytest.raises(yamlpos.Unsure):
        yamlpos.plain_data(text, max_values=50)
    with pytest.raises(yamlpos.YamlSyntaxError, match="more than 50 values"):
        yamlpos.load(text, max_values=50)


def test_the_plain_reading_stops_an_alias_bomb_and_a_recursive_alias():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    with pytest.raises(yamlpos.Unsure):
        yamlpos.plain_data(bomb)
    with pytest.raises(yamlpos.YamlSyntaxError, match="aliases expand"):
        yamlpos.load(bomb)
    recursive = "a: &a [1, *a]\n"
    with pytest.raises(yamlpos.Unsure):
        yamlpos.plain_data(recursive)
    with pytest.raises(yamlpos.YamlSyntaxError, match="recursive"):
        yamlpos.load(recursive)
