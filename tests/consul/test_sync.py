"""modelship sync-consul against a loopback Consul with ACLs on, through the real py-consul:
the rendered kv.json read at the rendered repository's HEAD (real git), applied with
check-and-set transactions of at most 64 operations, pruning only Modelship's own keys."""

import json
import shutil
import ssl
from pathlib import Path

import pytest

from generator import cli
from generator.errors import ExitCode
from testsupport.consul import (
    CONSUL_VARIABLES,
    PREFIX,
    Result,
    certificates,
    commit_kv,
    decoded,
    entries,
    entry,
    kv_path,
    model_keys,
    point_at,
    rendered_platform,
    set_timeout,
)
from testsupport.fakes.consul_server import DEFAULT_TOKEN, Policy
from testsupport.gitfixtures import clean_env, edit, git, publish
from testsupport.helpers import modelship
from testsupport.output_schemas import valid_output

READER = "7d0e4b1a-55c2-4f0e-a2b9-reader000001"  # may read the prefix, not write it


@pytest.fixture(autouse=True)
def no_consul_variables(monkeypatch):
    for name in CONSUL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def committed_platform(tmp_path_factory):
    return rendered_platform(tmp_path_factory.mktemp("template") / "platform")


@pytest.fixture
def platform(tmp_path, committed_platform):
    """A copy of the committed platform repository, .git and all."""
    return Path(shutil.copytree(committed_platform, tmp_path / "platform", symlinks=True))


@pytest.fixture
def server(consul_servers, platform):
    """The staging datacenter's Consul, with platform.yaml's staging pointed at it (committed:
    publish refuses an uncommitted platform.yaml)."""
    started = consul_servers(datacenter="staging")
    point_at(platform, address=started.address, datacenter="staging")
    git(platform, "commit", "--quiet", "-m", "staging's Consul", "platform.yaml")
    return started


@pytest.fixture
def sync(platform, capsys, monkeypatch):
    """Run `modelship sync-consul --env staging ARGS` in this process; CONSUL_* variables
    from ``env`` (the management token unless given)."""

    def run(*args, env=None, environment="staging"):
        variables = {"CONSUL_HTTP_TOKEN": DEFAULT_TOKEN} if env is None else env
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        argv = ["--platform", str(platform / "platform.yaml"), "sync-consul", "--env"]
        code = cli.main([*argv, environment, *args])
        out, err = capsys.readouterr()
        for name in variables:
            monkeypatch.delenv(name)
        for token in (DEFAULT_TOKEN, READER):
            assert token not in out + err, "a token is never printed"
        return Result(code, out, err)

    return run


def values_of(server):
    return server.values(PREFIX)


# -- first sync, re-sync, update, delete -----------------------------------------------------


def test_a_first_sync_creates_every_key_in_transactions_of_whole_models(platform, server, sync):
    rendered = entries(platform)
    result = sync()
    assert result.code == ExitCode.OK, result.err
    assert values_of(server) == decoded(rendered)
    transactions = server.transactions()
    assert [t.operations for t in transactions] == [60, 12], "6 models of 12 keys, <= 64 each"
    assert all(r.token == DEFAULT_TOKEN for r in server.requests), "the token on every request"
    for model in ("fraud-score", "size-advice", "visual-similarity"):
        indexes = {server.entry(key).modify_index for key in model_keys(rendered, model)}
        assert len(indexes) == 1, f"{model}'s keys changed together, in one transaction"
    commit = git(platform, "rev-parse", "HEAD")
    lines = result.out.splitlines()
    assert lines[0] == (
        f"staging: rendered/staging/consul/kv.json at {commit[:7]} -> Consul "
        f"{server.address} (datacenter staging), keys below {PREFIX}"
    )
    assert lines[1] == f"  create  {PREFIX}fraud-score/commit"
    assert lines[-2:] == [
        "72 to create, 0 to update, 0 to delete, 0 unchanged",
        "applied 72 changes in 2 transactions",
    ]


