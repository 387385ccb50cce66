"""The github source against a loopback GitHub, with the real PyGithub as the client:
what it selects and reads, how many requests it spends, and every way GitHub can fail."""

from __future__ import annotations

import math
import socket

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from generator.config.settings import GitHubAuth, GitHubSettings
from generator.errors import ConfigError
from generator.github.client import connect
from generator.sources.github import GitHubSource, missing_team
from testsupport.fakes.clock import FakeClock
from testsupport.fakes.github_state import FakeApp
from testsupport.github_helpers import ENV, model_text, populate_models, source
from testsupport.helpers import mlproject

ORG_SIZE = 250  # three pages: first, middle, last
POSITIONS = {"first": 0, "middle": 1, "last": 2}
MODELS = 50  # every fifth repository of the synthetic organization


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def org(github_servers, clock):
    """A loopback GitHub on the test's clock, serving 250 repositories of which 50 are models."""
    server = github_servers(clock=clock)
    populate_models(server, ORG_SIZE)
    return server


def models_in(read: int) -> int:
    return math.ceil(read / 5)


# -- what is read -----------------------------------------------------------------------------


def test_a_scan_reads_every_model_repository_with_its_head_and_mlproject(org, clock):
    scan = source(org, clock=clock).scan()
    assert scan.complete
    assert scan.incomplete_reason == ""
    assert len(scan.snapshots) == MODELS
    first = scan.snapshots[0]
    repo = org.org.repo("repo-00000-model")
    assert first.full_name == "acme/repo-00000-model"
    assert first.head_sha == repo.head_sha
    assert first.default_branch == "main"
    assert first.clone_url == "https://github.com/acme/repo-00000-model.git"
    assert first.mlproject == model_text("repo-00000-model", 0)
    assert first.selected_by == "suffix -model"
    assert clock.sleeps == []


def test_progress_reports_repositories_read_against_githubs_count(org, clock):
    calls = []
    source(org, clock=clock).scan(lambda done, total: calls.append((done, total)))
    assert calls == [(100, 250), (200, 250), (250, 250)]


def test_a_repository_without_mlproject_is_a_snapshot_without_text_not_an_error(github_server):
    github_server.org.add_repo("bare-model")
    github_server.org.add_repo("empty-model", empty=True)
    scan = source(github_server).scan()
    assert scan.complete
    assert scan.failures == ()
    assert [(s.full_name, s.mlproject, s.head_sha) for s in scan.snapshots] == [
        ("acme/bare-model", None, github_server.org.repo("bare-model").head_sha),
        ("acme/empty-model", None, ""),
    ]


def test_mlproject_is_found_under_mlflows_other_spellings(github_server):
    github_server.org.add_repo("a-model", mlproject="name: a\n", mlproject_path="MLProject")
    github_server.org.add_repo("b-model", mlproject="name: b\n", mlproject_path="mlproject")
    scan = source(github_server).scan()
    assert [(s.mlproject_path, s.mlproject) for s in scan.snapshots] == [
        ("MLProject", "name: a\n"),
        ("mlproject", "name: b\n"),
    ]


def test_a_file_too_large_for_graphql_is_read_through_the_contents_api_alone(github_servers):
    server = github_servers(blob_text_limit=64)
    long_text = mlproject(description="x" * 150)
    server.org.add_repo("big-model", mlproject=long_text)
    server.org.add_repo("small-model", mlproject="name: small-model\n")
    scan = source(server).scan()
    assert scan.complete
    assert [s.mlproject for s in scan.snapshots] == [long_text, "name: small-model\n"]
    contents = [r for r in server.requests if r.route == "contents"]
    assert [(r.path, r.query) for r in contents] == [
        (
            "/repos/acme/big-model/contents/MLproject",
            {"ref": server.org.repo("big-model").head_sha},
        )
    ]


