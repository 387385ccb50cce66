"""modelship status --env ENV: what the tree renders for an environment against what its
cluster runs, Deployment by Deployment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator import cluster, live_status, rendered_repo, rendered_tree
from generator.commands import options
from generator.errors import ExitCode, UsageError
from generator.present import console, json_output

PIPE_WIDTH = 200
# An hour: past it a silent API server is down, not slow (and far larger values, or inf and
# nan, break the client's timers).
MAX_TIMEOUT = 3600.0

DESCRIPTION = """\
For each model of an environment (and its canary), the rendered version against
what the cluster runs: ready and desired replicas, the image its pods actually
run, a rollout in progress or stuck. A model that is rendered but not running,
or a Modelship Deployment running that the tree does not render, is flagged.
The cluster is read with the kubernetes client: the kubeconfig (--kubeconfig,
else $KUBECONFIG or ~/.kube/config, its current context or --context), or the
pod's service account when run inside the cluster; it needs get on the teams'
namespaces and list on Deployments and Pods in them.

  --format json     every Deployment, rendered and live, with what differs

Exit status: 0 the cluster runs what is rendered, 1 something differs, 2 bad
usage or configuration (no kubeconfig), 3 the cluster could not be read
(refused, unreachable, too slow).
"""

EXAMPLES = """\
examples:
  modelship status --env production
  modelship status --env staging --context staging-admin --format json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_format(parser, "text", "json")
    parser.add_argument("--env", metavar="NAME", required=True, help="the environment")
    parser.add_argument("--kubeconfig", metavar="FILE", type=Path, help="the kubeconfig to use")
    parser.add_argument("--context", metavar="NAME", help="its context (default: the current)")
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=cluster.DEFAULT_TIMEOUT,
        help="seconds one answer of the API server may take, above 0 and at most "
        f"{MAX_TIMEOUT:g} (default {cluster.DEFAULT_TIMEOUT:g})",
    )


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    env = platform.environment(args.env)
    if env is None:
        known = ", ".join(e.name for e in platform.environments)
        raise UsageError(f"--env {args.env}: no such environment in platform.yaml ({known})")
    if not 0 < args.timeout <= MAX_TIMEOUT:  # also false for nan
        raise UsageError(
            f"--timeout {args.timeout:g}: must be a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT:g}"
        )
    rendered_repo.prepare(platform)
    index = rendered_tree.previous_index(platform)
    expected = live_status.rendered(platform, index, env.name)
    namespaces = {team.namespace for team in platform.teams.values()}
    view = cluster.read(
        namespaces, kubeconfig=args.kubeconfig, context=args.context, timeout=args.timeout
    )
    rows = live_status.compare(expected, view)
    code = ExitCode.OK if all(row.matches for row in rows) else ExitCode.FINDINGS
    if args.format == "json":
        document = json_output.versioned("status", _as_json(env.name, rows, view))
        sys.stdout.write(json_output.to_json(document))
        return code
    out = console.stdout(pipe_width=PIPE_WIDTH)
    if not rows:
        out.print(f"no models in {env.name}, none running", markup=False)
        return code
    out.print(
        console.table(
            ("MODEL", "DEPLOYMENT", "NAMESPACE", "RENDERED", "RUNNING", "READY", "STATUS"),
            [_row(row) for row in rows],
        )
    )
    return code


def _row(row: live_status.Row) -> tuple[str, ...]:
    rendered, live = row.rendered, row.live
    return (
        row.model,
        row.deployment,
        row.namespace,
        rendered.image.rsplit(":", 1)[-1] if rendered else "-",
        ", ".join(image.rsplit(":", 1)[-1] for image in live.running) if live else "-",
        f"{live.ready}/{live.desired}" if live else "-",
        row.verdict,
    )


def _as_json(environment: str, rows: list[live_status.Row], view: live_status.ClusterView) -> dict:
    """The body of schemas/status-output.schema.json's document."""
    return {
        "environment": environment,
        "matches": all(row.matches for row in rows),
        "missing_namespaces": sorted(view.missing_namespaces),
        "deployments": [
            {
                "model": row.model,
                "deployment": row.deployment,
                "namespace": row.namespace,
                "matches": row.matches,
                "differences": list(row.differences),
                "rendered": None
                if row.rendered is None
                else {
                    "image": row.rendered.image,
                    "replicas": row.rendered.replicas,
                    "commit": row.rendered.commit,
                },
                "live": None
                if row.live is None
                else {
                    "image": row.live.image,
                    "running": list(row.live.running),
                    "desired": row.live.desired,
                    "ready": row.live.ready,
                    "updated": row.live.updated,
                    "rolling_out": row.live.rolling_out,
                    "stuck": row.live.stuck or None,
                },
            }
            for row in rows
        ],
    }
