"""The sync-consul planner (pure): byte-for-byte comparison, the prefix rule, the
mass-delete guard, transactions within Consul's limits, and kv.json read strictly."""

import base64
import json

import pytest

from generator.consul import kv_plan
from generator.consul.kv_plan import CREATE, DELETE, UPDATE, Change, DesiredKey, LiveKey
from generator.errors import ConfigError
from testsupport.helpers import ROOT

PREFIX = "modelship/models"


def live(key, value=b"v", flags=0, index=7):
    return LiveKey(key, value, flags, index)


def want(key, value=b"v", flags=0):
    return DesiredKey(key, value, flags)


def test_values_and_flags_are_compared_byte_for_byte():
    keys = {f"{PREFIX}/a/{name}" for name in ("same", "value", "flags", "new")}
    desired = {
        f"{PREFIX}/a/same": want(f"{PREFIX}/a/same", "é".encode()),
        f"{PREFIX}/a/value": want(f"{PREFIX}/a/value", b"0.50"),
        f"{PREFIX}/a/flags": want(f"{PREFIX}/a/flags", b"x", flags=0),
        f"{PREFIX}/a/new": want(f"{PREFIX}/a/new", b""),
    }
    current = [
        live(f"{PREFIX}/a/same", "é".encode(), index=3),
        live(f"{PREFIX}/a/value", b"0.5", index=4),
        live(f"{PREFIX}/a/flags", b"x", flags=42, index=5),
        live(f"{PREFIX}/a/old", b"gone", index=6),
    ]
    plan = kv_plan.plan(current, desired, PREFIX)
    assert {c.key for c in plan.changes} == (keys - {f"{PREFIX}/a/same"}) | {f"{PREFIX}/a/old"}
    by_key = {c.key: c for c in plan.changes}
    assert by_key[f"{PREFIX}/a/value"] == Change(UPDATE, f"{PREFIX}/a/value", b"0.50", 0, 4)
    assert by_key[f"{PREFIX}/a/flags"] == Change(UPDATE, f"{PREFIX}/a/flags", b"x", 0, 5)
    assert by_key[f"{PREFIX}/a/new"] == Change(CREATE, f"{PREFIX}/a/new", b"", 0, 0)
    assert by_key[f"{PREFIX}/a/old"] == Change(DELETE, f"{PREFIX}/a/old", index=6)
    assert plan.unchanged == 1
    assert plan.summary() == "1 to create, 2 to update, 1 to delete, 1 unchanged"


def test_only_keys_strictly_below_the_prefix_folder_are_planned():
    current = [
        live("modelship/models"),
        live("modelship/models/"),
        live("modelship/models-old/a/name"),
        live("modelship/modelsx"),
        live("other/a"),
        live("modelship/models/a/name"),
    ]
    plan = kv_plan.plan(current, {}, PREFIX)
    assert [(c.action, c.key) for c in plan.changes] == [(DELETE, "modelship/models/a/name")]
    assert plan.live_count == 1
    assert kv_plan.folder("modelship/models") == "modelship/models/"


def test_the_mass_delete_guard_counts_keys_and_names_the_models_it_empties():
    assert kv_plan.mass_delete_refusal(18, 72, 0.25, ["churn"], PREFIX) is None
    assert kv_plan.mass_delete_refusal(0, 0, 0.25, [], PREFIX) is None
    # a model's removal within safety.mass_delete_floor is no mass delete, however large
    # a share of the keys it is; keys deleted beside whole models are counted as before
    assert kv_plan.mass_delete_refusal(12, 24, 0.25, ["churn"], PREFIX, 1, True) is None
    assert kv_plan.mass_delete_refusal(12, 24, 0.25, ["churn"], PREFIX, 1, False) is not None
    assert kv_plan.mass_delete_refusal(24, 24, 0.25, ["a", "b"], PREFIX, 1, True) is not None
    refusal = kv_plan.mass_delete_refusal(66, 72, 0.25, [], PREFIX)
    assert refusal == (
        "refusing to delete 66 of 72 keys below modelship/models/ (92%), more than "
        "safety.max_delete_share allows (25%); nothing was written. If this is intended, run "
        "again with --allow-mass-delete"
    ), "a template that lost 11 of 12 fields empties no model, but is refused"
    keys = [live(f"{PREFIX}/{model}/{field}") for model in "ab" for field in ("x", "y")]
    deleting = [Change(DELETE, k.key) for k in keys[:3]]
    assert kv_plan.removed_models(deleting, keys, PREFIX) == ("a",)