def test_files_the_contents_api_cannot_return_are_fetch_failures_of_that_repo(github_servers):
    server = github_servers(blob_text_limit=64)
    server.org.add_repo("huge-model", mlproject="#" * (1024 * 1024 + 1))
    server.org.add_repo("binary-model", mlproject=b"\x00\x01\x02binary")
    server.org.add_repo("fine-model", mlproject="name: fine-model\n")
    scan = source(server).scan()
    assert scan.complete
    assert [s.full_name for s in scan.snapshots] == ["acme/fine-model"]
    assert {f.full_name: f.message for f in scan.failures} == {
        "acme/binary-model": "MLproject is a binary file, not YAML text",
        # Past the MLproject size limit: refused before the contents API is asked for it.
        "acme/huge-model": "MLproject is 1,048,577 bytes, more than the 262,144 bytes an "
        "MLproject may have",
    }
    assert server.count("contents") == 0


# -- request counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 100, 101, 2500])
def test_a_scan_of_n_repositories_takes_one_graphql_request_per_hundred(github_server, size):
    populate_models(github_server, size)
    github_source = source(github_server)
    scan = github_source.scan()
    assert scan.complete
    assert len(scan.snapshots) == models_in(size)
    pages = max(math.ceil(size / 100), 1)
    assert github_server.count("graphql") == pages
    assert github_server.count() == pages  # no team configured: nothing else
    report = github_source.report
    assert report.scan_requests == pages
    assert report.scan_requests <= math.ceil(size / 100) + 2 == report.request_budget
    assert report.total_count == size


