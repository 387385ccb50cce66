"""A loopback Consul for the real py-consul client: the key/value store's HTTP API and the
transaction endpoint on 127.0.0.1, as Consul documents them and its agent behaves.

- ``GET /v1/kv/<key>``: one entry, ``?recurse`` every entry with that prefix, ``?keys``
  (with ``?separator``) their names, ``?raw`` the bare value; entries carry CreateIndex,
  ModifyIndex, LockIndex, Flags, Session and the Value in base64 (null when empty); 404 when
  nothing matches; ``X-Consul-Index`` is the highest ModifyIndex below the prefix (deletions
  count, as Consul's tombstones do), ``X-Consul-KnownLeader`` and ``X-Consul-LastContact``
  are sent too.
- ``PUT /v1/kv/<key>`` (``?cas=``, ``?flags=``) and ``DELETE /v1/kv/<key>`` (``?cas=``,
  ``?recurse``): the body is the value; the answer ``true`` or ``false``.
- ``PUT /v1/txn``: KV operations (set, cas, get, get-tree, check-index, check-not-exists,
  delete, delete-tree, delete-cas), applied atomically: every operation's error is
  collected (``Errors[].OpIndex`` / ``What``, with Consul's texts: ``failed to set key
  "k", index is stale``) and then nothing is applied (409); more than ``max_txn_ops``
  operations is a 413 with Consul's text; every write of one transaction gets one new index.
- ``?dc=``: each datacenter has a store of its own; an unknown one is a 500 "No path to
  datacenter". ``?ns=`` is a 400 unless the server is Enterprise (``namespaces=True``).
- ACLs (on by default, default policy deny): the token comes in ``X-Consul-Token``,
  ``Authorization: Bearer`` or ``?token=``. An unknown token is a 403 "ACL not found" on
  every endpoint. A request without one is the anonymous token, which may do nothing: its
  reads of one key are 403 "Permission denied: ...", its recursive reads are filtered (a
  404 with ``X-Consul-Results-Filtered-By-ACLs: true``), and its transaction writes come
  back as a 409 whose errors say "Permission denied" — as a real agent answers.

Hooks for tests, transactions counted from the call on, 1-based: ``before_txn(hook)`` (the
hook is called with the server and the transaction's number before it is applied: a
concurrent writer, who writes with ``put`` and ``delete``), ``fail_txn(number)`` (that transaction fails with a 500 and applies
nothing), ``refuse(token)`` (the token becomes unknown),
``hang(seconds)`` (the next request answers that much later), ``misanswer(path, body)`` (the
next request below that path gets that body instead of Consul's answer, as a proxy or a
server that is not Consul would give). Every request is recorded.
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from testsupport.fakes.http import LoopbackServer, serve_in_background, stop_serving

DEFAULT_TOKEN = "5e1c0c5a-7b9e-4e55-9d52-3f6a1c0ffee1"  # a management token's SecretID
ANONYMOUS_ACCESSOR = "00000000-0000-0000-0000-000000000002"
MAX_TXN_OPS = 64  # agent/txn_endpoint.go: maxTxnOps
MAX_VALUE_SIZE = 512 * 1024  # kv_max_value_size's default
WRITE_VERBS = {"set", "cas", "delete", "delete-tree", "delete-cas"}
READ_VERBS = {"get", "get-tree", "check-index", "check-not-exists"}
NO_NAMESPACES = 'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature'


@dataclass(frozen=True)
class Policy:
    """An ACL token's key rules (``key_prefix "<p>" { policy = "write" }``); write implies
    read. ``accessor`` is the token's AccessorID, which Consul names in its denials."""

    accessor: str
    write: tuple[str, ...] = ()
    read: tuple[str, ...] = ()

    def may(self, key: str, access: str) -> bool:
        prefixes = self.write if access == "write" else self.write + self.read
        return any(key.startswith(prefix) for prefix in prefixes)

    def denial(self, key: str, access: str) -> str:
        return (
            f"Permission denied: token with AccessorID '{self.accessor}' lacks permission "
            f"'key:{access}' on {json.dumps(key)}"
        )


MANAGEMENT = Policy("6a1a7d4b-0c3e-4d57-8f1b-1c0ffee00001", write=("",))
ANONYMOUS = Policy(ANONYMOUS_ACCESSOR)


