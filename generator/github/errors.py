"""One sentence for every way a GitHub request can fail.

Messages are built from the status, GitHub's own message and the kind of failure —
never from request headers, URLs with credentials or exception reprs — so that no
token, JWT or key can reach a log.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededExceedsMaxWait,
)
from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError

from generator.github.graphql import ResponseShapeError

MAX_QUOTED = 200

# What describe() understands; anything else is a bug, not a GitHub failure.
FAILURES: tuple[type[BaseException], ...] = (
    GithubException,
    requests.RequestException,
    json.JSONDecodeError,  # a body that is not JSON
    ResponseShapeError,
    ProtocolError,
)


def describe(error: BaseException, token_env: str = "", *, stable: bool = False) -> str:
    """``stable``: the same sentence for the same GitHub answer — without wait figures and
    the connection's own words (which name addresses) — for what index.json records."""
    if isinstance(error, RateLimitExceededExceedsMaxWait):
        if stable:
            return (
                "GitHub's rate limit is exhausted and does not lift within what is left of the "
                "wait budget (github.limits.rate_limit_wait)"
            )
        lifts = f"lifts in {error.wait:.0f} s" if error.wait is not None else "does not lift"
        return (
            f"GitHub's rate limit is exhausted and {lifts}, longer than is left of the "
            "wait budget (github.limits.rate_limit_wait)"
        )
    if isinstance(error, BadCredentialsException):
        where = f"; check {token_env}" if token_env else ""
        return f"GitHub rejected the credentials (401 {_message(error.data)}){where}"
    if isinstance(error, GithubException):
        if error.status == 400 and isinstance(error.data, dict) and "errors" in error.data:
            # PyGithub's status for an HTTP 200 GraphQL answer that carries errors
            return f"GitHub's GraphQL answer carries errors: {_message(error.data)}"
        return f"GitHub answered {error.status}: {_message(error.data)}"
    if isinstance(error, ResponseShapeError):
        return f"GitHub's answer is not what its API documents: {error}"
    if isinstance(error, requests.exceptions.RetryError):
        if stable:
            return "GitHub kept failing after every retry"
        return f"GitHub kept failing after every retry ({_retry_reason(error)})"
    if isinstance(error, requests.exceptions.ChunkedEncodingError | ProtocolError):
        return "GitHub's response was cut off before its end (truncated body)"
    if isinstance(error, requests.exceptions.ConnectionError):
        if stable:
            return "GitHub could not be reached after every retry"
        return f"GitHub could not be reached after every retry ({_connection_reason(error)})"
    if isinstance(error, requests.exceptions.Timeout):
        return "GitHub did not answer in time"
    if isinstance(error, requests.RequestException):
        return f"the request to GitHub failed ({type(error).__name__})"
    if isinstance(error, json.JSONDecodeError):
        return "GitHub's response is not valid JSON (truncated or garbled body)"
    return f"unexpected failure ({type(error).__name__})"


def _message(data: Any) -> str:
    if isinstance(data, dict):
        errors = data.get("errors")
        details = ""
        if isinstance(errors, list) and errors:
            details = "; ".join(
                _quoted(str(e.get("message", e) if isinstance(e, dict) else e))
                for e in errors[:3]
                if e
            )
        if isinstance(data.get("message"), str):
            # e.g. "Validation Failed: body is too long (maximum is 65536 characters)"
            message = _quoted(data["message"])
            return f"{message}: {details}" if details else message
        if details:
            return details
        if isinstance(data.get("data"), str):
            return f"a non-JSON page: {_quoted(data['data'])}"
    if data is None:
        return "no message"
    return _quoted(json.dumps(data) if not isinstance(data, str) else data)


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def _reason(error: requests.RequestException) -> BaseException | None:
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        return cause.reason
    return cause if isinstance(cause, BaseException) else None


def _retry_reason(error: requests.RequestException) -> str:
    reason = _reason(error)
    return _quoted(str(reason)) if reason is not None else "too many errors"


def _connection_reason(error: requests.RequestException) -> str:
    reason = _reason(error)
    if isinstance(reason, ReadTimeoutError):
        return "read timed out"
    if reason is None:
        return "connection failed"
    # urllib3's reasons name the host and port, never the URL's credentials or headers.
    return _quoted(str(reason))