def test_app_auth_adds_only_the_token_exchange_to_the_scan(github_servers, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server = github_servers(app=FakeApp(321, public.decode(), 654))
    populate_models(server, 100)
    key_file = tmp_path / "app.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    auth = GitHubAuth(method="app", app_id=321, private_key_file=key_file, installation_id=654)
    github_source = source(server, auth=auth, environ={})
    scan = github_source.scan()
    assert scan.complete
    assert len(scan.snapshots) == 20
    exchange, page = server.requests
    assert (exchange.method, exchange.path, exchange.status) == (
        "POST",
        "/app/installations/654/access_tokens",
        201,
    )
    assert exchange.authorization.startswith("Bearer ")
    assert page.route == "graphql"
    assert page.authorization.startswith("token ghs_")
    assert github_source.report.scan_requests == 2 <= github_source.report.request_budget


def test_app_auth_with_another_apps_key_is_an_incomplete_scan(github_servers, tmp_path):
    def pem(key):
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    installed = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = installed.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server = github_servers(app=FakeApp(321, public.decode(), 654))
    key_file = tmp_path / "app.pem"
    key_file.write_bytes(pem(other))
    auth = GitHubAuth(method="app", app_id=321, private_key_file=key_file, installation_id=654)
    scan = source(server, auth=auth, environ={}).scan()
    assert not scan.complete
    assert "GitHub answered 401: A JSON web token could not be decoded" in scan.incomplete_reason


def test_a_key_file_that_is_not_a_key_is_a_configuration_error(github_server, tmp_path):
    key_file = tmp_path / "app.pem"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    auth = GitHubAuth(method="app", app_id=1, private_key_file=key_file, installation_id=2)
    with pytest.raises(ConfigError) as caught:
        source(github_server, auth=auth, environ={})
    assert "not a usable PEM private key" in caught.value.message
    assert "not a key" not in caught.value.message


def test_a_missing_token_is_a_configuration_error_before_any_request(github_server):
    with pytest.raises(ConfigError, match="token in the environment variable ORG_TOKEN"):
        source(github_server, auth=GitHubAuth(token_env="ORG_TOKEN"), environ={})
    assert github_server.count() == 0


def test_a_wrong_token_is_an_incomplete_scan_that_names_the_variable(github_server):
    scan = source(github_server, environ={"GITHUB_TOKEN": "ghp_wrong"}).scan()
    assert not scan.complete
    assert "GitHub rejected the credentials (401 Bad credentials)" in scan.incomplete_reason
    assert "$GITHUB_TOKEN" in scan.incomplete_reason


def test_github_enterprise_is_reached_under_its_api_path(github_servers):
    server = github_servers(enterprise=True)
    populate_models(server, 120)
    server.org.add_team("rnd", {"repo-00000-model": "push"})
    scan = source(server, teams=("rnd",)).scan()
    assert scan.complete
    assert len(scan.snapshots) == 24
    assert scan.snapshots[0].clone_url == "https://ghe.example.com/acme/repo-00000-model.git"
    assert [r.path for r in server.requests] == [
        "/api/graphql",
        "/api/graphql",
        "/api/v3/orgs/acme/teams/rnd/repos",
    ]


def test_a_scan_client_never_pauses_between_requests_and_a_write_client_does():
    reads = connect(GitHubSettings("acme"), environ=ENV).client.requester.kwargs
    writes = connect(GitHubSettings("acme"), writes=True, environ=ENV).client.requester.kwargs
    assert reads["seconds_between_requests"] is None
    assert reads["seconds_between_writes"] is None  # GraphQL queries are POSTs
    assert writes["seconds_between_requests"] is None
    assert writes["seconds_between_writes"] == 1.0


def test_an_unreachable_github_is_an_incomplete_scan_after_bounded_retries(clock):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    github_source = GitHubSource(
        GitHubSettings("acme", api_url=f"http://127.0.0.1:{port}"), clock=clock, environ=ENV
    )
    scan = github_source.scan()
    assert not scan.complete
    assert "page 1: GitHub could not be reached after every retry" in scan.incomplete_reason
    assert "Connection refused" in scan.incomplete_reason
    assert github_source.report.scan_requests == 6  # the first attempt and 5 retries
    assert len(clock.sleeps) == 4  # the first retry follows at once


def test_an_unknown_organization_is_not_an_empty_one(github_server):
    scan = source(github_server, organization="nobody").scan()
    assert not scan.complete
    assert "no organization or user 'nobody'" in scan.incomplete_reason


# -- ownership ----------------------------------------------------------------------------------


def test_push_teams_come_from_one_listing_per_configured_team(github_server):
    org = github_server.org
    for index in range(150):
        org.add_repo(f"r{index:03d}-model", mlproject="name: x\n")
    org.add_team("rnd", {f"r{i:03d}-model": "push" for i in range(150)})
    org.add_team("search", {"r000-model": "maintain", "r001-model": "pull", "r002-model": "admin"})
    org.add_team("risk", {"r003-model": "triage"})
    github_source = source(github_server, teams=("search", "rnd", "risk", "ghost"))
    scan = github_source.scan()
    assert scan.complete
    teams = {s.full_name: s.push_teams for s in scan.snapshots}
    assert teams["acme/r000-model"] == ("rnd", "search")
    assert teams["acme/r001-model"] == ("rnd",)
    assert teams["acme/r002-model"] == ("rnd", "search")
    assert teams["acme/r003-model"] == ("rnd",)
    assert teams["acme/r149-model"] == ("rnd",)
    listings = [
        (r.path, r.query.get("page")) for r in github_server.requests if r.route == "team_repos"
    ]
    assert listings == [
        ("/orgs/acme/teams/ghost/repos", None),
        ("/orgs/acme/teams/risk/repos", None),
        ("/orgs/acme/teams/rnd/repos", None),
        ("/organizations/1000/team/5000/repos", "2"),  # GitHub's Link header, followed
        ("/orgs/acme/teams/search/repos", None),
    ]
    report = github_source.report
    assert report.ownership_requests == 5
    assert report.scan_requests == 2
    assert report.warnings == [missing_team("acme", "ghost")]
    assert "acme/ghost" in report.warnings[0]


def test_a_repository_no_configured_team_can_push_to_has_no_push_teams(github_server):
    github_server.org.add_repo("lonely-model", mlproject="name: x\n")
    github_server.org.add_team("rnd", {})
    scan = source(github_server, teams=("rnd",)).scan()
    assert scan.snapshots[0].push_teams == ()


def test_a_failed_team_listing_makes_the_scan_incomplete(github_server, clock):
    github_server.org.add_repo("a-model", mlproject="name: x\n")
    github_server.org.add_team("rnd", {"a-model": "push"})
    github_server.inject("status", route="team_repos", status=500, times=99)
    scan = source(github_server, clock=clock, teams=("rnd",)).scan()
    assert not scan.complete
    assert "GitHub team rnd's repositories could not be listed" in scan.incomplete_reason
    assert [s.push_teams for s in scan.snapshots] == [()]  # unknown is never "unchecked"


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(
    ("kind", "options", "complete"),
    [
        ("status", {"status": 502}, True),
        ("rate_limit", {"seconds": 30}, True),
        ("secondary_rate_limit", {"seconds": 30, "status": 429}, True),
        ("truncated", {}, False),
        ("rate_limit", {"seconds": 3600}, False),
    ],
    ids=["502", "rate-limit", "secondary-429", "truncated", "rate-limit-beyond-budget"],
)
def test_faults_in_a_team_listing_are_recovered_or_stop_the_scan(
    github_servers, clock, position, kind, options, complete
):
    server = github_servers(clock=clock)
    populate_models(server, 250, models_every=1)  # 250 models: three listing pages
    server.org.add_team("rnd", dict.fromkeys((r.name for r in server.org.sorted_repos()), "push"))
    server.inject(kind, route="team_repos", page=POSITIONS[position], **options)
    scan = source(server, clock=clock, teams=("rnd",)).scan()
    assert scan.complete is complete, scan.incomplete_reason
    if complete:
        assert all(s.push_teams == ("rnd",) for s in scan.snapshots)
        assert len(scan.snapshots) == 250
    else:
        assert "GitHub team rnd's repositories could not be listed" in scan.incomplete_reason
        assert all(s.push_teams == () for s in scan.snapshots)


# -- faults: recovered ------------------------------------------------------------------------


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("status", {"status": 502}),
        ("status", {"status": 500}),
        ("html", {"status": 503}),
    ],
    ids=["502", "500", "html-503"],
)
def test_a_transient_server_error_is_retried_and_the_scan_completes(
    org, clock, position, kind, options
):
    org.inject(kind, page=POSITIONS[position], **options)
    github_source = source(org, clock=clock)
    scan = github_source.scan()
    assert scan.complete, scan.incomplete_reason
    assert len(scan.snapshots) == MODELS
    assert org.count("graphql") == 4
    assert github_source.report.retries == 1
    assert github_source.report.scan_requests == 4


