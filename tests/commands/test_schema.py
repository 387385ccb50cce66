"""The MLproject schema as editors use it: `modelship schema`, the README's modelines, and a
third-party validator (check-jsonschema) reading MLproject files with it."""

import json
import re
import subprocess
import sys

from testsupport.helpers import ROOT, modelship, tool

SCHEMAS = ROOT / "schemas"
SCHEMA = SCHEMAS / "mlproject.schema.json"
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
    result = subprocess.run(
        [sys.executable, "-m", "generator", "schema"], cwd=ROOT, capture_output=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout == SCHEMA.read_bytes()  # byte for byte, not an equivalent


def test_every_shipped_schema_is_printed_byte_for_byte_and_listed():
    shipped = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
    assert {"mlproject", "platform", "index"} <= set(shipped)
    listed = modelship("schema", "--list", cwd=ROOT)
    assert listed.returncode == 0
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == shipped
    for name in shipped:
        printed = subprocess.run(
            [sys.executable, "-m", "generator", "schema", name],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        assert printed.returncode == 0, name
        assert printed.stdout == (SCHEMAS / f"{name}.schema.json").read_bytes(), name
    unknown = modelship("schema", "nope", cwd=ROOT)
    assert unknown.returncode == 2
    assert "invalid choice: 'nope'" in unknown.stderr


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
        "https://raw.githubusercontent.com/acme/modelship/939173125d13b6fc5304dda948a6e0bc9e2d4e84/schemas/mlproject.schema.json",
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
