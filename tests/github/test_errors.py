"""What the github source records of a repository it could not read is the same for the same
GitHub answer — no wait figures, no addresses — so index.json does not change from one run to
the next; the console keeps the full text."""

from __future__ import annotations

import pytest

from testsupport.fakes.clock import FakeClock
from testsupport.github_helpers import source
from testsupport.helpers import mlproject


def failure_of(github_servers, fault, **options):
    clock = FakeClock()
    server = github_servers(blob_text_limit=64, clock=clock)
    server.org.add_repo("big-model", mlproject=mlproject(description="x" * 150))
    server.inject(fault, route="contents", times=99, **options)
    scan = source(server, clock=clock).scan()
    [failure] = scan.failures
    return failure


def test_a_rate_limited_file_read_records_no_wait_figure(github_servers):
    short = failure_of(github_servers, "rate_limit", seconds=3600)
    long = failure_of(github_servers, "rate_limit", seconds=7200)
    assert short.message == long.message
    assert short.message == (
        "MLproject (294 bytes, too large for GraphQL) could not be read through the contents "
        "API: GitHub's rate limit is exhausted and does not lift within what is left of the "
        "wait budget (github.limits.rate_limit_wait)"
    )
    assert "lifts in 360" in short.detail
    assert "lifts in 720" in long.detail


@pytest.mark.parametrize(("fault", "options"), [("status", {"status": 502}), ("truncated", {})])
def test_a_failed_file_read_records_the_kind_of_failure(github_servers, fault, options):
    failure = failure_of(github_servers, fault, **options)
    assert failure.message.startswith("MLproject (294 bytes, too large for GraphQL) could not")
    assert "127.0.0.1" not in failure.message
    assert " at 0x" not in failure.message
    assert failure.shown.startswith(failure.message.split(": ")[0])
