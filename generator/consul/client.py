"""Consul's HTTP API through py-consul: where and how to connect (platform.yaml and Consul's
own environment variables), reading the keys below a prefix, sending one transaction.

py-consul's ``Txn.put`` sends no ACL token and no datacenter, and maps a rolled-back
transaction (409) to a bare ClientError; its ``KV.get`` can ask for no namespace and hides
the ``X-Consul-Results-Filtered-By-ACLs`` header. So both requests go through the client's
own HTTP layer (``Consul.http``: its requests session, TLS settings and timeout) with the
token in ``X-Consul-Token`` on every request, and the answer is read here, whole: with ACLs
on, a write without a good token comes back as a 409 whose errors say "Permission denied",
which must never be taken for a check-and-set conflict.

The token is never part of a message, a repr or an exception.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import consul
import requests
import urllib3
from consul.base import Response

from generator.config.settings import ConsulEndpoint
from generator.consul.kv_plan import LiveKey
from generator.errors import ExternalError, UsageError
from generator.wording import json_kind

DEFAULT_ADDRESS = "127.0.0.1:8500"  # Consul's own default: the local agent
DEFAULT_PORTS = {"http": 80, "https": 443}  # an address without a port, as a URL reads
FILTERED_HEADER = "X-Consul-Results-Filtered-By-ACLs"
STALE = "index is stale"  # Consul's words for a failed check-and-set in a transaction
DENIED = "Permission denied"
# Go's strconv.ParseBool, which Consul reads its boolean variables with.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_NAMESPACE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?\Z")
_MAX_CAUSES = 8  # how deep requests' and urllib3's errors are unwrapped
# urllib3's name for a connection, before its message: "HTTPConnection(host='h', port=1): "
_CONNECTION_NAME = re.compile(r"^\w*Connection(Pool)?\([^)]*\): ")
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)\Z")


@dataclass(frozen=True)
class Connection:
    """Everything needed to reach one Consul store, resolved once."""

    scheme: str
    host: str
    port: int
    address_from: str  # where the address came from, for messages
    datacenter: str | None
    namespace: str | None
    verify: bool | str  # False, True (the system's CAs) or a CA file or folder
    cert: tuple[str, str] | str | None
    timeout: float
    token: str | None = field(default=None, repr=False)
    token_from: str | None = None  # the variable the token came from

    @property
    def address(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def where(self) -> str:
        """The store, as said to people: address, datacenter, namespace."""
        parts = [f"datacenter {self.datacenter}" if self.datacenter else "the agent's datacenter"]
        if self.namespace:
            parts.append(f"namespace {self.namespace}")
        return f"{self.address} ({', '.join(parts)})"


def resolve(
    endpoint: ConsulEndpoint, timeout: float, environ: Mapping[str, str], setting: str
) -> Connection:
    """The connection for an environment whose ``consul`` block (``setting``, e.g.
    ``environments.staging.consul``) is ``endpoint``. As Consul's own clients: the
    address is CONSUL_HTTP_ADDR, else the block's, else the local agent; https with
    CONSUL_HTTP_SSL or an https:// address; CONSUL_CACERT / CONSUL_CAPATH,
    CONSUL_CLIENT_CERT / CONSUL_CLIENT_KEY, CONSUL_HTTP_SSL_VERIFY; the token from
    CONSUL_HTTP_TOKEN_FILE, else CONSUL_HTTP_TOKEN. The datacenter and namespace say which
    store, so platform.yaml's win (CONSUL_NAMESPACE fills in a missing namespace)."""
    if environ.get("CONSUL_HTTP_ADDR"):
        address, address_from = environ["CONSUL_HTTP_ADDR"], "CONSUL_HTTP_ADDR"
    elif endpoint.address:
        address, address_from = endpoint.address, f"{setting}.address"
    else:
        address, address_from = DEFAULT_ADDRESS, "the default address"
    ssl = _boolean(environ, "CONSUL_HTTP_SSL", default=False)
    scheme, host, port = _split_address(address, address_from, "https" if ssl else "http")
    namespace = endpoint.namespace or environ.get("CONSUL_NAMESPACE") or None
    if namespace is not None and not _NAMESPACE.match(namespace):
        raise UsageError(f"CONSUL_NAMESPACE: {namespace!r} is not a Consul namespace name")
    token, token_from = _token(environ)
    return Connection(
        scheme=scheme,
        host=host,
        port=port,
        address_from=address_from,
        datacenter=endpoint.datacenter,
        namespace=namespace,
        verify=_verify(environ),
        cert=_client_cert(environ),
        timeout=timeout,
        token=token,
        token_from=token_from,
    )


