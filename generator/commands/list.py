"""modelship list: the models of the rendered tree, from its index.json."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from generator import rendered_repo
from generator.commands import options
from generator.errors import ExitCode
from generator.index import IndexEntry
from generator.present import console, json_output
from generator.run import previous_index

HELP = "list the rendered models (MODEL VERSION STATE INSTANCES INPUT TEAM)"
DESCRIPTION = """\
List the models of the rendered tree as recorded in its index.json: the
deployed version (first 7 characters of the model sha1), state, number of
instances, input type and owning team. A model whose index.json entry is
damaged is listed with the state damaged-entry (it stays deployed as it was)
and its problems are printed on stderr.

Exit status: 0 listed, 1 some entries are damaged, 2 bad usage or configuration.
"""
EXAMPLES = """\
examples:
  modelship list
  modelship list --format json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_format(parser, "table", "json")


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    rendered_repo.prepare(platform)
    recorded = previous_index(platform)
    entries = sorted(recorded.models.values(), key=lambda e: e.id)
    damaged = sorted(recorded.damaged.values(), key=lambda d: d.id)
    for item in damaged:
        console.stderr().print(
            f"modelship: the index.json entry of {item.id!r} is damaged: "
            + "; ".join(str(problem) for problem in item.problems),
            markup=False,
        )
    exit_code = ExitCode.FINDINGS if damaged else ExitCode.OK
    if args.format == "json":
        listed = [_as_json(e) for e in entries]
        listed += [{"id": item.id, "state": DAMAGED} for item in damaged]
        models = sorted(listed, key=lambda m: m["id"])
        sys.stdout.write(json_output.to_json({"models": models}))
        return exit_code
    rows = [
        (
            entry.id,
            entry.model.spec.version[:7],
            entry.state,
            str(entry.instances),
            entry.model.spec.input_type,
            entry.model.spec.team,
        )
        for entry in entries
    ]
    rows += [(item.id, "?", DAMAGED, "?", "?", "?") for item in damaged]
    table = console.table(("MODEL", "VERSION", "STATE", "INSTANCES", "INPUT", "TEAM"), sorted(rows))
    out = console.stdout()
    if rows:
        out.print(table)
    else:
        out.print(f"no models in {console.shown_path(platform.rendered_path)}", markup=False)
    return exit_code


# The state `list` shows for a model whose index.json entry is damaged (kept as it was).
DAMAGED = "damaged-entry"


def _as_json(entry: IndexEntry) -> dict[str, Any]:
    spec = entry.model.spec
    return {
        "id": entry.id,
        "name": spec.name,
        "version": spec.version,
        "state": entry.state,
        "instances": entry.instances,
        "input_type": spec.input_type,
        "team": spec.team,
        "namespace": entry.namespace,
        "exposed": spec.exposed,
        "repo": entry.repo,
        "commit": entry.model.provenance.commit,
        "image": entry.image,
    }
