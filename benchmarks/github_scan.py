"""GitHub scan benchmark: requests and wall time of the github source for large organizations.

Run from the repository root (it uses the test suite's loopback GitHub):

    .venv/bin/python -m benchmarks.github_scan            # 1,000 and 10,000 repositories
    .venv/bin/python -m benchmarks.github_scan 2500 50000 --repeat 5

The loopback server runs in this process, so the wall time includes building GitHub's JSON
as well as PyGithub's requests and Modelship's parsing: it measures the client's request
economy and overhead, not GitHub's own latency (multiply the page count by GitHub's time
per page for that).
"""

from __future__ import annotations

import argparse
import math
import resource
import time

from generator.config.settings import GitHubLimits, GitHubSettings
from generator.sources.github import GitHubSource
from testsupport.fakes.github_org import populate
from testsupport.fakes.github_server import DEFAULT_TOKEN, FakeGitHub
from testsupport.helpers import mlproject

MODELS_EVERY = 10  # one repository in ten is a model, like an organization that has services too


def _mlproject(name: str, index: int) -> str:
    return mlproject(name=name, id=f"m{index}", team="rnd")


def measure(size: int, repeat: int) -> dict[str, float | int]:
    with FakeGitHub() as server:
        repos = populate(server.org, size, _mlproject, models_every=MODELS_EVERY)
        models = [r.name for r in repos if r.name.endswith("-model")]
        server.org.add_team("rnd", dict.fromkeys(models, "push"))
        settings = GitHubSettings("acme", api_url=server.url, limits=GitHubLimits())
        times = []
        for _ in range(repeat):
            server.reset_counts()
            source = GitHubSource(settings, ("rnd",), environ={"GITHUB_TOKEN": DEFAULT_TOKEN})
            start = time.perf_counter()
            scan = source.scan()
            times.append(time.perf_counter() - start)
            assert scan.complete, scan.incomplete_reason
            assert len(scan.snapshots) == len(models)
            assert all(s.push_teams == ("rnd",) for s in scan.snapshots)
        report = source.report
        return {
            "repositories": size,
            "models": len(models),
            "scan_requests": report.scan_requests,
            "budget": math.ceil(size / 100) + 2,
            "ownership_requests": report.ownership_requests,
            "server_requests": server.count(),
            "best_s": min(times),
            "median_s": sorted(times)[len(times) // 2],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3, help="scans per size (default 3)")
    args = parser.parse_args()
    print(
        "| repositories | models | scan requests | ⌈N/100⌉+2 | ownership requests "
        "| wall time (best) | wall time (median) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        row = measure(size, args.repeat)
        assert row["scan_requests"] <= row["budget"]
        assert row["server_requests"] == row["scan_requests"] + row["ownership_requests"]
        print(
            f"| {row['repositories']:,} | {row['models']:,} | {row['scan_requests']} "
            f"| {row['budget']} | {row['ownership_requests']} | {row['best_s']:.2f} s "
            f"| {row['median_s']:.2f} s |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the process (client and server): {peak:.0f} MB")


if __name__ == "__main__":
    main()