def _split_address(address: str, source: str, scheme: str) -> tuple[str, str, int]:
    if address.startswith("unix://"):
        raise UsageError(f"{source}: {address!r}: a unix socket is not supported; use host:port")
    if "://" in address:
        scheme, _, rest = address.partition("://")
        if scheme not in DEFAULT_PORTS:
            raise UsageError(f"{source}: {address!r}: the scheme must be http or https")
    else:
        rest = address
    parts = urlsplit(f"//{rest}")
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = -1
    hostname = parts.netloc.rpartition(":")[0] if port else parts.netloc
    if (
        port == -1
        or parts.path not in ("", "/")
        or parts.query
        or parts.username is not None
        or not _HOST.match(hostname)
    ):
        raise UsageError(
            f"{source}: {address!r} is not a Consul HTTP address [http(s)://]host[:port]"
        )
    return scheme, hostname, port or DEFAULT_PORTS[scheme]


def _boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "")
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise UsageError(f"{name}: {value!r} is neither true nor false")


def _verify(environ: Mapping[str, str]) -> bool | str:
    if not _boolean(environ, "CONSUL_HTTP_SSL_VERIFY", default=True):
        return False
    for name, is_folder in (("CONSUL_CACERT", False), ("CONSUL_CAPATH", True)):
        value = environ.get(name)
        if value:
            _existing(name, value, is_folder)
            return value
    return True


def _client_cert(environ: Mapping[str, str]) -> tuple[str, str] | str | None:
    cert, key = environ.get("CONSUL_CLIENT_CERT"), environ.get("CONSUL_CLIENT_KEY")
    if key and not cert:
        raise UsageError("CONSUL_CLIENT_KEY is set without CONSUL_CLIENT_CERT")
    if not cert:
        return None
    _existing("CONSUL_CLIENT_CERT", cert, False)
    if not key:
        return cert  # one file with the certificate and its key
    _existing("CONSUL_CLIENT_KEY", key, False)
    return cert, key


def _existing(name: str, value: str, is_folder: bool) -> None:
    path = Path(value)
    if not (path.is_dir() if is_folder else path.is_file()):
        raise UsageError(f"{name}: {value} is not a {'folder' if is_folder else 'file'}")


