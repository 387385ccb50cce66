"""modelship diff: what a render would change against the rendered repository's HEAD."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator import changeset, gitrepo, report, review, ui
from generator.commands import common
from generator.config import Platform
from generator.errors import ExternalError
from generator.sources.base import Source

HELP = "show what a render would change against the rendered repository's HEAD"
DESCRIPTION = """\
Render the platform's models in memory and compare the result with the rendered
tree as committed at HEAD of its git repository (not the working tree): which
models would be added, changed, removed or kept on error, and the diff of every
file.

  --format text       a summary per model, then the unified diff (default)
  --format markdown   a pull-request comment: summary line, table of changed
                      models with their source repo@sha and team, and per model
                      a folded diff; never longer than GitHub's 65,535
                      characters — when cut, the full diff is written to
                      --full-diff
  --format json       the same for tools

Exit status: 0 done (changes or not), 1 some repositories have errors or a
render would refuse a mass delete, 2 bad usage or configuration, 3 the scan
was incomplete or git failed.
"""

DEFAULT_FULL_DIFF = "modelship.diff"


def configure(parser: argparse.ArgumentParser) -> None:
    common.add_format(parser, "text", "markdown", "json")
    parser.add_argument(
        "--full-diff",
        metavar="FILE",
        default=DEFAULT_FULL_DIFF,
        help="where the full diff goes when the markdown had to be cut "
        f"(default: {DEFAULT_FULL_DIFF})",
    )
    parser.add_argument(
        "--source",
        choices=("local", "github"),
        help="read repositories from this source instead of platform.yaml's",
    )
    common.add_repository(parser)


def run(args: argparse.Namespace) -> int:
    platform = common.load_platform(args)
    only = common.single_repository(args)
    return execute(args, platform, common.open_source(platform, args.source, only))


def execute(args: argparse.Namespace, platform: Platform, source: Source) -> int:
    rendered = gitrepo.open_rendered(platform)
    base = gitrepo.head_tree(rendered)
    result = common.render_run(platform, source=source, base=base)
    common.report_run(result)
    changes = changeset.classify(base, result.planned)
    notes = result.notes()
    if args.format == "json":
        sys.stdout.write(report.to_json(review.as_json(changes, notes)))
    elif args.format == "markdown":
        comment = review.markdown(
            changes, title=f"Modelship {platform.name}", notes=notes, full_diff_name=args.full_diff
        )
        if comment.truncated:
            write_full_diff(Path(args.full_diff), changes)
        sys.stdout.write(comment.text)
    else:
        sys.stdout.write(review.as_text(changes))
        sys.stdout.write(review.full_diff(changes))
    return result.exit_code


def write_full_diff(path: Path, changes: changeset.ChangeSet) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(review.full_diff(changes), encoding="utf-8")
    except OSError as error:
        raise ExternalError(f"cannot write the full diff to {path}: {error}") from None
    ui.stderr().print(
        f"the diff was cut to fit GitHub's limit; the full diff is in {path}", markup=False
    )