@dataclass
class Entry:
    key: str
    value: bytes
    flags: int
    create_index: int
    modify_index: int
    lock_index: int = 0
    session: str | None = None

    def json(self, with_value: bool = True) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "LockIndex": self.lock_index,
            "Key": self.key,
            "Flags": self.flags,
            "Value": base64.b64encode(self.value).decode() if with_value and self.value else None,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        }
        if self.session:
            entry["Session"] = self.session
        return entry


@dataclass
class Store:
    """One datacenter's (and namespace's) key/value store."""

    entries: dict[str, Entry] = field(default_factory=dict)
    tombstones: dict[str, int] = field(default_factory=dict)  # deleted key → its index

    def index_below(self, prefix: str, table_index: int) -> int:
        found = [e.modify_index for k, e in self.entries.items() if k.startswith(prefix)]
        found += [i for k, i in self.tombstones.items() if k.startswith(prefix)]
        return max(found, default=0) or table_index


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    token: str | None  # as the request carried it
    status: int = 0
    operations: int = 0  # of a transaction
    verbs: list[tuple[str, str, int]] = field(default_factory=list)  # (Verb, Key, Index) each


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, document: Any, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(document).encode(), headers=headers or {})


def _text(status: int, text: str) -> _Reply:
    return _Reply(status, text.encode(), "text/plain; charset=utf-8")


class TxnFailure(Exception):
    """An operation of a transaction failed: the transaction is rolled back."""


