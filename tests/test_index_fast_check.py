"""index.json's fast check (the compiled schema, entry by entry) accepts exactly what
jsonschema accepts: it only spares a sound document the slow pass, never lets a damaged
one through. Each damage below is checked both ways, on the example platform's index."""

import copy
import json

import pytest

from generator import index, resources, schemacheck, yamlpos
from testsupport.helpers import ROOT

DOCUMENT = json.loads((ROOT / "rendered" / "index.json").read_text())
MODEL = "fraud-score"


def jsonschema_accepts(document):
    rule = schemacheck.inlined(resources.schema("index"))
    return schemacheck.validator_for(rule).is_valid(document)


def fast_accepts(document):
    models = document.get("models") if isinstance(document, dict) else None
    read = yamlpos.YamlDocument(document)
    entries = [
        index._check_entry(read, "index.json", document.get("format"), model_id, entry).certain
        for model_id, entry in (models.items() if isinstance(models, dict) else ())
    ]
    return index._certainly_valid(document, entries)


def entry_v1():
    entry = copy.deepcopy(DOCUMENT["models"][MODEL])
    placed = entry["environments"]["staging"]
    return {
        "spec": entry["specs"][entry["spec"]],
        "source": entry["source"],
        "namespace": placed["namespace"],
        "instances": placed["instances"],
        "slo": placed["slo"],
        "image": placed["image"],
        "state": "deployed",
        "files": entry["files"],
    }


DAMAGES = {
    "as written": lambda entry: entry,
    "slo a float": lambda entry: entry["environments"]["staging"].update(slo=20000.0),
    "instances zero": lambda entry: entry["environments"]["staging"].update(instances=0),
    "instances true": lambda entry: entry["environments"]["staging"].update(instances=True),
    "repo ..": lambda entry: entry["source"].update(repo="acme/.."),
    "repo ./x": lambda entry: entry["source"].update(repo="./model"),
    "repo .name": lambda entry: entry["source"].update(repo="acme/.model"),  # allowed
    "repo a number": lambda entry: entry["source"].update(repo=7),
    "commit short": lambda entry: entry["source"].update(commit="abc"),
    "unknown key": lambda entry: entry.update(surprise=1),
    "state unknown": lambda entry: entry.update(state="sleeping"),
    "files repeated": lambda entry: entry.update(files=entry["files"] + entry["files"][:1]),
    "file ..": lambda entry: entry.update(files=["../outside.yaml"]),
    "environment name": lambda entry: entry["environments"].update(Staging={}),
    "spec not a digest": lambda entry: entry.update(spec="latest"),
    "a format-1 entry": lambda entry: (entry.clear(), entry.update(entry_v1())),
    "a format-1 entry, bad slo": lambda entry: (
        entry.clear(),
        entry.update({**entry_v1(), "slo": "fast"}),
    ),
    "not a mapping": lambda entry: entry.clear(),
    # A float where the schema allows one: this entry is checked by jsonschema, the others
    # stay on the compiled check.
    "a spec's slo_objective": lambda entry: entry["specs"][entry["spec"]].update(
        slo_objective=0.995
    ),
}
ACCEPTED = ("as written", "a format-1 entry", "repo .name", "a spec's slo_objective")


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_the_fast_check_accepts_an_entry_only_when_jsonschema_does(damage):
    document = copy.deepcopy(DOCUMENT)
    DAMAGES[damage](document["models"][MODEL])
    if damage == "not a mapping":
        document["models"][MODEL] = []
    if fast_accepts(document):
        assert jsonschema_accepts(document)
    assert fast_accepts(document) is (damage in ACCEPTED)


@pytest.mark.parametrize(
    "change",
    [
        {"format": 3},
        {"format": True},
        {"models": []},
        {"shared_files": ["/etc/passwd"]},
        {"rejected": {"acme/..": {"commit": "", "errors": []}}},
    ],
)
def test_the_fast_check_refuses_a_damaged_document(change):
    document = {**copy.deepcopy(DOCUMENT), **change}
    assert not fast_accepts(document)
    assert not jsonschema_accepts(document)


def test_a_format_1_document_is_checked_by_the_format_1_rule():
    document = {"format": 1, "models": {MODEL: entry_v1()}}
    assert fast_accepts(document)
    assert jsonschema_accepts(document)
    document["models"][MODEL]["environments"] = {}  # a format-2 key in a format-1 entry
    assert not fast_accepts(document)
    assert not jsonschema_accepts(document)


@pytest.mark.parametrize(
    "value", ["acme/model", "acme/..", "../x", "a/./b", ".", "..x/y", "a/..b", "a/.", 5, None]
)
def test_a_refused_pattern_is_refused_alike_compiled(value):
    rule = {"type": "string", "not": {"pattern": "(^|/)\\.\\.?(/|$)"}}
    assert schemacheck.fast_valid(rule, value) is schemacheck.validator_for(rule).is_valid(value)
    bare = {"not": {"pattern": "^a"}}  # without a type: a number fails the not
    assert schemacheck.fast_valid(bare, value) is schemacheck.validator_for(bare).is_valid(value)


def deepest(value, depth=0):
    """How deep the deepest value of ``value`` lies (the entry itself at 0)."""
    children = value.values() if isinstance(value, dict) else value
    if isinstance(value, dict | list) and children:
        return max(deepest(child, depth + 1) for child in children)
    return depth


@pytest.mark.parametrize("levels", [58, 59, 60, 61, 62])
@pytest.mark.parametrize("leaf", [[], {}, "text", 1.5, None])
def test_an_entry_is_too_deep_exactly_when_a_value_lies_deeper_than_the_limit(levels, leaf):
    entry = copy.deepcopy(DOCUMENT["models"][MODEL])
    nested = leaf
    for _ in range(levels):
        nested = [nested]
    entry["specs"][entry["spec"]]["packages"] = nested
    shape = index._shape(entry, yamlpos.MAX_DEPTH)
    assert shape.too_deep is (deepest(entry) > yamlpos.MAX_DEPTH)
    if not shape.too_deep:
        assert shape.holds_float is (leaf == 1.5)
