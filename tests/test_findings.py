from generator import mlproject
from generator.findings import Finding, printable


def test_findings_print_on_one_line_with_controls_escaped():
    text = '"\\e]8;;http://evil\\e\\\\click\\e[2J": 1\nname: "a\\u202eb\\u2028c"\n'
    for finding in mlproject.parse(text).findings:
        line = str(finding)
        assert "\x1b" not in line
        assert "\u202e" not in line
        assert "\u2028" not in line
    assert "\\u001b]8;;http://evil" in "\n".join(map(str, mlproject.parse(text).findings))


def test_printable_keeps_ordinary_text_and_unicode():
    assert printable('slo: must be an integer (got "fast") — café') == (
        'slo: must be an integer (got "fast") — café'
    )
    assert printable("a\tb\nc\x85d") == "a\\u0009b\\u000ac\\u0085d"


def test_finding_format():
    finding = Finding("MLproject", 9, 6, "slo", "must be an integer", "mlproject/type")
    assert str(finding) == "MLproject:9:6: slo: must be an integer"
