"""The modelship command line: parse arguments, run one command, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from generator import __version__
from generator.commands import (
    diff,
    discover,
    promote,
    publish,
    render,
    rollback,
    schema,
    status,
    sync_consul,
    validate,
)
from generator.commands import list as list_command
from generator.errors import ExitCode, ModelshipError
from generator.findings import printable, printable_lines

COMMANDS: dict[str, ModuleType] = {
    "validate": validate,
    "discover": discover,
    "render": render,
    "diff": diff,
    "publish": publish,
    "promote": promote,
    "rollback": rollback,
    "sync-consul": sync_consul,
    "list": list_command,
    "status": status,
    "schema": schema,
}

EPILOG = """\
exit status:
  0  success
  1  findings: validation errors, changes where --check asked for none,
     or a refused mass delete (nothing written)
  2  usage or configuration error
  3  an external system failed (GitHub, git, the disk) or the scan
     was incomplete; nothing was deleted
  4  internal error: a bug in modelship (set MODELSHIP_DEBUG=1 for a traceback)

Run `modelship COMMAND --help` for the options of one command.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelship",
        description="Render ML model repositories into a GitOps tree: Jenkins jobs, "
        "Kubernetes manifests, gateway routes and Consul entries.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"modelship {__version__}")
    parser.add_argument(
        "--platform",
        metavar="FILE",
        help="the platform configuration (default: $MODELSHIP_PLATFORM or ./platform.yaml)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        subparser = subparsers.add_parser(
            name,
            help=module.HELP,
            description=module.DESCRIPTION,
            # Exit status and examples, after the options (a command without one has none).
            epilog=getattr(module, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(subparser)
        subparser.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ModelshipError as error:
        # Messages may quote input (paths, names, index.json): never raw on a terminal.
        print(f"modelship: error: {printable_lines(error.message)}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("modelship: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`modelship list | head`): not an error of ours.
        sys.stderr.close()
        return int(ExitCode.OK)
    except Exception as error:
        if os.environ.get("MODELSHIP_DEBUG"):
            traceback.print_exc()
        print(
            f"modelship: internal error: {type(error).__name__}: {printable(str(error))}\n"
            "This is a bug in modelship; set MODELSHIP_DEBUG=1 for a traceback and report it.",
            file=sys.stderr,
        )
        return int(ExitCode.INTERNAL)