def test_retries_back_off_exponentially_with_jitter(org, clock):
    org.inject("status", page=1, status=502, times=4)
    scan = source(org, clock=clock).scan()
    assert scan.complete
    # urllib3's schedule with factor 1: at once, then 2, 4, 8 s, each plus up to 1 s jitter
    assert len(clock.sleeps) == 3
    for slept, base in zip(clock.sleeps, (2, 4, 8), strict=True):
        assert base <= slept < base + 1


def test_errors_that_outlast_the_retries_make_the_scan_incomplete(org, clock):
    org.inject("status", page=1, status=502, times=99)
    github_source = source(org, clock=clock, limits={"retries": 3})
    scan = github_source.scan()
    assert not scan.complete
    assert scan.incomplete_reason == (
        "page 2: GitHub kept failing after every retry (too many 502 error responses) "
        "(read 100 of 250 repositories)"
    )
    assert len(scan.snapshots) == models_in(100)
    assert org.count("graphql") == 1 + 4


def test_backoff_is_bounded_in_total_time(org, clock):
    org.inject("status", page=0, status=503, times=99)
    scan = source(org, clock=clock, limits={"retries": 10, "retry_time": 10}).scan()
    assert not scan.complete
    assert "retry time budget of 10 s" in scan.incomplete_reason
    assert clock.slept <= 10


