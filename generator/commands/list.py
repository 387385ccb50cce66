"""modelship list: the models of the rendered tree, from its index.json."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from generator import gitrepo, report, ui
from generator.commands import common
from generator.errors import ExitCode
from generator.index import IndexEntry

HELP = "list the rendered models (MODEL VERSION STATE INSTANCES INPUT TEAM)"
DESCRIPTION = """\
List the models of the rendered tree as recorded in its index.json: the
deployed version (first 7 characters of the model sha1), state, number of
instances, input type and owning team. A model whose index.json entry is
damaged is listed with the state damaged-entry (it stays deployed as it was)
and its problems are printed on stderr.

Exit status: 0 listed, 1 some entries are damaged, 2 bad usage or configuration.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    common.add_format(parser, "table", "json")


def run(args: argparse.Namespace) -> int:
    platform = common.load_platform(args)
    gitrepo.prepare(platform)
    recorded = common.previous_index(platform)
    entries = sorted(recorded.models.values(), key=lambda e: e.id)
    damaged = sorted(recorded.damaged.values(), key=lambda d: d.id)
    for item in damaged:
        ui.stderr().print(
            f"modelship: the index.json entry of {item.id!r} is damaged: "
            + "; ".join(str(problem) for problem in item.problems),
            markup=False,
        )
    if args.format == "json":
        listed = [_as_json(e) for e in entries]
        listed += [{"id": item.id, "state": DAMAGED} for item in damaged]
        sys.stdout.write(report.to_json({"models": sorted(listed, key=lambda m: m["id"])}))
        return ExitCode.FINDINGS if damaged else ExitCode.OK
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
    table = ui.table(("MODEL", "VERSION", "STATE", "INSTANCES", "INPUT", "TEAM"), sorted(rows))
    console = ui.stdout()
    if rows:
        console.print(table)
    else:
        console.print(f"no models in {ui.shown_path(platform.rendered_path)}", markup=False)
    return ExitCode.FINDINGS if damaged else ExitCode.OK


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