def test_a_re_sync_with_nothing_changed_writes_nothing(server, sync):
    assert sync().code == ExitCode.OK
    before = len(server.writes())
    again = sync()
    assert again.code == ExitCode.OK, again.err
    assert len(server.writes()) == before, "no transaction, no write at all"
    assert again.out.splitlines()[-2:] == [
        "0 to create, 0 to update, 0 to delete, 72 unchanged",
        "nothing to change",
    ]


def test_an_update_writes_only_the_changed_keys_checked_against_their_index(platform, server, sync):
    assert sync().code == ExitCode.OK
    edit(platform, "size-advice-model", "slo: 80000", "slo: 90000")
    published = publish(platform)
    assert published.returncode == ExitCode.OK, published.stderr
    changed = [f"{PREFIX}size-advice/{field}" for field in ("commit", "image", "slo")]
    read_at = {key: server.entry(key).modify_index for key in changed}
    result = sync()
    assert result.code == ExitCode.OK, result.err
    [update] = server.transactions()[-1:]
    assert update.verbs == [("cas", key, read_at[key]) for key in changed]
    assert server.entry(f"{PREFIX}size-advice/slo").value == b"90000"
    assert values_of(server) == decoded(entries(platform))
    assert [line for line in result.out.splitlines() if line.startswith("  update")] == [
        f"  update  {key}" for key in changed
    ]
    assert "0 to create, 3 to update, 0 to delete, 69 unchanged" in result.out


def test_a_removed_model_loses_its_keys_and_a_model_kept_on_error_keeps_them(
    platform, server, sync
):
    assert sync().code == ExitCode.OK
    shutil.rmtree(platform / "examples/repos/fraud-score-model")
    edit(platform, "size-advice-model", "slo: 80000", "slo: fast")  # kept on error
    published = publish(platform)
    assert published.returncode == ExitCode.FINDINGS, published.stderr
    result = sync()
    assert result.code == ExitCode.OK, result.err
    remaining = values_of(server)
    assert not [key for key in remaining if key.startswith(f"{PREFIX}fraud-score/")]
    assert remaining[f"{PREFIX}size-advice/slo"] == b"80000", "kept as last rendered"
    assert remaining == decoded(entries(platform))
    assert "0 to create, 0 to update, 12 to delete, 60 unchanged" in result.out


# -- concurrent writers, failures between batches ---------------------------------------------


def test_a_newer_sync_between_read_and_write_is_not_overwritten(platform, server, sync):
    """Another sync, from a newer publish, wrote between this run's read and its write:
    the transaction is rolled back (409), this run reads kv.json and Consul again, and the
    newer values stay."""
    assert sync().code == ExitCode.OK
    key = f"{PREFIX}search-ranking/slo"
    older = entries(platform)
    commit_kv(platform, [e if e["key"] != key else entry(key, "60000") for e in older])
    newer = [e if e["key"] != key else entry(key, "70000") for e in older]

    def newer_sync(consul, number):
        if number == 1:  # the newer publish lands, and its sync writes first
            commit_kv(platform, newer)
            consul.put(key, "70000")

    server.before_txn(newer_sync)
    result = sync()
    assert result.code == ExitCode.OK, result.err
    assert server.entry(key).value == b"70000", "the newer writer's value is not lost"
    assert values_of(server) == decoded(newer)
    assert [t.status for t in server.transactions()[-1:]] == [409]
    assert f'another writer changed "{key}" after it was read' in result.err
    assert result.out.splitlines()[-1] == (
        f"nothing to change (2 rounds: another writer changed {key})"
    )


def test_a_key_changed_by_hand_mid_sync_rolls_the_whole_transaction_back(platform, server, sync):
    assert sync().code == ExitCode.OK
    stale, changed = f"{PREFIX}churn/name", f"{PREFIX}search-ranking/slo"
    server.put(stale, "no longer rendered")
    commit_kv(
        platform, [e if e["key"] != changed else entry(changed, "60000") for e in entries(platform)]
    )

    edits = []

    def hand_edit(consul, number):
        if number == 1:
            edits.append(consul.put(changed, "1").modify_index)

    server.before_txn(hand_edit)
    result = sync()
    assert result.code == ExitCode.OK, result.err
    rolled_back, applied = server.transactions()[-2:]
    assert (rolled_back.status, applied.status) == (409, 200)
    assert [verb for verb, _, _ in rolled_back.verbs] == ["cas", "delete-cas"]
    assert applied.verbs == [
        ("cas", changed, edits[0]),
        ("delete-cas", stale, rolled_back.verbs[1][2]),
    ], "the delete waited for the next round, whole with the write"
    assert values_of(server) == decoded(entries(platform)), "the hand edit was seen, then replaced"
    assert f'another writer changed "{changed}" after it was read' in result.err


