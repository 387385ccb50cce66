"""A loopback GitHub for the real PyGithub client: REST and GraphQL on 127.0.0.1.

It serves one synthetic organization (``server.org``, see github_org.Org), checks
credentials like GitHub (a token, an installation token, or a GitHub App's JWT for the
token exchange), sends rate-limit headers on every response, counts every request, and
lets a test inject the faults GitHub is known for at any page of any endpoint::

    server.inject("status", status=502, page=0)            # first page, once
    server.inject("rate_limit", page=2, seconds=30)        # X-RateLimit-Remaining: 0 for 30 s
    server.inject("cursor_loop", page=1)                   # a page that breaks the cursor chain

Fault kinds (``route`` defaults to "graphql", ``page`` to 0, ``times`` to 1):

- ``status``: an error status (``status``, default 502) with GitHub's JSON error body;
- ``reply``: this exact reply (``status``, default 200, and JSON ``body``) instead of the real one;
- ``html``: an HTML error page with status ``status`` (default 200: a proxy or SSO page);
- ``timeout``: no answer for ``seconds`` (default 3), then the normal answer;
- ``truncated``: the normal status and Content-Length, then half the body and a closed socket;
- ``not_json``: the first half of the JSON body, with a matching Content-Length;
- ``graphql_errors``: HTTP 200 with a GraphQL ``errors`` array (``partial=True`` keeps data);
- ``rate_limit``: the primary limit: 403 (or ``status=429``), ``X-RateLimit-Remaining: 0``
  and ``X-RateLimit-Reset`` ``seconds`` ahead; every request to that resource is refused
  until the server's clock passes the reset;
- ``secondary_rate_limit``: 403/429 with GitHub's secondary-limit message and
  ``Retry-After`` (``retry_after=False`` leaves the header out), for ``seconds``;
- ``graphql_rate_limit``: HTTP 200, ``errors[type=RATE_LIMITED]``, remaining 0, for ``seconds``;
- ``cursor_null`` / ``cursor_loop`` / ``nodes_missing`` (``drop`` nodes) / ``early_end``:
  a GraphQL page whose pageInfo or nodes break the cursor chain.

Give the server the test's FakeClock so that rate-limit windows end when the client's
(fake) waits say so.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

import pytest

from testsupport.fakes.github_api import ROUTES
from testsupport.fakes.github_org import Org
from testsupport.fakes.github_state import FakeApp, Fault, RateLimitState
from testsupport.fakes.http import LoopbackServer, Reply, Request, serve_in_background, stop_serving

DEFAULT_TOKEN = "ghp_loopbackTOKEN0123456789abcdefABCDEF0"
RATE_LIMIT = 5000
BLOB_TEXT_LIMIT = 512 * 1024  # GitHub does not document Blob.text's limit; tests set their own

WINDOW_KINDS = {"rate_limit", "secondary_rate_limit", "graphql_rate_limit"}
REPLY_KINDS = {"status", "html", "graphql_errors", "reply"}
WIRE_KINDS = {"timeout", "truncated", "not_json"}
PAGE_KINDS = {"cursor_null", "cursor_loop", "nodes_missing", "early_end"}
KINDS = WINDOW_KINDS | REPLY_KINDS | WIRE_KINDS | PAGE_KINDS

PRIMARY_MESSAGE = "API rate limit exceeded for user ID 1."
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
    "0000:0000:0000000:0000000:00000000."
)
RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
UNICORN = (
    b"<!DOCTYPE html>\n<html>\n<head><title>Unicorn! &middot; GitHub</title></head>\n"
    b"<body><p>No server is currently available to service your request.</p></body>\n</html>\n"
)


class Clock(Protocol):
    def time(self) -> float: ...


class _WallClock:
    def time(self) -> float:
        return time.time()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    route: str
    page: int
    authorization: str
    status: int = 0
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class _Block:
    kind: str
    until: float
    status: int
    retry_after: bool


class FakeGitHub:
    def __init__(
        self,
        organization: str = "acme",
        *,
        enterprise: bool = False,
        token: str = DEFAULT_TOKEN,
        clock: Clock | None = None,
        app: FakeApp | None = None,
        blob_text_limit: int = BLOB_TEXT_LIMIT,
        web_url: str | None = None,
    ) -> None:
        """``enterprise``: GitHub Enterprise Server's layout (REST under /api/v3, GraphQL
        at /api/graphql) instead of api.github.com's (REST at /, GraphQL at /graphql)."""
        self.enterprise = enterprise
        self.rest_prefix = "/api/v3" if enterprise else ""
        self.graphql_path = "/api/graphql" if enterprise else "/graphql"
        default_web = "https://ghe.example.com" if enterprise else "https://github.com"
        self.org = Org(organization, web_url=web_url or default_web)
        self.tokens = {token}
        self.clock = clock or _WallClock()
        self.app = app
        self.blob_text_limit = blob_text_limit
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        now = self.clock.time()
        self.rate_limits = {
            name: RateLimitState(RATE_LIMIT, RATE_LIMIT, now + 3600) for name in ("core", "graphql")
        }
        self._blocks: dict[str, _Block] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._http: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        self._http = LoopbackServer(("127.0.0.1", 0), _Handler)
        self._http.fake = self  # type: ignore[attr-defined]
        self._thread = serve_in_background(self._http, "fake-github")
        return self

    def stop(self) -> None:
        self._stopping.set()
        stop_serving(self._http, self._thread)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._http is not None, "start() the server first"
        return self._http.server_address[1]

    @property
    def url(self) -> str:
        """The API URL a client is given (platform.yaml's github.api_url)."""
        return f"http://127.0.0.1:{self.port}{self.rest_prefix}"

    api_url = url

    # -- what tests use --------------------------------------------------------------------

    def inject(self, kind: str, **options: Any) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(sorted(KINDS))}")
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def issue_token(self, token: str) -> None:
        with self._lock:
            self.tokens.add(token)

    def count(self, route: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if route is None or r.route == route)

    def clear_faults(self) -> None:
        """Back to a healthy GitHub: no fault pending, no rate-limit window open."""
        with self._lock:
            self.faults.clear()
            self._blocks.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- dispatch ------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[Reply, Fault | None]:
        request = Request.parse(method, target, headers, body)
        path = self._api_path(request.path)
        route, params, other_method = ROUTES.match(method, path or "")
        request.params = params
        request.route = route.name if route else ""
        page = route.page_of(request) if route else 0
        record = Recorded(
            method,
            request.path,
            request.query,
            request.route,
            page,
            headers.get("authorization", ""),
            body=body,
        )
        with self._lock:
            self.requests.append(record)
        resource = "graphql" if request.route == "graphql" else "core"
        wire_fault: Fault | None = None
        if path is None or route is None:
            reply = Reply(
                405 if other_method else 404,
                {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
            )
        elif (denied := self._authenticate(request)) is not None:
            reply = denied
        else:
            reply, wire_fault = self._answer(route.handler, request, page, resource)
        if request.route != "rate_limit":
            reply.headers.update(self._rate_headers(resource, reply.status))
        reply.headers.setdefault("X-GitHub-Request-Id", f"0000:{len(self.requests):06d}")
        record.status = reply.status
        return reply, wire_fault

    def take_page_fault(self, request: Request) -> Fault | None:
        """For the GraphQL handler: a fault that changes the page it builds."""
        return self._take(request.route, request, PAGE_KINDS)

    def _answer(
        self, handler: Any, request: Request, page: int, resource: str
    ) -> tuple[Reply, Fault | None]:
        block = self._active_block(resource)
        if block is not None:
            return self._blocked(resource, block), None
        fault = self._take(request.route, request, WINDOW_KINDS | REPLY_KINDS | WIRE_KINDS, page)
        if fault is not None and fault.kind in WINDOW_KINDS:
            block = self._start_block(resource, fault)
            return self._blocked(resource, block), None
        if fault is not None and fault.kind in REPLY_KINDS:
            return self._fault_reply(fault, request), None
        return handler(self, request), fault

    def _take(
        self, route: str, request: Request, kinds: set[str], page: int | None = None
    ) -> Fault | None:
        if page is None:
            matched = next((r for r in ROUTES.routes if r.name == route), None)
            page = matched.page_of(request) if matched else 0
        with self._lock:
            for fault in self.faults:
                if (
                    fault.kind in kinds
                    and fault.route == route
                    and fault.page in (None, page)
                    and fault.hits < fault.times
                ):
                    fault.hits += 1
                    return fault
        return None

    def _api_path(self, path: str) -> str | None:
        if path == self.graphql_path:
            return "/graphql"
        if self.enterprise:
            return (
                path[len(self.rest_prefix) :] if path.startswith(self.rest_prefix + "/") else None
            )
        return path

    def _authenticate(self, request: Request) -> Reply | None:
        if request.route == "access_token":
            return None  # the JWT is checked by the handler
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        docs = "https://docs.github.com/rest"
        if not credential:
            return Reply(401, {"message": "Requires authentication", "documentation_url": docs})
        with self._lock:
            known = credential in self.tokens
        if scheme.lower() not in ("token", "bearer") or not known:
            return Reply(401, {"message": "Bad credentials", "documentation_url": docs})
        return None

    # -- rate limits ----------------------------------------------------------------------

    def _rate_headers(self, resource: str, status: int) -> dict[str, str]:
        now = self.clock.time()
        with self._lock:
            state = self.rate_limits[resource]
            if now >= state.reset:
                state.remaining, state.used, state.reset = state.limit, 0, now + 3600
            block = self._blocks.get(resource)
            primary = block is not None and block.kind != "secondary_rate_limit"
            if not primary and state.remaining > 0:
                state.remaining -= 1
                state.used += 1
            remaining = 0 if primary else state.remaining
            reset = block.until if primary and block else state.reset
            return {
                "X-RateLimit-Limit": str(state.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(math.ceil(reset)),
                "X-RateLimit-Used": str(state.limit - remaining),
                "X-RateLimit-Resource": resource,
            }

    def _active_block(self, resource: str) -> _Block | None:
        with self._lock:
            block = self._blocks.get(resource)
            if block is not None and self.clock.time() >= block.until:
                del self._blocks[resource]
                if block.kind != "secondary_rate_limit":
                    state = self.rate_limits[resource]
                    state.remaining, state.used = state.limit, 0
                    state.reset = self.clock.time() + 3600
                return None
            return block

    def _start_block(self, resource: str, fault: Fault) -> _Block:
        block = _Block(
            kind=fault.kind,
            until=self.clock.time() + fault.seconds,
            status=fault.status or 403,
            retry_after=fault.retry_after,
        )
        with self._lock:
            self._blocks[resource] = block
        return block

    def _blocked(self, resource: str, block: _Block) -> Reply:
        if block.kind == "graphql_rate_limit":
            return Reply(
                200,
                {
                    "errors": [
                        {
                            "type": "RATE_LIMITED",
                            "code": "graphql_rate_limit",
                            "message": PRIMARY_MESSAGE,
                        }
                    ]
                },
            )
        if block.kind == "rate_limit":
            return Reply(block.status, {"message": PRIMARY_MESSAGE, "documentation_url": RATE_DOCS})
        headers = {}
        if block.retry_after:
            headers["Retry-After"] = str(max(math.ceil(block.until - self.clock.time()), 1))
        return Reply(
            block.status,
            {
                "message": SECONDARY_MESSAGE,
                "documentation_url": f"{RATE_DOCS}#about-secondary-rate-limits",
            },
            headers,
        )

    # -- faults ----------------------------------------------------------------------------

    def _fault_reply(self, fault: Fault, request: Request) -> Reply:
        if fault.kind == "reply":
            return Reply(fault.status or 200, fault.body)
        if fault.kind == "html":
            return Reply(fault.status or 200, UNICORN, content_type="text/html; charset=utf-8")
        if fault.kind == "graphql_errors":
            error = {
                "type": "FORBIDDEN",
                "path": ["repositoryOwner", "repositories", "nodes", 0],
                "locations": [{"line": 3, "column": 5}],
                "message": "Resource protected by organization SAML enforcement. You must grant "
                "your Personal Access token access to this organization.",
            }
            data: dict[str, Any] = {"data": None, "errors": [error]}
            if fault.partial:
                # what the page would have held, with the error beside it
                data["data"] = (
                    ROUTES.match("POST", "/graphql")[0].handler(self, request).body["data"]
                )  # type: ignore[union-attr]
            return Reply(200, data)
        status = fault.status or 502
        if request.route == "graphql":
            body = {
                "data": None,
                "errors": [
                    {
                        "message": "Something went wrong while executing your query. This may be "
                        "the result of a timeout, or it could be a GitHub bug. Please include "
                        "`0000:0000:0000000:0000000:00000000` when reporting this issue."
                    }
                ],
            }
        else:
            body = {"message": "Server Error"}
        return Reply(status, body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "GitHub.com"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``server.requests`` instead."""

    def _serve(self) -> None:
        fake: FakeGitHub = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply, fault = fake.handle(self.command, self.path, headers, body)
        payload = reply.payload()
        declared = len(payload)
        if fault is not None and fault.kind == "timeout":
            if fake._stopping.wait(fault.seconds):
                self.close_connection = True
                return
        elif fault is not None and fault.kind == "not_json":
            payload = payload[: len(payload) // 2]
            declared = len(payload)
        elif fault is not None and fault.kind == "truncated":
            payload = payload[: len(payload) // 2]
            self.close_connection = True
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(declared))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            if fault is not None and fault.kind == "truncated":
                self.connection.shutdown(socket.SHUT_WR)
        except OSError:  # the client gave up (a timeout fault): nothing to answer
            self.close_connection = True


@dataclass
class GitHubServers:
    """Starts loopback GitHubs with any options; the fixture stops them all."""

    started: list[FakeGitHub] = field(default_factory=list)

    def __call__(self, organization: str = "acme", **options: Any) -> FakeGitHub:
        server = FakeGitHub(organization, **options).start()
        self.started.append(server)
        return server


@pytest.fixture
def github_servers() -> Iterator[GitHubServers]:
    """``github_servers(**options)`` → a started FakeGitHub; all are stopped at teardown."""
    servers = GitHubServers()
    try:
        yield servers
    finally:
        for server in servers.started:
            server.stop()


@pytest.fixture
def github_server(github_servers: GitHubServers) -> FakeGitHub:
    """A started loopback GitHub serving the empty organization ``acme``."""
    return github_servers()