def _token(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Consul's Go client reads CONSUL_HTTP_TOKEN_FILE over CONSUL_HTTP_TOKEN; so does this."""
    file = environ.get("CONSUL_HTTP_TOKEN_FILE")
    if file:
        try:
            token = Path(file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise UsageError(f"CONSUL_HTTP_TOKEN_FILE: cannot read {file}: {reason}") from None
        if not token:
            raise UsageError(f"CONSUL_HTTP_TOKEN_FILE: {file} is empty")
        source = "CONSUL_HTTP_TOKEN_FILE"
    else:
        token, source = environ.get("CONSUL_HTTP_TOKEN") or None, "CONSUL_HTTP_TOKEN"
    if token is None:
        return None, None
    if not all(" " < char < "\x7f" for char in token):
        raise UsageError(f"{source}: the token holds characters an HTTP header cannot carry")
    return token, source


@dataclass(frozen=True)
class LiveRead:
    keys: tuple[LiveKey, ...]
    index: int  # X-Consul-Index of the read


@dataclass(frozen=True)
class TxnError:
    op_index: int
    what: str


@dataclass(frozen=True)
class TxnAnswer:
    """A transaction Consul applied (no errors) or rolled back on check-and-set conflicts."""

    conflicts: tuple[TxnError, ...] = ()

    @property
    def applied(self) -> bool:
        return not self.conflicts


class ConsulKV:
    """One Consul key/value store, through py-consul."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._client = consul.Consul(
            host=connection.host,
            port=connection.port,
            scheme=connection.scheme,
            verify=connection.verify,
            cert=connection.cert,
            connections_timeout=connection.timeout,
        )

    def read(self, folder: str) -> LiveRead:
        """Every key below ``folder`` (``?recurse``), with its ModifyIndex."""
        params = [("recurse", "1"), *self._params()]
        if self.connection.namespace:
            params.append(("ns", self.connection.namespace))
        answer = self._call("get", f"/v1/kv/{folder}", params, f"reading {folder}")
        if answer.code in (401, 403):
            raise self._refused(f"{answer.code}: {answer.body}")
        if answer.headers.get(FILTERED_HEADER, "").lower() == "true":
            raise ExternalError(
                f"Consul at {self.connection.address} hid some keys below {folder} from "
                f"this token ({FILTERED_HEADER}); a sync from a partial view could delete or "
                f"overwrite what it cannot see, so nothing was changed. Give the token "
                f'key_prefix "{folder}" read and write'
            )
        if answer.code == 404:
            return LiveRead((), _index(answer))
        if answer.code != 200:
            raise self._failure(answer, f"reading {folder}")
        try:
            keys = _live_keys(answer.body)
        except _NotConsul as error:
            raise ExternalError(
                f"Consul at {self.connection.address} answered GET /v1/kv/{folder} with "
                f"something other than its key list: {error}"
            ) from None
        return LiveRead(keys, _index(answer))

    def transact(self, operations: Sequence[dict[str, Any]]) -> TxnAnswer:
        """Send one transaction (PUT /v1/txn): applied whole, or rolled back whole."""
        answer = self._call(
            "put", "/v1/txn", self._params(), "a transaction", data=json.dumps(list(operations))
        )
        if answer.code == 200:  # applied: its Results (what was written) are not needed
            return TxnAnswer()
        if answer.code == 409:
            try:
                errors = _txn_errors(answer.body)
            except _NotConsul as error:
                raise ExternalError(
                    f"Consul at {self.connection.address} answered PUT /v1/txn with 409, not "
                    f"with Consul's errors ({error}): {_one_line(answer.body) or '(no text)'}"
                ) from None
            denied = [e for e in errors if DENIED.lower() in e.what.lower()]
            if denied:
                raise self._refused(f"409: {denied[0].what}")
            if all(STALE in e.what for e in errors):
                return TxnAnswer(tuple(errors))
            raise ExternalError(
                f"Consul at {self.connection.address} rolled the transaction back: "
                + "; ".join(_one_line(e.what) for e in errors)
            )
        if answer.code == 413:
            raise ExternalError(
                f"Consul at {self.connection.address} refused a transaction of "
                f"{len(operations)} operations as too large: {_one_line(answer.body)} "
                "(its txn_max_req_len or kv_max_value_size is lower than this sync needs)"
            )
        raise self._failure(answer, "a transaction")

    # -- the HTTP layer ---------------------------------------------------------------------

    def _params(self) -> list[tuple[str, str]]:
        dc = self.connection.datacenter
        return [("dc", dc)] if dc else []

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.connection.token:
            headers["X-Consul-Token"] = self.connection.token
        return headers

    def _call(
        self, method: str, path: str, params: list[tuple[str, str]], what: str, data: str = ""
    ) -> Response:
        http = self._client.http
        headers = self._headers()
        try:
            with warnings.catch_warnings():
                # said once, by the command, rather than by urllib3 on every request
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                if method == "get":
                    return http.get(_answer, path, params=params, headers=headers)
                return http.put(_answer, path, params=params, data=data, headers=headers)
        except requests.exceptions.SSLError as error:
            raise ExternalError(
                f"TLS with Consul at {self.connection.address} failed ({what}): "
                f"{_reason(error)} (CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_HTTP_SSL_VERIFY)"
            ) from None
        except requests.exceptions.Timeout:
            raise ExternalError(
                f"Consul at {self.connection.address} did not answer within "
                f"{self.connection.timeout:g} s ({what}; consul.timeout in platform.yaml)"
            ) from None
        except requests.exceptions.ConnectionError as error:
            raise ExternalError(
                f"cannot connect to Consul at {self.connection.address} (from "
                f"{self.connection.address_from}): {_reason(error)}"
            ) from None
        except requests.exceptions.RequestException as error:
            raise ExternalError(
                f"the request to Consul at {self.connection.address} failed ({what}): "
                f"{_reason(error)}"
            ) from None

    def _failure(self, answer: Response, what: str) -> ExternalError:
        if answer.code in (401, 403):
            return self._refused(f"{answer.code}: {answer.body}")
        return ExternalError(
            f"Consul at {self.connection.address} answered {what} with {answer.code}: "
            f"{_one_line(answer.body) or '(no text)'}"
        )

    def _refused(self, detail: str) -> ExternalError:
        token = (
            f"the token from {self.connection.token_from}"
            if self.connection.token
            else "no token (set CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE)"
        )
        return ExternalError(
            f"Consul at {self.connection.address} refused {token} ({_one_line(detail)}); "
            "it needs read and write on the platform's prefix. This is a permission "
            "problem, not a conflict: nothing more was tried"
        )


def _answer(response: Response) -> Response:
    """py-consul's callback: the answer itself, status, headers and body."""
    return response


def _index(answer: Response) -> int:
    try:
        return int(answer.headers.get("X-Consul-Index", "0"))
    except ValueError:
        return 0


class _NotConsul(Exception):
    """An answer that is not in the shape Consul gives; the message says what is wrong."""


def _decoded(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise _NotConsul(f"not JSON ({error})") from None
    except RecursionError:
        raise _NotConsul("not JSON (nested too deeply)") from None


def _is_count(value: Any) -> bool:
    """Consul's indexes and flags are Go uint64s: JSON integers (never 1.0, 1e999, true)."""
    return type(value) is int and 0 <= value < 2**64


def _live_keys(body: str) -> tuple[LiveKey, ...]:
    entries = _decoded(body)
    if not isinstance(entries, list):
        raise _NotConsul(f"{json_kind(entries)}, not a list of entries")
    return tuple(_live_key(position, entry) for position, entry in enumerate(entries))


def _live_key(position: int, entry: Any) -> LiveKey:
    if not isinstance(entry, dict):
        raise _NotConsul(f"entry {position} is {json_kind(entry)}, not an object")
    key, value = entry.get("Key"), entry.get("Value")
    flags, modify_index = entry.get("Flags", 0), entry.get("ModifyIndex")
    if not isinstance(key, str):
        raise _NotConsul(f"entry {position}'s Key is {json_kind(key)}, not a string")
    for name, number in (("Flags", flags), ("ModifyIndex", modify_index)):
        if not _is_count(number):
            raise _NotConsul(f"entry {position}'s {name} is not a 64-bit unsigned integer")
    try:
        data = base64.b64decode(value, validate=True) if value is not None else b""
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        raise _NotConsul(f"entry {position}'s Value is not base64") from None
    return LiveKey(key=key, value=data, flags=flags, modify_index=modify_index)


def _txn_errors(body: str) -> list[TxnError]:
    """A rolled-back transaction's errors: ``{"Errors": [{"OpIndex": 0, "What": "..."}]}``."""
    answer = _decoded(body)
    errors = answer.get("Errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list) or not errors:
        raise _NotConsul("no list of Errors")
    found: list[TxnError] = []
    for position, error in enumerate(errors):
        if not (
            isinstance(error, dict)
            and _is_count(error.get("OpIndex"))
            and isinstance(error.get("What"), str)
        ):
            raise _NotConsul(f"error {position} is not an object with an OpIndex and a What")
        found.append(TxnError(error["OpIndex"], error["What"]))
    return found


def _one_line(text: str) -> str:
    """A server's text, as one line of printable characters, cut to a sensible length."""
    flat = " ".join(text.split())
    printable = "".join(c if c.isprintable() else "?" for c in flat)
    return printable[:300]


def _reason(error: BaseException) -> str:
    """The innermost cause of a requests error, without object addresses."""
    cause: BaseException = error
    for _ in range(_MAX_CAUSES):
        inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        reason = getattr(cause, "reason", None)
        if isinstance(reason, BaseException):
            inner = reason
        if inner is None:
            break
        cause = inner
    text = str(cause)
    if isinstance(cause, OSError) and cause.strerror:
        text = cause.strerror
    text = _CONNECTION_NAME.sub("", text.rpartition(">: ")[2] if ">: " in text else text)
    return _one_line(text.removeprefix("Failed to establish a new connection: "))