def test_a_failure_between_transactions_leaves_each_whole_and_a_re_run_converges(
    platform, server, sync
):
    rendered = entries(platform)
    server.fail_txn(2)
    failed = sync()
    assert failed.code == ExitCode.EXTERNAL
    assert "answered a transaction with 500: rpc error making call: leadership lost" in failed.err
    assert (
        "1 transaction (60 changes) had been applied (each whole) before transaction 2 of 2 "
        "failed; run sync-consul again to finish"
    ) in failed.err
    applied = values_of(server)
    assert len(applied) == 60
    last_model = model_keys(rendered, "visual-similarity")
    assert not set(last_model) & set(applied), "the failed transaction applied nothing"
    again = sync()
    assert again.code == ExitCode.OK, again.err
    assert "12 to create, 0 to update, 0 to delete, 60 unchanged" in again.out
    assert values_of(server) == decoded(rendered)
    assert sync().out.endswith("nothing to change\n")


# -- what sync-consul never deletes ------------------------------------------------------------


def test_keys_outside_the_prefix_and_the_prefix_itself_are_never_touched(server, sync):
    outside = {
        "modelship/models": "the prefix itself",
        "modelship/models/": "its folder key",
        "modelship/models-old/churn/name": "beside the prefix",
        "modelship/other": "x",
        "service/checkout/config": "y",
    }
    for key, value in outside.items():
        server.put(key, value)
    before = {key: server.entry(key).modify_index for key in outside}
    assert sync().code == ExitCode.OK
    server.put(f"{PREFIX}ghost/name", "a model no longer rendered")
    result = sync()
    assert result.code == ExitCode.OK, result.err
    assert f"  delete  {PREFIX}ghost/name" in result.out.splitlines()
    assert server.entry(f"{PREFIX}ghost/name") is None
    for key, value in outside.items():
        found = server.entry(key)
        assert (found.value, found.modify_index) == (value.encode(), before[key]), key


def test_a_mass_delete_is_refused_until_allowed(platform, server, sync):
    assert sync().code == ExitCode.OK
    kept = [e for e in entries(platform) if "/fraud-score/" not in e["key"]]
    kept = [e for e in kept if "/size-advice/" not in e["key"]]
    commit_kv(platform, kept)
    writes = len(server.writes())
    for args in ((), ("--dry-run",)):
        refused = sync(*args)
        assert refused.code == ExitCode.FINDINGS
        assert (
            "refusing to delete 24 of 72 keys below modelship/models/ (33%, all keys of 2 "
            "models: fraud-score, size-advice), more than safety.max_delete_share allows (25%); "
            "nothing was written"
        ) in refused.err
        assert refused.out.splitlines()[-1] == "refused: nothing written"
    assert len(server.writes()) == writes, "nothing written"
    allowed = sync("--allow-mass-delete")
    assert allowed.code == ExitCode.OK, allowed.err
    assert values_of(server) == decoded(kept)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[]\n", "rendered/staging/consul/kv.json: lists no keys"),
        (b"", "rendered/staging/consul/kv.json: the file is empty"),
        (b'[\n {"key": "modelship/models/a/b", "value": "eA=="},\n', "kv.json:3:1: invalid JSON"),
        (
            b'[\n  {"flags": 0, "key": "service/web/port", "value": "ODA="}\n]\n',
            'kv.json:2:3: "service/web/port": is not below the platform\'s prefix',
        ),
    ],
)
def test_an_empty_or_invalid_kv_json_changes_nothing(platform, server, sync, content, message):
    assert sync().code == ExitCode.OK
    requests = len(server.requests)
    commit = commit_kv(platform, [], raw=content)
    result = sync()
    assert result.code == ExitCode.USAGE
    assert message in result.err
    assert f"(at {commit[:7]}); nothing was changed in Consul" in result.err
    assert len(server.requests) == requests, "Consul is not even asked"


