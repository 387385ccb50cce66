"""modelship diff: what a render would change against the rendered repository's HEAD."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generator import changeset, rendered_repo
from generator.commands import options, render_options
from generator.config.settings import Platform
from generator.errors import UsageError
from generator.findings import printable_lines
from generator.github import pull_requests
from generator.github.client import Connection, connect
from generator.github.hosting import hosting_repository
from generator.present import change_views, console, github_actions, json_output, pr_markdown
from generator.present.run_report import report_run
from generator.run import render_run
from generator.sources.base import Source

DESCRIPTION = """\
Render the platform's models in memory and compare the result with the rendered
tree as committed at HEAD of its git repository (not the working tree): which
models would be added, changed, removed or kept on error, which repositories' new
models are rejected by their errors, what changes in each environment (one line:
instances 2→3, version a→b, ...), and the diff of every file. It writes no file
unless asked (--full-diff).

  --format text       a summary per model, then the unified diff (default)
  --format markdown   a pull-request comment: summary line, table of changed
                      models with their source repo@sha and team, and per model
                      a folded diff; never longer than GitHub's 65,535
                      characters — when cut, the full diff is written to
                      --full-diff FILE (given), else the comment says that
                      `modelship diff` prints it
  --format json       the same for tools (schema: `modelship schema diff-output`)
  --against REV       compare with the tree at this commit of the rendered
                      tree's repository instead of HEAD (a pull request's base,
                      e.g. HEAD^1 of a pull request's merge commit)
  --comment           post the markdown as a comment on a pull request, or
                      replace the one Modelship posted there before: the event's
                      pull request in GitHub Actions, else --pull-request N; in
                      the repository of the event, else
                      publish.pull_request.repository or the remote's URL
  --repository OWNER/NAME
                      read only this model repository; the others stay as
                      index.json has them

In GitHub Actions (GITHUB_ACTIONS=true) findings are annotations, the step
summary is the markdown review, and the step outputs are `models-added`,
`models-changed`, `models-removed`, `models-kept-on-error`, `models-unchanged`,
`changed-models` (a JSON list of ids), `changed` (true/false), `truncated`,
`errors`, `warnings`, and with --comment `comment-url`.

Exit status: 0 done (changes or not), 1 some repositories have errors or a
render would refuse a mass delete, 2 bad usage or configuration, 3 the scan
was incomplete, or git, GitHub or the image registry failed.
"""
EXAMPLES = """\
examples:
  modelship diff
  modelship diff --format markdown --full-diff modelship.diff
  modelship diff --format json --against HEAD^1
  GITHUB_TOKEN=... modelship diff --format markdown --comment --pull-request 42
"""


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_format(parser, "text", "markdown", "json")
    parser.add_argument(
        "--full-diff",
        metavar="FILE",
        help="write the full diff to FILE when the markdown had to be cut (default: no file; "
        "the comment says `modelship diff` prints it)",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="compare with the rendered tree at this commit instead of HEAD",
    )
    parser.add_argument(
        "--comment",
        action="store_true",
        help="post the markdown as the pull request's Modelship comment (replacing its last)",
    )
    parser.add_argument(
        "--pull-request",
        metavar="N",
        type=_number,
        help="with --comment: the pull request (default in GitHub Actions: the event's)",
    )
    options.add_source(parser)
    render_options.add_repository(parser)


def _number(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a pull request number: {value!r}")
    return int(value)


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    only = render_options.single_repository(args)
    return execute(args, platform, options.open_source(platform, args, only))


def execute(
    args: argparse.Namespace,
    platform: Platform,
    source: Source,
    environ: Mapping[str, str] = os.environ,
) -> int:
    rendered = rendered_repo.open_rendered(platform)
    # Where the comment goes, and the credentials, are checked before any work is done.
    target = _comment_target(args, platform, rendered, environ) if args.comment else None
    base = rendered_repo.head_tree(rendered, args.against)
    result = render_run(
        platform, options.scan(source), base=base, base_revision=args.against or "HEAD"
    )
    report_run(result)
    changes = changeset.classify(base, result.planned, platform.promoted_from)
    notes = result.notes()
    comment = None
    if args.format == "markdown" or target is not None:
        comment = pr_markdown.markdown(
            changes,
            title=f"Modelship {platform.name}",
            notes=notes,
            full_diff_name=args.full_diff,
            # the comment also carries the marker, and must fit GitHub's limit with it
            limit=pr_markdown.LIMIT - (pr_markdown.size(pull_requests.PREFIX) if target else 0),
        )
        if comment.truncated and args.full_diff is not None:
            render_options.write_full_diff(Path(args.full_diff), changes)
    if args.format == "json":
        document = json_output.versioned("diff", change_views.as_json(changes, notes))
        sys.stdout.write(json_output.to_json(document))
    elif comment is not None and args.format == "markdown":
        sys.stdout.write(comment.text)
    else:
        text = change_views.as_text(changes) + printable_lines(change_views.full_diff(changes))
        sys.stdout.write(github_actions.inert(text))
    outputs = change_views.change_outputs(changes, result.findings)
    outputs["truncated"] = comment is not None and comment.truncated
    if target is not None and comment is not None:
        posted = pull_requests.post_or_update(
            target.connection.client, target.repository, target.number, comment.text
        )
        verb = "commented on" if posted.created else "updated the comment on"
        console.info(f"{verb} pull request #{target.number}: {posted.url}")
        outputs["comment-url"] = posted.url
    if comment is not None:
        body = comment.text
    else:
        body = change_views.changes_markdown(
            (), changes, result.findings, len(result.evaluation.scan.snapshots), notes
        )
    github_actions.step_result("Modelship diff", body, outputs)
    return result.exit_code


@dataclass(frozen=True)
class _CommentTarget:
    repository: str  # owner/name on GitHub
    number: int  # the pull request
    connection: Connection


def _comment_target(
    args: argparse.Namespace,
    platform: Platform,
    rendered: rendered_repo.RenderedRepo,
    environ: Mapping[str, str],
) -> _CommentTarget:
    github = github_actions.current()
    event = github.event() if github is not None else None
    number = args.pull_request
    if number is None and event is not None:
        number = event.pull_request_number()
    if number is None:
        raise UsageError(
            "--comment needs the pull request: run it for a pull_request event in GitHub "
            "Actions, or give --pull-request N"
        )
    repository = hosting_repository(
        platform, rendered, event.repository if event is not None else None
    )
    connection = connect(platform.github, writes=True, environ=environ, purpose="diff --comment")
    return _CommentTarget(repository, number, connection)