class FakeConsul:
    def __init__(
        self,
        *,
        datacenter: str = "dc1",
        datacenters: tuple[str, ...] = (),
        tokens: dict[str, Policy] | None = None,
        acl: bool = True,
        namespaces: bool = False,
        max_txn_ops: int = MAX_TXN_OPS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``datacenter``: the agent's own; ``datacenters``: others it can forward to."""
        self.datacenter = datacenter
        self.datacenters = {datacenter, *datacenters}
        self.tokens = dict(tokens) if tokens is not None else {DEFAULT_TOKEN: MANAGEMENT}
        self.acl = acl
        self.namespaces = namespaces
        self.max_txn_ops = max_txn_ops
        self.tls = tls
        self.index = 1
        self.stores: dict[tuple[str, str], Store] = {}
        self.requests: list[Recorded] = []
        self._before_txn: tuple[int, Callable[[FakeConsul, int], None]] | None = None
        self._failing: dict[int, tuple[int, str]] = {}
        self._hang = 0.0
        self._misanswers: dict[str, _Reply] = {}
        self._transactions = 0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._http: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeConsul:
        self._http = _Server(("127.0.0.1", 0), _Handler)
        if self.tls is not None:
            self._http.socket = self.tls.wrap_socket(self._http.socket, server_side=True)
        self._http.fake = self  # type: ignore[attr-defined]
        self._thread = serve_in_background(self._http, "fake-consul")
        return self

    def stop(self) -> None:
        self._stopping.set()
        stop_serving(self._http, self._thread)

    @property
    def address(self) -> str:
        """What CONSUL_HTTP_ADDR or consul.address is set to."""
        assert self._http is not None, "start() the server first"
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._http.server_address[1]}"

    # -- what tests use ------------------------------------------------------------------------

    def store(self, datacenter: str | None = None, namespace: str = "default") -> Store:
        with self._lock:
            return self.stores.setdefault((datacenter or self.datacenter, namespace), Store())

    def put(
        self,
        key: str,
        value: bytes | str,
        flags: int = 0,
        datacenter: str | None = None,
        namespace: str = "default",
    ) -> Entry:
        """Write a key as another client would (a new index)."""
        data = value.encode() if isinstance(value, str) else value
        with self._lock:
            self.index += 1
            return _set(self.store(datacenter, namespace), key, data, flags, self.index)

    def delete(self, key: str, datacenter: str | None = None, namespace: str = "default") -> None:
        """Delete a key as another client would (a new index, a tombstone)."""
        with self._lock:
            self.index += 1
            _remove(self.store(datacenter, namespace), key, self.index)

    def values(
        self, prefix: str = "", datacenter: str | None = None, namespace: str = "default"
    ) -> dict[str, bytes]:
        with self._lock:
            store = self.store(datacenter, namespace)
            return {k: e.value for k, e in sorted(store.entries.items()) if k.startswith(prefix)}

    def entry(self, key: str, datacenter: str | None = None) -> Entry | None:
        with self._lock:
            found = self.store(datacenter).entries.get(key)
            return replace(found) if found else None

    def before_txn(self, hook: Callable[[FakeConsul, int], None]) -> None:
        """Call ``hook(server, n)`` before the n-th transaction from now on is applied."""
        with self._lock:
            self._before_txn = (self._transactions, hook)

    def fail_txn(self, number: int, status: int = 500, text: str = "") -> None:
        """Transaction ``number`` (1-based, counted from now on) fails and applies nothing."""
        with self._lock:
            reason = text or "rpc error making call: leadership lost while committing log"
            self._failing[self._transactions + number] = (status, reason)

    def misanswer(self, path: str, body: bytes, status: int = 200) -> None:
        """The next request whose path starts with ``path`` (``/v1/kv/``, ``/v1/txn``) is
        answered ``status`` with ``body`` as JSON, whatever it asked; nothing is applied."""
        with self._lock:
            self._misanswers[path] = _Reply(status, body)

    def refuse(self, token: str) -> None:
        with self._lock:
            self.tokens.pop(token, None)

    def hang(self, seconds: float) -> None:
        with self._lock:
            self._hang = seconds

    def transactions(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/txn"]

    def writes(self) -> list[Recorded]:
        """Requests that could change the store: transactions, KV PUTs and DELETEs."""
        with self._lock:
            return [r for r in self.requests if r.method in ("PUT", "DELETE")]

    # -- dispatch --------------------------------------------------------------------------------

    def take_hang(self) -> float:
        with self._lock:
            seconds, self._hang = self._hang, 0.0
            return seconds

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply:
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        token = headers.get("x-consul-token") or query.get("token")
        bearer = headers.get("authorization", "")
        if not token and bearer.lower().startswith("bearer "):
            token = bearer[7:].strip()
        record = Recorded(method, path, query, token)
        with self._lock:
            self.requests.append(record)
            reply = self._misanswer(path) or self._answer(method, path, query, token, body, record)
            record.status = reply.status
        reply.headers.setdefault("X-Consul-Knownleader", "true")
        reply.headers.setdefault("X-Consul-Lastcontact", "0")
        return reply

    def _misanswer(self, path: str) -> _Reply | None:
        for prefix in self._misanswers:
            if path.startswith(prefix):
                return self._misanswers.pop(prefix)
        return None

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        token: str | None,
        body: bytes,
        record: Recorded,
    ) -> _Reply:
        policy: Policy = MANAGEMENT
        if self.acl:
            if token:
                if token not in self.tokens:
                    return _text(403, "ACL not found")
                policy = self.tokens[token]
            else:
                policy = ANONYMOUS
        datacenter = query.get("dc") or self.datacenter
        if datacenter not in self.datacenters:
            return _text(500, "No path to datacenter")
        namespace = query.get("ns") or "default"
        if namespace != "default" and not self.namespaces:
            return _text(400, NO_NAMESPACES)
        if path == "/v1/txn":
            if method != "PUT":
                return _text(405, f"method {method} not allowed")
            return self._txn(body, policy, datacenter, record)
        if not path.startswith("/v1/kv/"):
            return _text(404, "404 page not found")
        key = path[len("/v1/kv/") :]
        store = self.store(datacenter, namespace)
        if method == "GET":
            return self._get(store, key, query, policy)
        if method == "PUT":
            return self._put(store, key, query, policy, body)
        if method == "DELETE":
            return self._delete(store, key, query, policy)
        return _text(405, f"method {method} not allowed")

    def _get(self, store: Store, key: str, query: dict[str, str], policy: Policy) -> _Reply:
        headers = {"X-Consul-Index": str(store.index_below(key, self.index))}
        if "recurse" in query or "keys" in query:
            matching = [e for k, e in sorted(store.entries.items()) if k.startswith(key)]
            visible = [e for e in matching if policy.may(e.key, "read")]
            if len(visible) < len(matching):
                headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
            if not visible:
                return _Reply(404, b"", "text/plain; charset=utf-8", headers)
            if "keys" in query:
                return _json(200, _key_names(visible, key, query.get("separator", "")), headers)
            return _json(200, [e.json() for e in visible], headers)
        if not policy.may(key, "read"):
            return _text(403, policy.denial(key, "read"))
        entry = store.entries.get(key)
        if entry is None:
            return _Reply(404, b"", "text/plain; charset=utf-8", headers)
        headers["X-Consul-Index"] = str(entry.modify_index)
        if "raw" in query:
            return _Reply(200, entry.value, "text/plain; charset=utf-8", headers)
        return _json(200, [entry.json()], headers)

    def _put(
        self, store: Store, key: str, query: dict[str, str], policy: Policy, body: bytes
    ) -> _Reply:
        if not policy.may(key, "write"):
            return _text(403, policy.denial(key, "write"))
        if len(body) > MAX_VALUE_SIZE:
            return _text(413, f"Request body({len(body)} bytes) too large, max size: 524288 bytes.")
        try:
            flags = int(query.get("flags", "0"))
            cas = int(query["cas"]) if "cas" in query else None
        except ValueError:
            return _text(400, "Invalid flags or cas")
        current = store.entries.get(key)
        if cas is not None and (cas != (current.modify_index if current else 0)):
            return _json(200, False)
        self.index += 1
        _set(store, key, body, flags, self.index)
        return _json(200, True)

    def _delete(self, store: Store, key: str, query: dict[str, str], policy: Policy) -> _Reply:
        if not policy.may(key, "write"):
            return _text(403, policy.denial(key, "write"))
        if "recurse" in query:
            self.index += 1
            for name in [k for k in store.entries if k.startswith(key)]:
                _remove(store, name, self.index)
            return _json(200, True)
        current = store.entries.get(key)
        if "cas" in query and (current is None or int(query["cas"]) != current.modify_index):
            return _json(200, current is None)
        if current is not None:
            self.index += 1
            _remove(store, key, self.index)
        return _json(200, True)

    def _txn(self, body: bytes, policy: Policy, datacenter: str, record: Recorded) -> _Reply:
        try:
            operations = json.loads(body)
            if not isinstance(operations, list):
                raise ValueError("json: cannot unmarshal object into Go value of type api.TxnOps")
            kvs = [_kv_operation(op) for op in operations]
        except (ValueError, TypeError, KeyError) as error:
            return _text(400, f"Failed to parse body: {error}")
        record.operations = len(kvs)
        record.verbs = [(kv["Verb"], kv["Key"], int(kv.get("Index", 0))) for kv in kvs]
        if len(kvs) > self.max_txn_ops:
            return _text(
                413,
                f"Transaction contains too many operations ({len(kvs)} > {self.max_txn_ops})",
            )
        for kv in kvs:
            if len(kv["Value"]) > MAX_VALUE_SIZE:
                return _text(
                    413,
                    f"Value for key {json.dumps(kv['Key'])} is too large "
                    f"({len(kv['Value'])} > {MAX_VALUE_SIZE} bytes)",
                )
        self._transactions += 1
        number = self._transactions
        if self._before_txn is not None:
            base, hook = self._before_txn
            hook(self, number - base)
        if number in self._failing:
            status, text = self._failing.pop(number)
            return _text(status, text)
        errors = []
        for position, kv in enumerate(kvs):
            access = "write" if kv["Verb"] in WRITE_VERBS else "read"
            if not policy.may(kv["Key"], access):
                errors.append({"OpIndex": position, "What": policy.denial(kv["Key"], access)})
        if errors:
            return _json(409, {"Results": None, "Errors": errors})
        # Applied to copies: every error is collected, then all or nothing.
        touched: dict[str, Store] = {}
        index = self.index + 1
        results: list[dict[str, Any]] = []
        for position, kv in enumerate(kvs):
            namespace = kv.get("Namespace") or "default"
            if namespace != "default" and not self.namespaces:
                namespace = "default"  # Consul CE ignores an operation's namespace
            name = f"{datacenter}\0{namespace}"
            if name not in touched:
                original = self.store(datacenter, namespace)
                touched[name] = Store(
                    {k: replace(e) for k, e in original.entries.items()},
                    dict(original.tombstones),
                )
            try:
                results.extend(_apply(touched[name], kv, index))
            except TxnFailure as failure:
                errors.append({"OpIndex": position, "What": str(failure)})
        if errors:
            return _json(409, {"Results": None, "Errors": errors})
        self.index = index
        for name, copy in touched.items():
            datacenter_name, namespace = name.split("\0")
            self.stores[(datacenter_name, namespace)] = copy
        return _json(200, {"Results": results or None, "Errors": None})


