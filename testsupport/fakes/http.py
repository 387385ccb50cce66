"""Small HTTP plumbing for loopback fakes: parsed requests, replies, and a router that maps
``METHOD /path/{param}`` templates to handlers."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string and without the server's API prefix
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # filled by the router
    route: str = ""

    @classmethod
    def parse(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> Request:
        parts = urlsplit(target)
        return cls(method, parts.path, dict(parse_qsl(parts.query)), headers, body)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None and self.status in (204, 304):
            return b""
        return json.dumps(self.body).encode()


Handler = Callable[[Any, Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    name: str
    handler: Handler
    pattern: re.Pattern[str]
    page_of: Callable[[Request], int]


def rest_page(request: Request) -> int:
    """0-based index of a REST page (``?page=`` is 1-based, absent means the first)."""
    try:
        return max(int(request.query.get("page", "1")) - 1, 0)
    except ValueError:
        return 0


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        template: str,
        name: str,
        page_of: Callable[[Request], int] = rest_page,
    ) -> Callable[[Handler], Handler]:
        """Register a handler; ``{name}`` matches one path segment, ``{name+}`` the rest."""

        def register(handler: Handler) -> Handler:
            regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
            regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
            self.routes.append(
                Route(method, template, name, handler, re.compile(f"^{regex}$"), page_of)
            )
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route and its path parameters; the flag says whether the path exists
        for another method (405 rather than 404)."""
        other_method = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict(), False
            other_method = True
        return None, {}, other_method


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on loopback whose stop ends every thread it started.

    A client keeps its connection open between requests (HTTP/1.1 keep-alive, as PyGithub's
    and py-consul's sessions do) until it is collected, and the handler's thread waits on
    it for the next request: left alone, such threads outlive the test that started the
    server, and a later test on the same worker sees threads it did not start (a worker
    is forked only when no other thread runs: ``spread.can_fork``)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__(address, handler)
        self._guard = threading.Lock()
        self._connections: dict[threading.Thread, Any] = {}

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection from a thread of its own, known before it starts: a stop
        after ``shutdown`` (no connection is accepted then) sees every one."""
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), daemon=True
        )
        with self._guard:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._guard:
                self._connections.pop(threading.current_thread(), None)

    def end_connections(self, timeout: float = 10.0) -> None:
        """Shut every open connection (its handler reads the end and returns), then wait for
        their threads, ``timeout`` seconds at most in all."""
        with self._guard:
            connections = list(self._connections.items())
        for _, request in connections:
            with contextlib.suppress(OSError):  # closed by its client already
                request.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread, _ in connections:
            thread.join(max(0.0, deadline - time.monotonic()))


def serve_in_background(server: ThreadingHTTPServer, name: str) -> threading.Thread:
    """Serve ``server`` from a thread of its own until ``stop_serving``."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(server: ThreadingHTTPServer | None, thread: threading.Thread | None) -> None:
    """Stop a server ``serve_in_background`` started (either may be None: never started)."""
    if server is not None:
        server.shutdown()
        server.server_close()
        if isinstance(server, LoopbackServer):
            server.end_connections()
    if thread is not None:
        thread.join(timeout=10)
