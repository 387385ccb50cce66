"""The github source's request bound (issue 16): a scan of N repositories, with teams of R_t
repositories each and F MLprojects too large for GraphQL, sends GitHub at most
⌈N/100⌉ + Σ_t max(1, ⌈R_t/100⌉) + F + 2 requests — counted by the loopback GitHub, which
sees every request the real PyGithub sends."""

from __future__ import annotations

import math

import pytest

from testsupport.github_helpers import populate_models, source
from testsupport.helpers import mlproject

TEXT_LIMIT = 1000  # bytes of a blob GraphQL returns whole; longer MLprojects come by REST


def bound(repositories: int, team_sizes: list[int], large: int) -> int:
    teams = sum(max(1, math.ceil(size / 100)) for size in team_sizes)
    return math.ceil(repositories / 100) + teams + large + 2


@pytest.mark.parametrize(
    ("repositories", "team_sizes", "large"),
    [(0, [], 0), (1, [0], 0), (250, [0, 1, 100, 101], 3), (1001, [250, 37], 5)],
    ids=["empty", "one-and-an-empty-team", "three-pages-four-teams", "eleven-pages"],
)
def test_a_scan_stays_within_its_request_bound(github_servers, repositories, team_sizes, large):
    server = github_servers(blob_text_limit=TEXT_LIMIT)
    populate_models(server, repositories)
    names = sorted(server.org.repos)
    for number in range(large):
        name = f"zz-large-{number:02d}-model"
        server.org.add_repo(
            name, mlproject=mlproject(name=name, id=f"large-{number}", description="x" * 1500)
        )
    total = repositories + large
    slugs = []
    for number, size in enumerate(team_sizes):
        slug = f"team-{number}"
        server.org.add_team(slug, dict.fromkeys(names[:size], "push"))
        slugs.append(slug)
    github_source = source(server, teams=tuple(slugs))
    scan = github_source.scan()
    assert scan.complete, scan.incomplete_reason
    assert server.count("contents") == large
    assert sum(1 for s in scan.snapshots if s.full_name.startswith("acme/zz-large-")) == large
    assert server.count() == github_source.report.requests
    assert server.count() <= bound(total, team_sizes, large)
