"""modelship list: the models of the rendered tree, from its index.json."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from rich.table import Table

from generator import report, ui
from generator.commands import common
from generator.errors import ExitCode

HELP = "list the rendered models (MODEL VERSION STATE INSTANCES INPUT TEAM)"
DESCRIPTION = """\
List the models of the rendered tree as recorded in its index.json: the
deployed version (first 7 characters of the model sha1), state, number of
instances, input type and owning team.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    common.add_format(parser, "table", "json")


def run(args: argparse.Namespace) -> int:
    platform = common.load_platform(args)
    entries = sorted(common.previous_index(platform).models.values(), key=lambda e: e.id)
    if args.format == "json":
        sys.stdout.write(report.to_json({"models": [asdict(e) for e in entries]}))
        return ExitCode.OK
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("MODEL", "VERSION", "STATE", "INSTANCES", "INPUT", "TEAM"):
        table.add_column(column, no_wrap=True)
    for entry in entries:
        table.add_row(
            entry.id,
            entry.version[:7],
            entry.state,
            str(entry.instances),
            entry.input_type,
            entry.team,
        )
    console = ui.stdout()
    if entries:
        console.print(table)
    else:
        console.print(f"no models in {platform.rendered_path}")
    return ExitCode.OK