def changes(models, fields, action=CREATE):
    return [
        Change(action, f"{PREFIX}/{model}/{field}", b"v") for model in models for field in fields
    ]


def test_transactions_hold_whole_models_within_64_operations():
    fields = [f"f{n:02}" for n in range(12)]
    planned = changes([f"m{n:02}" for n in range(11)], fields)
    batches = kv_plan.batches(planned, PREFIX)
    assert [len(b.operations) for b in batches] == [60, 60, 12]
    for batch in batches:
        models = [kv_plan.model_of(c.key, PREFIX) for c in batch.changes]
        assert len(set(models)) * 12 == len(models), "no model is split"
        for change, operation in zip(batch.changes, batch.operations, strict=True):
            assert operation == {
                "KV": {"Key": change.key, "Index": 0, "Verb": "cas", "Value": "dg==", "Flags": 0}
            }


def test_a_model_bigger_than_a_transaction_is_split_and_deletes_go_last():
    big = changes(["big"], [f"f{n:03}" for n in range(100)])
    gone = changes(["a-gone"], ["name"], DELETE)
    batches = kv_plan.batches([*gone, *big], PREFIX, namespace="ml")
    assert [len(b.operations) for b in batches] == [64, 37]
    assert batches[-1].operations[-1:] == (
        {
            "KV": {
                "Key": f"{PREFIX}/a-gone/name",
                "Index": 0,
                "Verb": "delete-cas",
                "Namespace": "ml",
            }
        },
    )


def test_transactions_stay_under_consuls_request_size():
    value = b"x" * 100_000
    planned = [Change(CREATE, f"{PREFIX}/m{n}/blob", value) for n in range(12)]
    batches = kv_plan.batches(planned, PREFIX)
    sizes = [len(json.dumps(list(b.operations))) for b in batches]
    assert max(sizes) <= kv_plan.MAX_TXN_BYTES
    assert sum(len(b.operations) for b in batches) == 12


def test_the_rendered_kv_json_is_read_as_consul_kv_import_reads_it():
    path = ROOT / "rendered/production/consul/kv.json"
    desired = kv_plan.parse_kv_json(path.read_bytes(), "kv.json", PREFIX)
    raw = json.loads(path.read_text())
    assert len(desired) == len(raw) == 72
    assert desired[raw[0]["key"]].value == base64.b64decode(raw[0]["value"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"key": "x"}', "kv.json:1:1: must be a JSON array of {key, flags, value} entries"),
        ("[1]", "kv.json:1:2: an entry must be an object with key, flags and value"),
        ('[\n  {"value": "eA=="}\n]', "kv.json:2:3: key: must be a non-empty string"),
        (
            '[{"key": "modelship/models/a/b", "flags": -1, "value": ""}]',
            'kv.json:1:2: "modelship/models/a/b": flags: must be an unsigned 64-bit integer',
        ),
        (
            '[{"key": "modelship/models/a/b", "value": "not base64!"}]',
            '"modelship/models/a/b": value: not standard base64',
        ),
        (
            '[{"key": "modelship/models/", "value": ""}]',
            'kv.json:1:2: "modelship/models/": is not below the platform\'s prefix',
        ),
        (
            '[{"key": "modelship/models/a/b", "value": ""},\n {"key": "modelship/models/a/b", "value": ""}]',
            'kv.json:2:2: key "modelship/models/a/b" is listed twice',
        ),
        ('[{"key": "m\\u0000"', "kv.json:1:19: invalid JSON: Expecting ',' delimiter"),
    ],
)
def test_a_bad_kv_json_names_the_line_and_the_key(text, message):
    with pytest.raises(ConfigError) as raised:
        kv_plan.parse_kv_json(text.encode(), "kv.json", PREFIX)
    assert message in raised.value.message
