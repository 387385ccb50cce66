"""modelship render: write the rendered tree for the platform's models."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from generator import actions, gitops, report, treediff, ui
from generator.commands import common
from generator.errors import ExitCode

HELP = "render every model into the rendered tree"
DESCRIPTION = """\
Read the platform's model repositories, validate them, and make the rendered
tree (rendered.path in platform.yaml) hold exactly what they render to. Only
files that change are written; a run with nothing changed writes nothing.

  --dry-run   write nothing; print the unified diff of what would change
  --check     write nothing; exit 1 when the rendered tree is out of date

In GitHub Actions (GITHUB_ACTIONS=true) findings are annotations, the step
summary lists the changed files, and the step outputs are `models`,
`files-added`, `files-changed`, `files-removed`, `changed` (true/false),
`errors` and `warnings`.

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
        report.write_findings(findings, sys.stderr)
    changes = treediff.compare(result.current, result.planned)
    where = _shown(platform.rendered_path)
    models = len(result.evaluation.models)
    if args.dry_run:
        diff = "".join(treediff.unified(result.current, result.planned, changes))
        sys.stdout.write(actions.inert(diff))
        headline = f"dry run: {changes.summary()} in {where}; nothing written"
    elif args.check:
        for path in changes.paths:
            sys.stdout.write(f"out of date: {path}\n")
        if changes.empty:
            headline = f"{where} is up to date"
        else:
            headline = f"{where} is out of date ({changes.summary()}); run `modelship render`"
    else:
        gitops.write_tree(platform.rendered_path, result.planned, result.current)
        headline = f"rendered {report.plural(models, 'model')} into {where}: {changes.summary()}"
    err.print(headline, markup=False)
    actions.step_result(
        "Modelship render",
        report.render_markdown(headline, changes, findings, len(result.evaluation.scan.snapshots)),
        report.render_outputs(models, changes, findings),
    )
    if args.check and not changes.empty:
        return ExitCode.FINDINGS
    return ExitCode.FINDINGS if result.evaluation.has_errors else ExitCode.OK


def _shown(path: Path) -> str:
    """``path`` as a person at this prompt names it: relative when it is below the cwd."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()
