"""What the loopback GitHub keeps besides the organization (an installed App, injected faults,
rate-limit windows), and the face of the server its API handlers see: ``github_api`` takes
these from here, so the handlers and the server that routes to them do not import each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from testsupport.fakes.github_org import Org
from testsupport.fakes.http import Request


@dataclass(frozen=True)
class FakeApp:
    """A GitHub App installed on the organization: tokens are exchanged for JWTs signed
    with the private key whose public half is here."""

    app_id: int
    public_key: str  # PEM
    installation_id: int


@dataclass
class Fault:
    kind: str
    route: str = "graphql"
    page: int | None = 0  # 0-based page of that route; None: any page
    times: int = 1
    status: int | None = None
    seconds: float = 3.0
    retry_after: bool = True
    partial: bool = False
    drop: int = 10
    body: Any = None
    hits: int = 0


@dataclass
class RateLimitState:
    limit: int
    remaining: int
    reset: float
    used: int = 0

    def json(self) -> dict[str, int]:
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "reset": int(self.reset),
        }


class Server(Protocol):
    """What a handler in ``github_api`` may use of the server that called it."""

    org: Org
    app: FakeApp | None
    blob_text_limit: int
    rate_limits: dict[str, RateLimitState]

    @property
    def api_url(self) -> str: ...

    def issue_token(self, token: str) -> None: ...

    def take_page_fault(self, request: Request) -> Fault | None: ...
