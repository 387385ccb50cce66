"""Retries, backoff and rate-limit waits for every request PyGithub sends.

PyGithub hands its ``retry`` object to urllib3, which consults it after every response
and every connection error. ``BoundedRetry`` builds on PyGithub's ``GithubRetry``:

- 5xx, timeouts and broken connections: urllib3's exponential backoff with jitter,
  bounded in count (``retries``) and, over the whole run, in total time (``retry_time``);
- rate limits, primary and secondary, on 403 *and* 429: ``Retry-After``, else
  ``X-RateLimit-Remaining: 0`` + ``X-RateLimit-Reset``, else the secondary-limit message;
  waited out while the run's total wait fits ``rate_limit_wait``, otherwise the request
  fails at once with ``RateLimitExceededExceedsMaxWait``;
- GraphQL's own rate limit (HTTP 200 carrying a ``RATE_LIMITED`` error, which urllib3 never
  sees as a failure): ``graphql`` waits it out within the same budget and retry count.

Why not ``GithubRetry`` as it is: it retries rate limits on 403 only (GitHub also answers
429), honours ``Retry-After`` with no upper bound, detects a primary limit by its message
rather than by ``X-RateLimit-Remaining: 0``, has no bound on total time, and reads the
wall clock and ``time.sleep`` directly. Everything else — counting, backoff, jitter, the
403 message rules and exceptions — is PyGithub's and urllib3's own.

The clock is a parameter so that tests run the production waiting logic without waiting.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from github.GithubException import GithubException, RateLimitExceededExceedsMaxWait
from github.GithubRetry import DEFAULT_SECONDARY_RATE_WAIT, GithubRetry
from github.Requester import Requester
from urllib3 import Retry
from urllib3.exceptions import MaxRetryError, ResponseError

RATE_LIMIT_STATUSES = (403, 429)
GRAPHQL_RATE_LIMIT_TYPES = {"RATE_LIMITED", "RATE_LIMIT"}
DEFAULT_GRAPHQL_RATE_LIMIT_WAIT = 60.0
RESET_MARGIN = 1.0  # X-RateLimit-Reset is whole seconds; wait past the end of that second


class Clock(Protocol):
    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Wait:
    seconds: float
    kind: str  # "backoff" or "rate limit"


@dataclass
class ApiUsage:
    """What one run spent on GitHub. Shared by every copy of the retry object (urllib3
    copies it on each retry) and by the source, which reads it for its report."""

    clock: Clock
    rate_limit_budget: float  # seconds of rate-limit waiting the whole run may spend
    retry_time_budget: float  # seconds of backoff after errors the whole run may spend
    responses: int = 0  # HTTP responses received, retried ones included
    failed_attempts: int = 0  # attempts that got no response (timeout, connection reset)
    retries: int = 0
    rate_limit_waited: float = 0.0
    backoff_slept: float = 0.0

    @property
    def requests(self) -> int:
        """HTTP requests sent, retries included: what GitHub counts."""
        return self.responses + self.failed_attempts

    def fits(self, wait: Wait) -> bool:
        if wait.kind == "rate limit":
            return self.rate_limit_waited + wait.seconds <= self.rate_limit_budget
        return self.backoff_slept + wait.seconds <= self.retry_time_budget

    def sleep(self, wait: Wait) -> None:
        if wait.seconds <= 0:
            return
        if wait.kind == "rate limit":
            self.rate_limit_waited += wait.seconds
        else:
            self.backoff_slept += wait.seconds
        self.clock.sleep(wait.seconds)


def reset_wait(reset_header: str | None, clock: Clock) -> float | None:
    """Seconds until an ``X-RateLimit-Reset`` epoch time, or None when the header is unusable."""
    if reset_header is None or not reset_header.strip().isdigit():
        return None
    return max(0.0, int(reset_header) - clock.time()) + RESET_MARGIN


class BoundedRetry(GithubRetry):
    def __init__(
        self,
        usage: ApiUsage,
        planned: Wait | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("status_forcelist", [*range(500, 600), 429])  # GithubRetry adds 403
        super().__init__(**kwargs)
        self.usage = usage
        self.planned = planned

    @classmethod
    def create(cls, usage: ApiUsage, retries: int, backoff: float) -> BoundedRetry:
        return cls(
            usage,
            total=retries,
            backoff_factor=backoff,
            backoff_jitter=1.0,
            backoff_max=30.0,
            secondary_rate_wait=DEFAULT_SECONDARY_RATE_WAIT,
        )

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("usage", self.usage)
        return super().new(**kw)  # type: ignore[return-value]

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # urllib3 asks this once for every response it receives: the place to count them.
        self.usage.responses += 1
        return super().is_retry(method, status_code, has_retry_after)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if error is not None:
            self.usage.failed_attempts += 1
        if response is not None and response.status in RATE_LIMIT_STATUSES:
            wait = Wait(self._rate_limit_wait(response, url), "rate limit")
            # urllib3's own counting (skipping GithubRetry's 403 rules, replaced above)
            retry = Retry.increment(self, method, url, response, error, _pool, _stacktrace)
            if not self.usage.fits(wait):
                raise RateLimitExceededExceedsMaxWait(
                    response.status, None, dict(response.headers), wait=wait.seconds
                )
        else:
            retry = super().increment(method, url, response, error, _pool, _stacktrace)
            after = self.get_retry_after(response) if response is not None else None
            wait = Wait(after if after is not None else retry.get_backoff_time(), "backoff")
            if not self.usage.fits(wait):
                status = f"{response.status} error responses" if response is not None else "errors"
                reason = error or ResponseError(
                    f"too many {status}: the next wait of {wait.seconds:.0f} s would pass the "
                    f"retry time budget of {self.usage.retry_time_budget:.0f} s"
                )
                raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
        assert isinstance(retry, BoundedRetry)
        retry.planned = wait
        self.usage.retries += 1
        return retry

    def sleep(self, response: Any = None) -> None:
        if self.planned is not None:
            self.usage.sleep(self.planned)

    def _rate_limit_wait(self, response: Any, url: str | None) -> float:
        """How long GitHub asks us to wait; raises the GitHub exception for a 403 that is
        not a rate limit (permission denied, SSO required, ...)."""
        headers = response.headers
        retry_after = self.get_retry_after(response)
        if retry_after is not None:
            return retry_after
        if headers.get("X-RateLimit-Remaining") == "0":
            until_reset = reset_wait(headers.get("X-RateLimit-Reset"), self.usage.clock)
            if until_reset is not None:
                return until_reset
        content = self.get_content(response, url or "")
        try:
            data = json.loads(content)
        except ValueError:
            data = {"message": content.decode("utf-8", "replace")}
        message = data.get("message", "") if isinstance(data, dict) else ""
        if response.status == 429 or Requester.isRateLimitError(message):
            return self.secondary_rate_wait
        raise Requester.createException(response.status, dict(headers), data)


def graphql(
    requester: Requester, usage: ApiUsage, retries: int, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """One GraphQL answer (headers, data); a GraphQL rate limit is waited out like a REST one,
    within the same budget and retry count."""
    for attempt in range(retries + 1):
        try:
            return requester.graphql_query(query, variables)
        except GithubException as error:
            seconds = _graphql_rate_limit_wait(error, usage.clock)
            if seconds is None or attempt == retries:
                raise
            wait = Wait(seconds, "rate limit")
            if not usage.fits(wait):
                raise RateLimitExceededExceedsMaxWait(
                    error.status, error.data, error.headers, wait=seconds
                ) from None
            usage.retries += 1
            usage.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _graphql_rate_limit_wait(error: GithubException, clock: Clock) -> float | None:
    data = error.data
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return None
    types = {e.get("type") for e in errors if isinstance(e, dict)}
    if not types & GRAPHQL_RATE_LIMIT_TYPES:
        return None
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    if headers.get("x-ratelimit-remaining") == "0":
        seconds = reset_wait(headers.get("x-ratelimit-reset"), clock)
        if seconds is not None:
            return seconds
    return DEFAULT_GRAPHQL_RATE_LIMIT_WAIT