def test_a_kv_json_missing_at_head_changes_nothing(platform, server, sync):
    git(platform, "rm", "--quiet", str(kv_path(platform)))
    git(platform, "commit", "--quiet", "-m", "no consul for staging")
    result = sync()
    assert result.code == ExitCode.USAGE
    assert "rendered/staging/consul/kv.json is not in the rendered repository's HEAD" in result.err
    assert server.requests == []


def test_the_working_tree_is_not_what_is_applied_head_is(platform, server, sync):
    kv_path(platform).write_text("[]")  # uncommitted
    result = sync()
    assert result.code == ExitCode.OK, result.err
    assert values_of(server) == decoded(
        json.loads(git(platform, "show", "HEAD:" + "rendered/staging/consul/kv.json"))
    )


# -- tokens ---------------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_and_nothing_is_tried(server, sync):
    server.refuse(DEFAULT_TOKEN)
    result = sync()
    assert result.code == ExitCode.EXTERNAL
    assert result.err == (
        f"modelship: error: Consul at {server.address} refused the token from "
        "CONSUL_HTTP_TOKEN (403: ACL not found); it needs read and write on the platform's "
        "prefix. This is a permission problem, not a conflict: nothing more was tried\n"
    )
    assert server.writes() == []


def test_a_token_that_may_not_write_is_not_taken_for_a_conflict(consul_servers, platform, sync):
    server = consul_servers(
        datacenter="staging",
        tokens={DEFAULT_TOKEN: Policy("mgmt", write=("",)), READER: Policy("r", read=(PREFIX,))},
    )
    point_at(platform, address=server.address, datacenter="staging")
    result = sync(env={"CONSUL_HTTP_TOKEN": READER})
    assert result.code == ExitCode.EXTERNAL
    assert "refused the token from CONSUL_HTTP_TOKEN (409: Permission denied: token with" in (
        result.err
    )
    assert len(server.transactions()) == 1, "no re-plan: a denial is not a conflict"
    assert values_of(server) == {}


def test_without_a_token_a_filtered_read_is_never_taken_for_missing_keys(server, sync):
    assert sync().code == ExitCode.OK
    result = sync(env={})
    assert result.code == ExitCode.EXTERNAL
    assert "hid some keys below modelship/models/ from this token" in result.err
    assert server.requests[-1].token is None
    assert len(server.transactions()) == 2, "only the first sync's"


def test_the_token_file_is_read_before_the_token_variable(tmp_path, server, sync):
    token_file = tmp_path / "consul-token"
    token_file.write_text(f"{DEFAULT_TOKEN}\n")
    result = sync(
        env={"CONSUL_HTTP_TOKEN_FILE": str(token_file), "CONSUL_HTTP_TOKEN": "stale-token"}
    )
    assert result.code == ExitCode.OK, result.err
    assert {r.token for r in server.requests} == {DEFAULT_TOKEN}
    missing = sync(env={"CONSUL_HTTP_TOKEN_FILE": str(tmp_path / "nope")})
    assert missing.code == ExitCode.USAGE
    assert f"CONSUL_HTTP_TOKEN_FILE: cannot read {tmp_path / 'nope'}" in missing.err


# -- where: addresses, datacenters, TLS, timeouts ---------------------------------------------


def test_the_datacenter_decides_the_store_whatever_agent_is_asked(consul_servers, platform, sync):
    agent = consul_servers(datacenter="production", datacenters=("staging",))
    point_at(platform, address="https://consul.staging.acme.internal:8501", datacenter="staging")
    result = sync(env={"CONSUL_HTTP_ADDR": agent.address, "CONSUL_HTTP_TOKEN": DEFAULT_TOKEN})
    assert result.code == ExitCode.OK, result.err
    assert agent.values(PREFIX, datacenter="staging") == decoded(entries(platform))
    assert agent.values(PREFIX) == {}, "the agent's own datacenter is untouched"
    point_at(platform, datacenter="qa")
    unknown = sync(env={"CONSUL_HTTP_ADDR": agent.address, "CONSUL_HTTP_TOKEN": DEFAULT_TOKEN})
    assert unknown.code == ExitCode.EXTERNAL
    assert "500: No path to datacenter" in unknown.err