@pytest.mark.parametrize("position", POSITIONS)
def test_a_timeout_is_retried_and_the_scan_completes(org, clock, position):
    org.inject("timeout", page=POSITIONS[position], seconds=3)
    github_source = source(org, clock=clock, limits={"timeout": 1})
    scan = github_source.scan()
    assert scan.complete, scan.incomplete_reason
    assert len(scan.snapshots) == MODELS
    assert org.count("graphql") == 4
    assert github_source.report.scan_requests == 4  # the attempt that timed out counts


def test_timeouts_that_outlast_the_retries_make_the_scan_incomplete(org, clock):
    org.inject("timeout", page=0, seconds=3, times=2)
    scan = source(org, clock=clock, limits={"timeout": 1, "retries": 1}).scan()
    assert not scan.complete
    assert (
        "GitHub could not be reached after every retry (read timed out)" in scan.incomplete_reason
    )
    assert scan.snapshots == ()


def test_a_403_that_is_not_a_rate_limit_is_not_retried(org, clock):
    org.inject(
        "reply",
        page=1,
        status=403,
        body={"message": "Resource not accessible by integration", "documentation_url": "x"},
    )
    scan = source(org, clock=clock).scan()
    assert not scan.complete
    assert scan.incomplete_reason == (
        "page 2: GitHub answered 403: Resource not accessible by integration "
        "(read 100 of 250 repositories)"
    )
    assert org.count("graphql") == 2
    assert clock.sleeps == []


# -- faults: rate limits --------------------------------------------------------------------------


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("status", [403, 429])
def test_a_primary_rate_limit_within_budget_is_waited_out(org, clock, position, status):
    start = clock.time()
    org.inject("rate_limit", page=POSITIONS[position], seconds=40, status=status)
    github_source = source(org, clock=clock, limits={"rate_limit_wait": 60})
    scan = github_source.scan()
    assert scan.complete, scan.incomplete_reason
    assert len(scan.snapshots) == MODELS
    # waited until X-RateLimit-Reset (+1 s for the second it names), then went on
    [wait] = clock.sleeps
    assert 40 <= wait <= 42
    assert clock.time() - start == wait
    assert org.count("graphql") == 4
    assert github_source.report.rate_limit_waited == wait


@pytest.mark.parametrize("position", POSITIONS)
def test_a_secondary_rate_limit_waits_for_retry_after(org, clock, position):
    org.inject("secondary_rate_limit", page=POSITIONS[position], seconds=20)
    scan = source(org, clock=clock).scan()
    assert scan.complete, scan.incomplete_reason
    assert clock.sleeps == [20]


def test_a_secondary_rate_limit_without_retry_after_waits_a_minute(org, clock):
    org.inject("secondary_rate_limit", page=1, seconds=45, retry_after=False)
    scan = source(org, clock=clock).scan()
    assert scan.complete, scan.incomplete_reason
    assert clock.sleeps == [60]


@pytest.mark.parametrize("position", POSITIONS)
def test_a_graphql_rate_limit_within_budget_is_waited_out(org, clock, position):
    org.inject("graphql_rate_limit", page=POSITIONS[position], seconds=30)
    scan = source(org, clock=clock).scan()
    assert scan.complete, scan.incomplete_reason
    [wait] = clock.sleeps
    assert 30 <= wait <= 32


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", ["rate_limit", "secondary_rate_limit", "graphql_rate_limit"])
def test_a_rate_limit_beyond_budget_stops_the_scan_without_waiting(org, clock, position, kind):
    page = POSITIONS[position]
    org.inject(kind, page=page, seconds=3600)
    scan = source(org, clock=clock, limits={"rate_limit_wait": 600}).scan()
    assert not scan.complete
    assert clock.sleeps == []
    assert "GitHub's rate limit is exhausted and lifts in" in scan.incomplete_reason
    assert "longer than is left of the wait budget" in scan.incomplete_reason
    assert f"(read {100 * page} of " in scan.incomplete_reason
    assert len(scan.snapshots) == models_in(100 * page)


