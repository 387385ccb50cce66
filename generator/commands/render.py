"""modelship render: write the rendered tree for the platform's models."""

from __future__ import annotations

import argparse
import sys

from generator import gitops, report, treediff, ui
from generator.commands import common
from generator.errors import ExitCode

HELP = "render every model into the rendered tree"
DESCRIPTION = """\
Read the platform's model repositories, validate them, and make the rendered
tree (rendered.path in platform.yaml) hold exactly what they render to. Only
files that change are written; a run with nothing changed writes nothing.

  --dry-run   write nothing; print the unified diff of what would change
  --check     write nothing; exit 1 when the rendered tree is out of date

Exit status: 0 rendered (or up to date), 1 some repositories have errors or
--check found changes, 2 bad usage or configuration, 3 a source failed.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if the rendered tree is out of date"
    )
    parser.add_argument(
        "--source",
        choices=("local", "github"),
        help="read repositories from this source instead of platform.yaml's",
    )


def run(args: argparse.Namespace) -> int:
    platform = common.load_platform(args)
    result = common.render_run(platform, args.source)
    common.require_complete(result.evaluation.scan)
    findings = result.evaluation.findings
    err = ui.stderr()
    if findings:
        sys.stderr.write(report.findings_text(findings))
    changes = treediff.compare(result.current, result.planned)
    where = platform.rendered_path
    if args.dry_run:
        sys.stdout.writelines(treediff.unified(result.current, result.planned, changes))
        err.print(f"dry run: {changes.summary()} in {where}; nothing written")
    elif args.check:
        for path in changes.paths:
            sys.stdout.write(f"out of date: {path}\n")
        if not changes.empty:
            err.print(f"{where} is out of date ({changes.summary()}); run `modelship render`")
            return ExitCode.FINDINGS
        err.print(f"{where} is up to date")
    else:
        gitops.write_tree(where, result.planned, result.current)
        models = len(result.evaluation.models)
        err.print(f"rendered {report.plural(models, 'model')} into {where}: {changes.summary()}")
    return ExitCode.FINDINGS if result.evaluation.has_errors else ExitCode.OK
