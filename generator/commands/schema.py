"""modelship schema: print a JSON schema, for editors and other tools."""

from __future__ import annotations

import argparse
import json
import sys

from generator import resources
from generator.errors import ExitCode

HELP = "print the MLproject (or platform.yaml) JSON schema"
DESCRIPTION = """\
Print the JSON schema (Draft 2020-12) of the MLproject contract, or with
'platform' the schema of platform.yaml. Editors that speak the YAML language
server use it through a modeline at the top of the file:

    # yaml-language-server: $schema=<URL or path of mlproject.schema.json>
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "which",
        nargs="?",
        choices=("mlproject", "platform"),
        default="mlproject",
        help="which schema to print (default: mlproject)",
    )


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(json.dumps(resources.schema(args.which), indent=2) + "\n")
    return ExitCode.OK
