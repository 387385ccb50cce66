"""Rules on MLproject values that keep every accepted value acceptable to every consumer,
and every surprise of YAML said out loud."""

import pytest

from generator import mlproject
from generator.findings import Severity
from testsupport.helpers import mlproject as mlproject_text

REPO = "acme/churn-model"


def findings_of(text):
    result = mlproject.parse(text, "MLproject", REPO)
    return result, [(f.key, f.severity, f.message) for f in result.findings]


@pytest.mark.parametrize("name", ["1", "true", "null", "2024-01-01", "1.5", "[a]"])
def test_entry_point_names_yaml_reads_as_other_values_are_errors_not_crashes(name):
    text = (
        mlproject_text() + f"entry_points:\n  {name}:\n    command: run\n  main:\n    command: go\n"
    )
    if name == "[a]":
        text = text.replace("  [a]:", "  ? [a]\n  :")
    result, found = findings_of(text)
    assert result.spec is None
    assert found, found
    assert all(key.startswith("entry_points") or key == "" for key, _, _ in found), found


def test_an_entry_point_name_on_two_lines_is_an_error():
    text = mlproject_text() + 'entry_points:\n  "a\\nb":\n    command: run\n'
    result, found = findings_of(text)
    assert result.spec is None
    assert [key for key, _, _ in found] == ["entry_points"]
    assert "entry point name" in found[0][2]


@pytest.mark.parametrize(
    ("line", "key", "meant"),
    [
        ("instances: 010", "instances", "octal"),
        ("instances: 0x10", "instances", "hexadecimal"),
        ("instances: 0b10", "instances", "binary"),
        ("slo: 1:40:00", "slo", "base 60"),
        ("slo: 100_000", "slo", "underscores"),
        ("slo: +100000", "slo", "plus sign"),
    ],
)
def test_numbers_yaml_reads_in_a_surprising_base_are_warnings(line, key, meant):
    result, found = findings_of(mlproject_text() + line + "\n")
    assert result.spec is not None
    [(found_key, severity, message)] = found
    assert (found_key, severity) == (key, Severity.WARNING)
    raw, value = line.split(": ")[1], getattr(result.spec, key)
    assert f"YAML reads {raw} as the number {value} ({meant})" in message


def test_plain_decimal_numbers_get_no_warning():
    result, found = findings_of(mlproject_text() + "instances: 3\nslo: 100000\n")
    assert (result.spec is not None, found) == (True, [])


@pytest.mark.parametrize(
    "description",
    ["C1 \u0080 control", "C1 \u009b[31m CSI", "not a character \ufffe", "nor \uffff"],
)
def test_description_refuses_characters_kustomize_and_jenkins_refuse(description):
    result, found = findings_of(mlproject_text(description=description))
    assert result.spec is None
    assert [key for key, _, _ in found] == ["description"]
    assert "U+FFFE/U+FFFF" in found[0][2]


@pytest.mark.parametrize(
    ("package", "fragment"),
    [
        ("evil @ http://example.com/evil.whl", "https://"),
        ("evil @ file:///etc/passwd", "https://"),
        ("evil @ git+ssh://git@example.com/evil.git", "https://"),
        ("evil @ https://user:token@example.com/evil.whl", "credentials"),
        ('evil; extra == "\x1b[31m"', "control characters"),
    ],
)
def test_package_urls_follow_the_platforms_policy(package, fragment):
    result, found = findings_of(mlproject_text(packages=[package]))
    assert result.spec is None
    assert [key for key, _, _ in found] == ["packages[0]"]
    assert fragment in found[0][2]


@pytest.mark.parametrize(
    "package",
    [
        "scikit-learn>=1.3",
        "tool @ https://files.example.com/tool-1.0-py3-none-any.whl",
        "tool @ git+https://github.com/acme/tool@v1.0",
        'x; python_version < "4"',
    ],
)
def test_packages_within_the_policy_are_accepted(package):
    result, found = findings_of(mlproject_text(packages=[package]))
    assert result.spec is not None, found


def test_a_wrong_value_with_keys_yaml_reads_as_dates_is_shown_not_crashed_on():
    text = mlproject_text() + "slo:\n  2024-01-01: x\n  null: y\n"
    result, found = findings_of(text.replace("slo: 100000\n", ""))
    assert result.spec is None
    [(key, _, message)] = found
    assert key == "slo"
    assert '"2024-01-01": "x"' in message


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_a_line_break_only_yaml_1_1_knows_is_refused_where_it_is(char):
    """`description: harmless<NEL>id: other` is one key to an editor and two to Modelship."""
    text = mlproject_text().replace("description: Predicts", f"description: Predicts{char}id: x")
    result = mlproject.parse(text)
    assert result.spec is None
    [finding] = result.findings
    assert (finding.rule, finding.line, finding.column) == ("mlproject/line-break", 4, 22)
    assert f"U+{ord(char):04X}" in finding.message


@pytest.mark.parametrize("spelling", [".nan", ".NaN", ".inf", "-.inf", ".Inf"])
def test_a_number_that_is_not_finite_is_an_error_at_its_key(spelling):
    """YAML can spell NaN and infinity; JSON (index.json) cannot, and a NaN passes every
    bound (no comparison with it is true): a PrometheusRule would page on `vector(NaN)`."""
    result, found = findings_of(mlproject_text() + f"slo_objective: {spelling}\n")
    assert result.spec is None
    assert [(key, severity) for key, severity, _ in found] == [("slo_objective", Severity.ERROR)]
    assert f"(got {spelling})" in found[0][2]
