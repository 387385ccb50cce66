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
instances, input type and owning team.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_format(parser, "table", "json")


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    rendered_repo.prepare(platform)
    entries = sorted(previous_index(platform).models.values(), key=lambda e: e.id)
    if args.format == "json":
        sys.stdout.write(json_output.to_json({"models": [_as_json(e) for e in entries]}))
        return ExitCode.OK
    table = console.table(
        ("MODEL", "VERSION", "STATE", "INSTANCES", "INPUT", "TEAM"),
        (
            (
                entry.id,
                entry.model.spec.version[:7],
                entry.state,
                str(entry.instances),
                entry.model.spec.input_type,
                entry.model.spec.team,
            )
            for entry in entries
        ),
    )
    out = console.stdout()
    if entries:
        out.print(table)
    else:
        out.print(f"no models in {console.shown_path(platform.rendered_path)}", markup=False)
    return ExitCode.OK


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
