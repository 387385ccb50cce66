"""modelship render: write the rendered tree for the platform's models."""

from __future__ import annotations

import argparse
import sys

from generator import rendered_repo, rendered_tree, treediff, wording
from generator.commands import options, render_options
from generator.config.settings import Platform
from generator.errors import ExitCode
from generator.findings import printable_lines
from generator.present import change_views, console, github_actions, json_output, run_views
from generator.present.run_report import report_run
from generator.run import render_run
from generator.shown_paths import shown_path
from generator.sources.base import Source

DESCRIPTION = """\
Read the platform's model repositories, validate them, and make the rendered
tree (rendered.path in platform.yaml) hold exactly what they render to. The
tree is replaced atomically, and only when something changed.

A model whose repository fails to fetch or to validate keeps its last rendered
files (state kept-on-error in index.json); an incomplete scan deletes nothing;
a run may not remove more than safety.max_delete_share of the models. With
the registry gate on (image_gate.enabled, the default), a model's new commit
reaches an environment only once the registry has its image: until then it
stays at the image it ran (waiting-for-image), and a new model is not deployed.

  --dry-run             write nothing; print the unified diff of what would change
  --check               write nothing; exit 1 when the rendered tree is out of date
  --allow-mass-delete   allow removing more than safety.max_delete_share of the models
  --full                parse and render every model anew, trusting none of the
                        digests index.json records (the result is the same: a model
                        whose digests match is otherwise neither parsed nor rendered)
  --repository OWNER/NAME
                        read only this model repository: every other model stays
                        as index.json has it and nothing is removed (in GitHub
                        Actions: the repository a model-changed dispatch names)

In GitHub Actions (GITHUB_ACTIONS=true) findings are annotations, the step
summary lists the changed files, and the step outputs are `models`,
`files-added`, `files-changed`, `files-removed`, `changed` (true/false),
`errors` and `warnings`.

  --format json         print what changed (models and files, as `diff --format
                        json` names them), the findings and what was done, as
                        JSON (schema: `modelship schema render-output`)
  --fail-on held|refusal
                        exit 1 when a model is held back by errors (held, the
                        default), or only when a mass delete is refused

Exit status: 0 rendered (or up to date), 1 some repositories have errors,
--check found changes, or a mass delete was refused (nothing written), 2 bad
usage or configuration, 3 the scan was incomplete (what it saw is rendered,
nothing is deleted) or the registry could not be asked (nothing written).
"""
EXAMPLES = """\
examples:
  modelship render
  modelship render --dry-run                      # the diff, nothing written
  modelship render --check                        # exit 1 when rendered/ is stale (CI)
  modelship render --repository acme/churn-model  # read one repository only
  modelship render --format json --fail-on refusal
"""


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if the rendered tree is out of date"
    )
    options.add_source(parser)
    render_options.add_repository(parser)
    render_options.add_mass_delete(parser)
    render_options.add_fail_on(parser)
    options.add_format(parser, "text", "json")
    parser.add_argument(
        "--full",
        action="store_true",
        help="parse and render every model, trusting no digest recorded in index.json",
    )


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    only = render_options.single_repository(args)
    return execute(args, platform, options.open_source(platform, args, only))


def execute(args: argparse.Namespace, platform: Platform, source: Source) -> int:
    rendered_repo.prepare(platform)
    result = render_run(
        platform,
        options.scan(source),
        allow_mass_delete=args.allow_mass_delete,
        trust_digests=not args.full,
    )
    report_run(result)
    writes = not (args.dry_run or args.check or result.refusal)
    changes = (
        rendered_tree.write_tree(platform.rendered_path, result.planned, result.current)
        if writes
        else treediff.compare(result.current, result.planned)
    )
    where = shown_path(platform.rendered_path)
    exit_code = result.exit_status(args.fail_on)
    text = args.format == "text"
    written = False
    if args.dry_run:
        if text:
            diff = "".join(treediff.unified(result.current, result.planned, changes))
            sys.stdout.write(github_actions.inert(printable_lines(diff)))
        headline = f"dry run: {changes.summary()} in {where}; nothing written"
    elif args.check:
        if text:
            for path in changes.paths:
                sys.stdout.write(f"out of date: {path}\n")
        if changes.empty:
            headline = f"{where} is up to date"
        else:
            headline = f"{where} is out of date ({changes.summary()}); run `modelship render`"
            exit_code = max(exit_code, ExitCode.FINDINGS)
    elif result.refusal:
        headline = f"nothing written to {where}"
    else:
        written = not changes.empty
        models = wording.plural(len(result.outcome.models), "model")
        headline = f"rendered {models} into {where}: {changes.summary()}"
    console.info(headline)
    if not text:
        mode = "dry-run" if args.dry_run else "check" if args.check else "write"
        document = run_views.render_json(result, mode, written, changes.empty)
        sys.stdout.write(json_output.to_json(json_output.versioned("render", document)))
    findings = result.findings
    github_actions.step_result(
        "Modelship render",
        change_views.render_markdown(
            headline, changes, findings, len(result.evaluation.scan.snapshots)
        ),
        change_views.render_outputs(len(result.outcome.models), changes, findings),
    )
    return exit_code