def test_the_wait_budget_is_shared_by_the_whole_run(org, clock):
    org.inject("rate_limit", page=0, seconds=40)
    org.inject("rate_limit", page=2, seconds=40)
    scan = source(org, clock=clock, limits={"rate_limit_wait": 60}).scan()
    assert not scan.complete
    assert len(clock.sleeps) == 1
    assert "(read 200 of 250 repositories)" in scan.incomplete_reason


# -- faults: answers that cannot be trusted ---------------------------------------------------

UNREADABLE = {
    "graphql_errors": ({}, "GitHub's GraphQL answer carries errors: Resource protected by"),
    "graphql_errors_partial": (
        {"partial": True},
        "GitHub's GraphQL answer carries errors: Resource protected by",
    ),
    "html": (
        {"status": 200},
        "GitHub's answer is not what its API documents: the answer is not JSON but a page "
        "starting '<!DOCTYPE html> <html> <head><title>Unicorn!",
    ),
    "truncated": ({}, "GitHub's response was cut off before its end (truncated body)"),
    "not_json": ({}, "GitHub's response is not valid JSON (truncated or garbled body)"),
}


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("name", UNREADABLE)
def test_an_unreadable_page_makes_the_scan_incomplete(org, clock, position, name):
    options, message = UNREADABLE[name]
    page = POSITIONS[position]
    org.inject(name.removesuffix("_partial"), page=page, **options)
    scan = source(org, clock=clock).scan()
    assert not scan.complete
    assert scan.incomplete_reason.startswith(f"page {page + 1}: {message}")
    assert scan.incomplete_reason.endswith(
        f"(read {100 * page} of {'?' if page == 0 else 250} repositories)"
    )
    assert len(scan.snapshots) == models_in(100 * page)
    assert org.count("graphql") == page + 1  # not retried: the same answer would come again


BROKEN_CHAINS = {
    "cursor_null": "announces a next page without a new cursor",
    "cursor_loop": "the cursor chain is broken",
    "nodes_missing": "GitHub counts 250 repositories but its pages held 240",
    "early_end": "GitHub counts 250 repositories but its pages held",
}


def read_before_detection(kind: str, page: int) -> int:
    """How many repositories the scan has read when it sees the broken chain."""
    if kind == "nodes_missing":
        return ORG_SIZE - 10  # read to the end, then the count does not match
    return min(100 * (page + 1), ORG_SIZE)  # the faulty page itself is well-formed


@pytest.mark.parametrize(
    ("kind", "position"),
    [
        (kind, position)
        for kind in BROKEN_CHAINS
        for position in POSITIONS
        # the last page ends the chain by definition: no next page there is no fault
        if (kind, position) != ("early_end", "last")
    ],
)
def test_a_page_that_breaks_the_cursor_chain_makes_the_scan_incomplete(org, clock, kind, position):
    org.inject(kind, page=POSITIONS[position])
    scan = source(org, clock=clock).scan()
    assert not scan.complete
    assert BROKEN_CHAINS[kind] in scan.incomplete_reason
    read = read_before_detection(kind, POSITIONS[position])
    assert scan.incomplete_reason.endswith(f"(read {read} of 250 repositories)")
    real = {f"acme/repo-{i:05d}-model" for i in range(0, ORG_SIZE, 5)}
    assert {s.full_name for s in scan.snapshots} <= real
    assert len(scan.snapshots) == len({s.full_name for s in scan.snapshots})


def test_a_cursor_chain_that_never_ends_is_cut_off(github_server, clock):
    populate_models(github_server, 150)
    github_server.inject("cursor_loop", page=None, times=1000)
    scan = source(github_server, clock=clock).scan()
    assert not scan.complete
    assert github_server.count("graphql") <= 3