def _kv_operation(operation: Any) -> dict[str, Any]:
    if not isinstance(operation, dict) or set(operation) != {"KV"}:
        raise ValueError("only KV operations are served by this loopback Consul")
    kv = dict(operation["KV"])
    verb = kv.get("Verb")
    if verb not in WRITE_VERBS | READ_VERBS:
        raise ValueError(f"unknown KV verb {verb!r}")
    if not isinstance(kv.get("Key"), str):
        raise ValueError("json: KV.Key must be a string")
    value = kv.get("Value")
    try:
        kv["Value"] = base64.b64decode(value, validate=True) if value is not None else b""
    except (binascii.Error, TypeError) as error:
        raise ValueError(f"failed to decode value: {error}") from None
    for name in ("Flags", "Index"):
        if not isinstance(kv.get(name, 0), int) or isinstance(kv.get(name, 0), bool):
            raise ValueError(f"json: cannot unmarshal into Go struct field KVTxnOp.{name}")
    return kv


def _apply(store: Store, kv: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """One operation, as Consul's state store applies it (agent/consul/state/txn.go)."""
    verb, key = kv["Verb"], kv["Key"]
    current = store.entries.get(key)
    wanted = int(kv.get("Index", 0))
    entry: Entry | None = None
    if verb == "set":
        entry = _set(store, key, kv["Value"], int(kv.get("Flags", 0)), index)
    elif verb == "cas":
        if (current.modify_index if current else 0) != wanted:
            raise TxnFailure(f"failed to set key {json.dumps(key)}, index is stale")
        entry = _set(store, key, kv["Value"], int(kv.get("Flags", 0)), index)
    elif verb == "delete":
        if current is not None:
            _remove(store, key, index)
    elif verb == "delete-cas":
        if current is not None:
            if current.modify_index != wanted:
                raise TxnFailure(f"failed to delete key {json.dumps(key)}, index is stale")
            _remove(store, key, index)
    elif verb == "delete-tree":
        for name in [k for k in store.entries if k.startswith(key)]:
            _remove(store, name, index)
    elif verb == "get":
        if current is None:
            raise TxnFailure(f"key {json.dumps(key)} doesn't exist")
        return [{"KV": current.json()}]
    elif verb == "get-tree":
        return [{"KV": e.json()} for k, e in sorted(store.entries.items()) if k.startswith(key)]
    elif verb == "check-index":
        if current is None:
            raise TxnFailure(f"key {json.dumps(key)} doesn't exist")
        if current.modify_index != wanted:
            raise TxnFailure(f"current modify index {current.modify_index} != {wanted}")
        entry = current
    elif verb == "check-not-exists" and current is not None:
        raise TxnFailure(f"key {json.dumps(key)} exists")
    return [{"KV": entry.json(with_value=False)}] if entry is not None else []


def _set(store: Store, key: str, value: bytes, flags: int, index: int) -> Entry:
    current = store.entries.get(key)
    entry = Entry(key, value, flags, current.create_index if current else index, index)
    store.entries[key] = entry
    store.tombstones.pop(key, None)
    return entry


def _remove(store: Store, key: str, index: int) -> None:
    del store.entries[key]
    store.tombstones[key] = index


def _key_names(entries: list[Entry], prefix: str, separator: str) -> list[str]:
    names: list[str] = []
    for entry in entries:
        name = entry.key
        if separator:
            cut = name.find(separator, len(prefix))
            if cut >= 0:
                name = name[: cut + len(separator)]
        if name not in names:
            names.append(name)
    return names


class _Server(LoopbackServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that gives up (a timeout test) or fails TLS is not an error."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Consul"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    do_PUT = do_DELETE = do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``server.requests``."""

    def _serve(self) -> None:
        fake: FakeConsul = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        delay = fake.take_hang()
        if delay and fake._stopping.wait(delay):
            self.close_connection = True
            return
        reply = fake.handle(self.command, self.path, headers, body)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:  # the client gave up waiting
            self.close_connection = True


@dataclass
class ConsulServers:
    """Starts loopback Consuls with any options; the fixture stops them all."""

    started: list[FakeConsul] = field(default_factory=list)

    def __call__(self, **options: Any) -> FakeConsul:
        server = FakeConsul(**options).start()
        self.started.append(server)
        return server


@pytest.fixture
def consul_servers() -> Iterator[ConsulServers]:
    servers = ConsulServers()
    try:
        yield servers
    finally:
        for server in servers.started:
            server.stop()
