"""modelship render: write the rendered tree for the platform's models."""

from __future__ import annotations

import argparse
import sys

from generator import gitops, gitrepo, report, treediff, ui
from generator.commands import common
from generator.config import Platform
from generator.errors import ExitCode
from generator.sources.base import Source

HELP = "render every model into the rendered tree"
DESCRIPTION = """\
Read the platform's model repositories, validate them, and make the rendered
tree (rendered.path in platform.yaml) hold exactly what they render to. The
tree is replaced atomically, and only when something changed.

A model whose repository fails to fetch or to validate keeps its last rendered
files (state kept-on-error in index.json); an incomplete scan deletes nothing;
a run may not remove more than safety.max_delete_share of the models.

  --dry-run             write nothing; print the unified diff of what would change
  --check               write nothing; exit 1 when the rendered tree is out of date
  --allow-mass-delete   allow removing more than safety.max_delete_share of the models

Exit status: 0 rendered (or up to date), 1 some repositories have errors,
--check found changes, or a mass delete was refused (nothing written), 2 bad
usage or configuration, 3 the scan was incomplete (what it saw is rendered,
nothing is deleted).
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
    common.add_mass_delete(parser)


def run(args: argparse.Namespace) -> int:
    platform = common.load_platform(args)
    return execute(args, platform, common.open_source(platform, args.source))


def execute(args: argparse.Namespace, platform: Platform, source: Source) -> int:
    gitrepo.prepare(platform)
    result = common.render_run(platform, source=source, allow_mass_delete=args.allow_mass_delete)
    common.report_run(result)
    err = ui.stderr()
    changes = treediff.compare(result.current, result.planned)
    where = platform.rendered_path
    if args.dry_run:
        sys.stdout.writelines(treediff.unified(result.current, result.planned, changes))
        err.print(f"dry run: {changes.summary()} in {where}; nothing written", markup=False)
    elif args.check:
        for path in changes.paths:
            sys.stdout.write(f"out of date: {path}\n")
        if not changes.empty:
            err.print(
                f"{where} is out of date ({changes.summary()}); run `modelship render`",
                markup=False,
            )
            return max(result.exit_code, ExitCode.FINDINGS)
        err.print(f"{where} is up to date", markup=False)
    elif not result.outcome.refusal:
        gitops.write_tree(where, result.planned, result.current)
        models = len(result.outcome.models)
        err.print(
            f"rendered {report.plural(models, 'model')} into {where}: {changes.summary()}",
            markup=False,
        )
    return result.exit_code
