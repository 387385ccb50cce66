"""modelship diff: what a render would change against the rendered repository's HEAD."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import github

from generator import actions, changeset, github_client, gitrepo, prcomment, report, review, ui
from generator.commands import common
from generator.config import Platform
from generator.errors import ExternalError, UsageError
from generator.findings import printable_lines
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
was incomplete, or git or GitHub failed.
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
    common.add_source(parser)
    common.add_repository(parser)


def _number(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a pull request number: {value!r}")
    return int(value)


def run(args: argparse.Namespace) -> int:
    platform = common.load_platform(args)
    only = common.single_repository(args)
    return execute(args, platform, common.open_source(platform, args.source, only))


def execute(
    args: argparse.Namespace,
    platform: Platform,
    source: Source,
    environ: Mapping[str, str] = os.environ,
) -> int:
    rendered = gitrepo.open_rendered(platform)
    # Where the comment goes, and the credentials, are checked before any work is done.
    target = _comment_target(args, platform, rendered, environ) if args.comment else None
    base = gitrepo.head_tree(rendered, args.against)
    result = common.render_run(
        platform,
        source=source,
        base=base,
        base_revision=args.against or "HEAD",
    )
    common.report_run(result)
    changes = changeset.classify(base, result.planned)
    notes = result.notes()
    comment = None
    if args.format == "markdown" or target is not None:
        comment = review.markdown(
            changes,
            title=f"Modelship {platform.name}",
            notes=notes,
            full_diff_name=args.full_diff,
            # the comment also carries the marker, and must fit GitHub's limit with it
            limit=review.LIMIT - (review.size(prcomment.PREFIX) if target else 0),
        )
        if comment.truncated:
            write_full_diff(Path(args.full_diff), changes)
    if args.format == "json":
        sys.stdout.write(report.to_json(review.as_json(changes, notes)))
    elif comment is not None and args.format == "markdown":
        sys.stdout.write(comment.text)
    else:
        text = review.as_text(changes) + printable_lines(review.full_diff(changes))
        sys.stdout.write(actions.inert(text))
    outputs = report.change_outputs(changes, result.findings)
    outputs["truncated"] = comment is not None and comment.truncated
    if target is not None and comment is not None:
        posted = prcomment.post_or_update(
            target.client, target.repository, target.number, comment.text
        )
        verb = "commented on" if posted.created else "updated the comment on"
        ui.stderr().print(f"{verb} pull request #{target.number}: {posted.url}", markup=False)
        outputs["comment-url"] = posted.url
    if comment is not None:
        body = comment.text
    else:
        body = report.changes_markdown(
            (), changes, result.findings, len(result.evaluation.scan.snapshots), notes
        )
    actions.step_result("Modelship diff", body, outputs)
    return result.exit_code


@dataclass(frozen=True)
class _CommentTarget:
    repository: str  # owner/name on GitHub
    number: int  # the pull request
    client: github.Github


def _comment_target(
    args: argparse.Namespace,
    platform: Platform,
    rendered: gitrepo.RenderedRepo,
    environ: Mapping[str, str],
) -> _CommentTarget:
    github = actions.current()
    event = github.event() if github is not None else None
    number = args.pull_request
    if number is None and event is not None:
        number = event.pull_request_number()
    if number is None:
        raise UsageError(
            "--comment needs the pull request: run it for a pull_request event in GitHub "
            "Actions, or give --pull-request N"
        )
    repository = (
        (event.repository if event is not None else None)
        or platform.publish.pull_request.repository
        or gitrepo.github_repository(gitrepo.remote_url(rendered))
    )
    if repository is None:
        raise UsageError(
            "cannot tell the GitHub repository to comment in; set "
            "publish.pull_request.repository in platform.yaml"
        )
    connection = github_client.connect(
        platform.github, writes=True, environ=environ, purpose="diff --comment"
    )
    return _CommentTarget(repository, number, connection.client)


def write_full_diff(path: Path, changes: changeset.ChangeSet) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(review.full_diff(changes), encoding="utf-8")
    except OSError as error:
        raise ExternalError(f"cannot write the full diff to {path}: {error}") from None
    ui.stderr().print(
        f"the diff was cut to fit GitHub's limit; the full diff is in {path}", markup=False
    )