def test_an_unreachable_or_silent_consul_is_an_external_failure(platform, server, sync):
    point_at(platform, address="127.0.0.1:9")
    unreachable = sync()
    assert unreachable.code == ExitCode.EXTERNAL
    assert unreachable.err.startswith(
        "modelship: error: cannot connect to Consul at http://127.0.0.1:9 (from "
        "environments.staging.consul.address): "
    )
    point_at(platform, address=server.address)
    set_timeout(platform, 0.5)
    server.hang(3)
    silent = sync()
    assert silent.code == ExitCode.EXTERNAL
    assert f"Consul at {server.address} did not answer within 0.5 s" in silent.err


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"x": 1}', "an object, not a list of entries"),
        (b"[1, 2]", "entry 0 is a number, not an object"),
        (b'[{"Key": 5, "ModifyIndex": 3}]', "entry 0's Key is a number, not a string"),
        (b'[{"Key": "k", "ModifyIndex": 1e999}]', "entry 0's ModifyIndex is not a 64-bit"),
        (b'[{"Key": "k", "ModifyIndex": 3, "Value": "%%"}]', "entry 0's Value is not base64"),
        (b"[" * 100_000, "not JSON"),
    ],
    ids=["object", "numbers", "key", "index", "value", "nested"],
)
@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)], ids=["sync", "dry-run"])
def test_a_read_answered_in_another_shape_than_consuls_is_an_external_failure(
    server, sync, body, reason, dry_run
):
    server.misanswer("/v1/kv/", body)
    result = sync(*dry_run)
    assert result.code == ExitCode.EXTERNAL, result.err
    assert result.err.startswith(
        f"modelship: error: Consul at {server.address} answered GET /v1/kv/{PREFIX} with "
        f"something other than its key list: {reason}"
    )
    assert server.writes() == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"x": 1}', "no list of Errors"),
        (b'{"Errors": [{"OpIndex": 1e999, "What": "x"}]}', "error 0 is not an object with"),
        (b"[" * 100_000, "not JSON"),
    ],
    ids=["object", "index", "nested"],
)
def test_a_rolled_back_transaction_answered_in_another_shape_is_an_external_failure(
    server, sync, body, reason
):
    server.misanswer("/v1/txn", body, status=409)
    result = sync()
    assert result.code == ExitCode.EXTERNAL, result.err
    assert result.err.startswith(
        f"modelship: error: Consul at {server.address} answered PUT /v1/txn with 409, not "
        f"with Consul's errors ({reason}"
    )
    assert result.err.rstrip().endswith(". Nothing was changed")
    assert values_of(server) == {}


def test_tls_with_a_private_ca_and_a_client_certificate(tmp_path, consul_servers, platform, sync):
    pki = certificates(tmp_path / "pki")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED  # verify_incoming, as Consul's HTTPS port can
    server = consul_servers(datacenter="staging", tls=context)
    point_at(platform, address=server.address, datacenter="staging")
    client = {"CONSUL_CLIENT_CERT": str(pki.client_cert), "CONSUL_CLIENT_KEY": str(pki.client_key)}
    token = {"CONSUL_HTTP_TOKEN": DEFAULT_TOKEN}
    unknown_ca = sync(env={**token, **client})
    assert unknown_ca.code == ExitCode.EXTERNAL
    assert f"TLS with Consul at {server.address} failed" in unknown_ca.err
    assert "CERTIFICATE_VERIFY_FAILED" in unknown_ca.err
    no_client_cert = sync(env={**token, "CONSUL_CACERT": str(pki.ca)})
    assert no_client_cert.code == ExitCode.EXTERNAL
    trusted = sync(env={**token, **client, "CONSUL_CACERT": str(pki.ca)})
    assert trusted.code == ExitCode.OK, trusted.err
    assert values_of(server) == decoded(entries(platform))
    unchecked = sync(env={**token, **client, "CONSUL_HTTP_SSL_VERIFY": "false"})
    assert unchecked.code == ExitCode.OK, unchecked.err
    assert unchecked.err == (
        "modelship: warning: CONSUL_HTTP_SSL_VERIFY=false: Consul's certificate is unchecked\n"
    )


