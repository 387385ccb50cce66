"""The loopback Consul answers py-consul's own KV calls as a Consul agent does, so the
sync-consul tests stand on documented shapes: indexes, check-and-set, atomic transactions,
their limits and ACL answers."""

import base64
import json
import threading

import consul
import pytest

from testsupport.fakes.consul_server import DEFAULT_TOKEN, Policy


def client(server, token=DEFAULT_TOKEN):
    host, port = server.address.removeprefix("http://").split(":")
    return consul.Consul(host=host, port=int(port), token=token, connections_timeout=5)


def txn(server, operations, token=DEFAULT_TOKEN):
    """PUT /v1/txn with the token (py-consul's Txn.put sends none): status and JSON."""
    answer = client(server).http.put(
        lambda response: response,
        "/v1/txn",
        data=json.dumps(operations),
        headers={"X-Consul-Token": token},
    )
    return answer.code, answer.body


def cas(key, value, index):
    return {
        "KV": {"Verb": "cas", "Key": key, "Value": base64.b64encode(value).decode(), "Index": index}
    }


def test_kv_put_get_and_check_and_set_as_py_consul_sees_them(consul_servers):
    server = consul_servers()
    kv = client(server).kv
    assert kv.put("app/a", "one") is True
    index, entry = kv.get("app/a")
    assert entry["Value"] == b"one"
    assert entry["CreateIndex"] == entry["ModifyIndex"] == int(index)
    assert kv.put("app/a", "two", cas=0) is False, "cas=0 only creates"
    assert kv.put("app/a", "two", cas=entry["ModifyIndex"]) is True
    assert kv.put("app/a", "three", cas=entry["ModifyIndex"]) is False, "the index moved on"
    _, entry = kv.get("app/a")
    assert (entry["Value"], entry["CreateIndex"] < entry["ModifyIndex"]) == (b"two", True)
    kv.put("app/b/c", "x")
    kv.put("other", "y")
    _, listed = kv.get("app/", recurse=True)
    assert [e["Key"] for e in listed] == ["app/a", "app/b/c"]
    _, names = kv.get("app/", keys=True, separator="/")
    assert names == ["app/a", "app/b/"]
    assert kv.delete("app/a", cas=1) is False
    assert kv.delete("app/a", cas=entry["ModifyIndex"]) is True
    index_after_delete, _ = kv.get("app/", recurse=True)
    assert int(index_after_delete) > entry["ModifyIndex"], "a deletion moves the folder's index"
    assert kv.get("app/a")[1] is None


def test_a_transaction_is_all_or_nothing_with_consuls_errors(consul_servers):
    server = consul_servers()
    server.put("app/a", "old")
    index = server.entry("app/a").modify_index
    status, body = txn(server, [cas("app/new", b"n", 0), cas("app/a", b"x", index + 7)])
    assert status == 409
    assert json.loads(body) == {
        "Results": None,
        "Errors": [{"OpIndex": 1, "What": 'failed to set key "app/a", index is stale'}],
    }
    assert server.values("app/") == {"app/a": b"old"}, "nothing of it was applied"
    status, body = txn(server, [cas("app/new", b"n", 0), cas("app/a", b"x", index)])
    assert status == 200
    results = json.loads(body)["Results"]
    assert [r["KV"]["Key"] for r in results] == ["app/new", "app/a"]
    assert results[0]["KV"]["Value"] is None, "write results carry no value"
    assert results[0]["KV"]["ModifyIndex"] == results[1]["KV"]["ModifyIndex"], "one index"
    status, body = txn(server, [cas(f"app/{n}", b"v", 0) for n in range(65)])
    assert (status, body) == (413, "Transaction contains too many operations (65 > 64)")


def test_acls_a_bad_token_is_403_and_a_missing_one_is_denied_or_filtered(consul_servers):
    reader = "0b8c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
    server = consul_servers(
        tokens={DEFAULT_TOKEN: Policy("mgmt", write=("",)), reader: Policy("r", read=("app/",))}
    )
    server.put("app/a", "v")
    with pytest.raises(consul.ACLPermissionDenied, match="ACL not found"):
        client(server, token="not-a-token").kv.get("app/a")
    anonymous = client(server, token=None)
    with pytest.raises(consul.ACLPermissionDenied, match="lacks permission 'key:read'"):
        anonymous.kv.get("app/a")
    answer = anonymous.http.get(lambda r: r, "/v1/kv/app/", params=[("recurse", "1")])
    assert answer.code == 404
    assert answer.headers["X-Consul-Results-Filtered-By-ACLs"] == "true"
    status, body = txn(server, [cas("app/a", b"x", 0)], token=reader)
    assert status == 409, "a write the token may not do is a 409, as a CAS conflict is"
    assert json.loads(body)["Errors"][0]["What"].startswith(
        "Permission denied: token with AccessorID 'r' lacks permission 'key:write'"
    )


def test_a_stopped_server_leaves_no_thread_though_its_client_keeps_the_connection(
    consul_servers,
):
    """py-consul's session keeps its connection open; the handler's thread waiting on it
    must end with the server, or a later test sees a thread it did not start."""
    before = set(threading.enumerate())
    server = consul_servers()
    kept = client(server)  # its session, and the connection, live on
    assert kept.kv.put("app/a", "one") is True
    assert len(set(threading.enumerate()) - before) == 2  # the server's, the connection's
    server.stop()
    assert set(threading.enumerate()) - before == set()
    assert kept.kv is not None
