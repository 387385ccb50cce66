"""modelship sync-consul: apply an environment's rendered consul/kv.json to its Consul."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from generator.commands import options
from generator.config.settings import Platform
from generator.consul import client, sync
from generator.errors import ExitCode, UsageError
from generator.present import console, consul_views, json_output

DESCRIPTION = """\
Make the keys below the platform's prefix (consul.prefix) in one environment's
Consul equal rendered/<env>/consul/kv.json as committed at the rendered
repository's HEAD: create what is missing, update what differs (values compared
byte for byte), delete what is no longer rendered. Keys outside the prefix, and
the prefix itself, are never touched.

Changes go in transactions (/v1/txn) of at most 64 operations, each write a
check-and-set on the ModifyIndex it was read with: when another writer changed
a key in between, Consul rolls the transaction back and sync-consul reads and
plans again (at most 4 rounds). An empty, missing or invalid kv.json changes
nothing; deleting more than safety.max_delete_share of the live keys needs
--allow-mass-delete.

  --env ENV             the environment (platform.yaml's environments)
  --dry-run             print the plan, change nothing
  --format text|json    text (default) or JSON for tools
  --allow-mass-delete   allow deleting more than safety.max_delete_share of
                        the keys below the prefix

Where and how (the environment's consul block in platform.yaml, and Consul's
own variables): CONSUL_HTTP_ADDR (replaces consul.address; default
127.0.0.1:8500), CONSUL_HTTP_SSL, CONSUL_HTTP_TOKEN_FILE (read before
CONSUL_HTTP_TOKEN), CONSUL_HTTP_TOKEN, CONSUL_CACERT or CONSUL_CAPATH,
CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY, CONSUL_HTTP_SSL_VERIFY, and
CONSUL_NAMESPACE (when consul.namespace is not set). The datacenter is
consul.datacenter. The token is never printed.

Exit status: 0 in sync (applied, or nothing to change; a dry run printed its
plan), 1 a mass delete was refused (nothing written), 2 bad usage or
configuration, or kv.json missing, empty or invalid at HEAD (nothing changed),
3 Consul failed: unreachable, timed out, refused the token, or kept changing
under concurrent writers (what was applied is said; run again to finish).
"""
EXAMPLES = """\
examples:
  modelship sync-consul --env staging --dry-run
  CONSUL_HTTP_TOKEN_FILE=/run/secrets/consul-token modelship sync-consul --env production
  CONSUL_HTTP_ADDR=127.0.0.1:8500 modelship sync-consul --env staging --format json
  modelship sync-consul --env production --allow-mass-delete   # after reading a refusal
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env", required=True, metavar="ENV", help="the environment to sync (platform.yaml)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    options.add_format(parser, "text", "json")
    parser.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="allow deleting more than safety.max_delete_share of the keys below the prefix",
    )


def run(args: argparse.Namespace) -> int:
    return execute(args, options.load_platform(args), os.environ)


def execute(args: argparse.Namespace, platform: Platform, environ: Mapping[str, str]) -> int:
    environment = args.env
    chosen = platform.environment(environment)
    if chosen is None:
        names = ", ".join(env.name for env in platform.environments)
        raise UsageError(
            f"--env {environment}: no such environment in platform.yaml (environments: {names})"
        )
    connection = client.resolve(
        chosen.consul,
        platform.consul.timeout,
        environ,
        f"environments.{environment}.consul",
    )
    if connection.verify is False:
        console.warning("CONSUL_HTTP_SSL_VERIFY=false: Consul's certificate is unchecked")
    outcome = sync.synchronize(
        client.ConsulKV(connection),
        sync.rendered_reader(platform, environment),
        platform.consul_prefix,
        platform.max_delete_share,
        mass_delete_floor=platform.mass_delete_floor,
        allow_mass_delete=args.allow_mass_delete,
        dry_run=args.dry_run,
        namespace=connection.namespace,
        note=lambda text: console.note(f"modelship: {text}"),
    )
    if args.format == "json":
        document = json_output.versioned(
            "sync-consul", consul_views.as_json(outcome, environment, connection, args.dry_run)
        )
        sys.stdout.write(json_output.to_json(document))
    else:
        sys.stdout.write(consul_views.as_text(outcome, environment, connection, args.dry_run))
    if outcome.refusal is not None:
        console.note(f"modelship: {outcome.refusal}")
        return ExitCode.FINDINGS
    return ExitCode.OK