def test_a_namespace_needs_consul_enterprise(consul_servers, platform, sync):
    community = consul_servers(datacenter="staging")
    point_at(platform, address=community.address, datacenter="staging", namespace="ml")
    refused = sync()
    assert refused.code == ExitCode.EXTERNAL
    assert "Namespaces are a Consul Enterprise feature" in refused.err
    enterprise = consul_servers(datacenter="staging", namespaces=True)
    point_at(platform, address=enterprise.address)
    result = sync()
    assert result.code == ExitCode.OK, result.err
    assert enterprise.values(PREFIX, namespace="ml") == decoded(entries(platform))
    assert enterprise.values(PREFIX) == {}


def test_bad_consul_variables_are_usage_errors(platform, sync):
    for env, message in [
        ({"CONSUL_HTTP_ADDR": "unix:///var/run/consul.sock"}, "a unix socket is not supported"),
        ({"CONSUL_HTTP_ADDR": "consul:8500/v1"}, "is not a Consul HTTP address"),
        ({"CONSUL_HTTP_ADDR": "consul:99999"}, "'consul:99999' is not a Consul HTTP address"),
        ({"CONSUL_HTTP_ADDR": "ftp://consul"}, "the scheme must be http or https"),
        ({"CONSUL_HTTP_SSL_VERIFY": "maybe"}, "CONSUL_HTTP_SSL_VERIFY: 'maybe' is neither"),
        ({"CONSUL_CACERT": "/nonexistent/ca.pem"}, "CONSUL_CACERT: /nonexistent/ca.pem is not"),
        ({"CONSUL_CLIENT_KEY": "/k.pem"}, "CONSUL_CLIENT_KEY is set without CONSUL_CLIENT_CERT"),
    ]:
        result = sync(env=env)
        assert result.code == ExitCode.USAGE, env
        assert message in result.err, result.err
    unknown = sync(environment="qa")
    assert unknown.code == ExitCode.USAGE
    assert "--env qa: no such environment in platform.yaml (environments: production, staging)" in (
        unknown.err
    )


# -- output ---------------------------------------------------------------------------------------


def test_a_dry_run_prints_the_plan_as_json_and_changes_nothing(platform, server, sync):
    assert sync().code == ExitCode.OK
    commit = commit_kv(platform, [e for e in entries(platform) if "/fraud-score/" not in e["key"]])
    server.put(f"{PREFIX}search-ranking/slo", "1")
    writes = len(server.writes())
    result = sync("--dry-run", "--format", "json")
    assert result.code == ExitCode.OK, result.err
    document = valid_output("sync-consul", result.out)
    assert document["dry_run"] is True
    assert document["consul"] == {
        "address": server.address,
        "datacenter": "staging",
        "namespace": None,
    }
    assert document["rendered"] == {"path": "rendered/staging/consul/kv.json", "commit": commit}
    assert document["counts"] == {"create": 0, "update": 1, "delete": 12, "unchanged": 59}
    assert document["changes"][0] == {"action": "delete", "key": f"{PREFIX}fraud-score/commit"}
    assert {"action": "update", "key": f"{PREFIX}search-ranking/slo"} in document["changes"]
    assert document["removed_models"] == ["fraud-score"]
    assert document["applied"] == {"transactions": 0, "changes": 0}
    assert len(server.writes()) == writes, "nothing written"
    assert server.entry(f"{PREFIX}search-ranking/slo").value == b"1"


def test_the_installed_cli_syncs_and_its_help_ends_with_examples(platform, server, capsys):
    result = modelship(
        "sync-consul",
        "--env",
        "staging",
        cwd=platform,
        env=clean_env(CONSUL_HTTP_TOKEN=DEFAULT_TOKEN),
    )
    assert result.returncode == ExitCode.OK, result.stderr
    assert values_of(server) == decoded(entries(platform))
    with pytest.raises(SystemExit):
        cli.main(["sync-consul", "--help"])
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith(
            "modelship sync-consul --env production --allow-mass-delete   # after reading a refusal"
        )
    )
