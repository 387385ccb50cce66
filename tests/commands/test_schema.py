"""The MLproject schema as editors use it: `modelship schema`, the README's modelines, and a
third-party validator (check-jsonschema) reading MLproject files with it."""

import json
import re
import subprocess

from testsupport.helpers import ROOT, modelship, tool

SCHEMA = ROOT / "schemas" / "mlproject.schema.json"
README = (ROOT / "README.md").read_text()
# Keywords of JSON Schema Draft 7 (validation, applicators, annotations) that editors built on
# it (the YAML language server) understand; the schema keeps to them.
DRAFT_7_KEYWORDS = {
    "$schema", "$id", "$ref", "title", "description", "default", "examples", "type", "enum",
    "const", "properties", "additionalProperties", "patternProperties", "required", "items",
    "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "oneOf", "allOf", "not",
    "if", "then", "else", "format", "propertyNames", "minProperties", "maxProperties",
}  # fmt: skip


def test_modelship_schema_prints_the_file_the_stable_url_serves():
    result = modelship("schema", cwd=ROOT)
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads(SCHEMA.read_text())


def keywords(schema):
    found = set()
    for key, value in schema.items():
        if key == "properties":
            for sub in value.values():
                found |= keywords(sub)
        elif not key.startswith("x-"):
            found.add(key)
        if isinstance(value, dict) and key != "properties":
            found |= keywords(value)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    found |= keywords(item)
    return found


def test_the_schema_keeps_to_keywords_draft_7_editors_understand():
    assert keywords(json.loads(SCHEMA.read_text())) <= DRAFT_7_KEYWORDS


def test_readme_modelines_point_at_this_schema():
    modelines = re.findall(r"^\s*# yaml-language-server: \$schema=(\S+)$", README, re.MULTILINE)
    assert modelines == [
        "https://raw.githubusercontent.com/acme/modelship/v0.1.0/schemas/mlproject.schema.json",
        "./mlproject.schema.json",
    ]
    assert '"files.associations": {"MLproject": "yaml"}' in README


def test_the_example_modeline_resolves_from_the_mlproject_folder():
    mlproject = ROOT / "examples/repos/search-ranking-model/MLproject"
    first = mlproject.read_text().splitlines()[0]
    relative = first.removeprefix("# yaml-language-server: $schema=")
    assert relative != first
    assert (mlproject.parent / relative).resolve() == SCHEMA


def check_jsonschema(*files):
    return subprocess.run(
        [
            tool("check-jsonschema"),
            "--schemafile",
            str(SCHEMA),
            "--default-filetype",
            "yaml",
            *files,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_standard_validator_accepts_the_example_models_with_the_schema():
    models = sorted(str(p) for p in (ROOT / "examples/repos").glob("*/MLproject"))
    assert len(models) >= 5
    result = check_jsonschema(*models)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_standard_validator_rejects_a_wrong_type_with_the_schema():
    result = check_jsonschema("examples/invalid/slo-not-integer.MLproject")
    assert result.returncode == 1
    assert "$.slo: 'fast' is not of type 'integer'" in result.stdout
