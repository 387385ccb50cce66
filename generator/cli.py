"""The modelship command line: parse arguments, run one command, map errors to exit codes."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from generator import __version__
from generator.errors import ExitCode, ModelshipError
from generator.findings import printable, printable_lines
from generator.present import console

# Command name → its module in generator.commands and its line in `modelship --help`. A run
# imports only the module of the command it runs, and `modelship --help` none: they pull in
# PyGithub, gitpython, requests and the kubernetes client, which a local `render` never
# needs and which cost it a third of a second.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "init",
        "start a platform repository here: platform.yaml, .gitignore, workflows, the pin",
    ),
    "validate": ("validate", "check MLproject files (exit 1 on errors)"),
    "discover": (
        "discover",
        "list the model repositories the source finds (and the GitHub API requests spent)",
    ),
    "render": ("render", "render every model into the rendered tree"),
    "diff": ("diff", "show what a render would change against the rendered repository's HEAD"),
    "publish": ("publish", "render, commit the rendered tree, and push it or open a pull request"),
    "promote": (
        "promote",
        "pin models in a promoted environment to what the environment it follows runs now",
    ),
    "rollback": ("rollback", "pin a model in a promoted environment to a state it ran before"),
    "sync-consul": (
        "sync_consul",
        "apply an environment's rendered consul/kv.json to its Consul key/value store",
    ),
    "list": (
        "list",
        "list the rendered models per environment (MODEL ENVIRONMENT VERSION COMMIT STATE ...)",
    ),
    "status": ("status", "compare what an environment renders with what its cluster runs"),
    "schema": (
        "schema",
        "print a JSON schema: the MLproject contract, platform.yaml, index.json, outputs",
    ),
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

examples:
  modelship init --organization acme --team rnd   # start a platform repository here
  modelship validate                              # every model repository of the platform
  modelship render --dry-run                      # what would change, nothing written
  modelship diff --platform platform.yaml --format markdown
  modelship publish --push
  NO_COLOR=1 modelship --quiet render             # plain output, results and problems only
"""


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"generator.commands.{COMMANDS[name][0]}")


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, found without parsing (the first word that names one,
    the value of ``--platform`` aside); None when it names none."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--platform":
            skip = True
        elif word in COMMANDS:
            return word
        elif not word.startswith("-"):
            return None
    return None


def global_options(defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes, before the command or after it. After it they are
    parsed by the command's own parser, whose defaults must not overwrite what was given
    before the command: there every default is SUPPRESS."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--platform",
        metavar="FILE",
        default=default(None),
        help="the platform configuration: a file, or for validate also an https:// URL "
        "(default: $MODELSHIP_PLATFORM or ./platform.yaml)",
    )
    loudness = group.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=console.QUIET,
        default=default(console.NORMAL),
        help="print only results, findings, warnings and errors",
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=console.VERBOSE,
        default=default(console.NORMAL),
        help="also print what is read and written, and a traceback for an internal error",
    )
    return options


def build_parser(only: str | None = None, *, summaries: bool = False) -> argparse.ArgumentParser:
    """The parser of every command, or of the command ``only`` alone. With ``summaries``,
    of none: its commands are their names and lines only, which lists them (``--help``),
    refuses a word that is none and finds the command named, and no command's module is
    imported."""
    parser = argparse.ArgumentParser(
        prog="modelship",
        description="Render ML model repositories into a GitOps tree: Jenkins jobs, "
        "Kubernetes manifests, gateway routes and Consul entries.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[global_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"modelship {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    after_command = global_options(defaults=False)
    for name, (_, summary) in COMMANDS.items():
        if summaries:  # its options (even --help) are left to its own parser
            subparsers.add_parser(name, help=summary, add_help=False)
            continue
        if only not in (None, name):
            continue
        module = command_module(name)
        subparser = subparsers.add_parser(
            name,
            help=summary,
            description=module.DESCRIPTION,
            epilog=module.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[after_command],
        )
        module.configure(subparser)
        subparser.set_defaults(handler=module.run)
    return parser


# A run builds millions of objects that live until it ends (specs, index entries, rendered
# files) and hardly any cycle: with the default threshold (700) the collector walks the
# survivors again and again, a tenth of a re-run's time at 3,000 models.
GC_THRESHOLDS = (50_000, 20, 20)


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    words = sys.argv[1:] if argv is None else list(argv)
    command = chosen_command(words)
    if command is None:
        # No command seen (none given, or one after an abbreviated option, `--plat x list`):
        # the list of commands parses what it can, and a command it finds is parsed by its own.
        found, _ = build_parser(summaries=True).parse_known_args(words)
        command = found.command
    args = build_parser(command).parse_args(words)
    console.set_verbosity(args.verbosity)
    try:
        return int(args.handler(args))
    except ModelshipError as error:
        # Messages may quote input (paths, names, index.json): never raw on a terminal.
        console.error(printable_lines(error.message))
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("modelship: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`modelship list | head`): not an error of ours.
        sys.stderr.close()
        return int(ExitCode.OK)
    except Exception as error:
        if os.environ.get("MODELSHIP_DEBUG") or console.verbose():
            traceback.print_exc()
        print(
            f"modelship: internal error: {type(error).__name__}: {printable(str(error))}\n"
            "This is a bug in modelship; set MODELSHIP_DEBUG=1 for a traceback and report it.",
            file=sys.stderr,
        )
        return int(ExitCode.INTERNAL)
