"""modelship schema: print a JSON schema, for editors and other tools."""

from __future__ import annotations

import argparse
import sys

from generator import resources
from generator.errors import ExitCode

DESCRIPTION = """\
Print one of the JSON schemas (Draft 2020-12) Modelship ships, exactly the bytes
of its file in schemas/ (schemas/NAME.schema.json): the MLproject contract
(default), platform.yaml ('platform'), the rendered tree's index.json ('index'),
and the document each command's --format json prints ('validate-output',
'render-output', ...). Editors that speak the YAML language server use the
MLproject schema through a modeline at the top of the file:

    # yaml-language-server: $schema=<URL or path of mlproject.schema.json>
"""
EXAMPLES = """\
examples:
  modelship schema > mlproject.schema.json
  modelship schema platform
  modelship schema index
  modelship schema --list
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "which",
        nargs="?",
        choices=resources.schema_names(),
        default="mlproject",
        metavar="NAME",
        help="which schema to print (default: mlproject); one of "
        + ", ".join(resources.schema_names()),
    )
    parser.add_argument(
        "--list", action="store_true", help="list the schemas, one name and title a line"
    )


def run(args: argparse.Namespace) -> int:
    if args.list:
        for name in resources.schema_names():
            sys.stdout.write(f"{name}\t{resources.schema(name).get('title', '')}\n")
        return ExitCode.OK
    sys.stdout.flush()
    sys.stdout.buffer.write(resources.schema_bytes(args.which))
    sys.stdout.buffer.flush()
    return ExitCode.OK
