"""modelship publish: render, commit the rendered tree, and push it or open a pull request."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__, changeset, platform_checkout, rendered_repo, rendered_tree
from generator.commands import options, render_options
from generator.config.settings import Platform
from generator.errors import ExternalError, UsageError
from generator.findings import printable
from generator.github import pull_requests
from generator.github.client import Connection, connect
from generator.github.hosting import hosting_repository
from generator.present import (
    change_views,
    console,
    github_actions,
    json_output,
    pr_markdown,
    run_views,
)
from generator.present.run_report import report_run
from generator.run import RenderRun, check_working_tree, render_run
from generator.sources.base import Source

DESCRIPTION = """\
Render the platform's models into the rendered tree and commit it to its git
repository (this one, or rendered.repository in platform.yaml) — only the
tree, with a message that lists every changed model and its source repo@sha.
Nothing changed: no commit.

  --push      push the branch; when the remote moved on, fetch, rebase, render
              again and retry (publish.push_attempts times)
  --pr        commit on a branch of its own (publish.pull_request.branch),
              push it and open or update a pull request whose body is the
              markdown diff; the checked-out branch does not move. Nothing to
              publish: an open pull request from that branch is closed
  --allow-mass-delete
              allow removing more than safety.max_delete_share of the models
  --repository OWNER/NAME
              read only this model repository: every other model stays as
              index.json has it and nothing is removed (not with --pr). In
              GitHub Actions a model-changed repository_dispatch names it.

  --format json
              print the models the commit changes (as `diff --format json`
              names them), the commit, push and pull request, as JSON
              (schema: `modelship schema publish-output`); text prints
              nothing on stdout
  --fail-on held|refusal
              exit 1 when a model is held back by errors (held, the
              default), or only when a mass delete is refused

The author and committer come from publish.author / publish.committer, and
GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL
override them.

In GitHub Actions (GITHUB_ACTIONS=true) findings are annotations, the step
summary tells what was committed, pushed or opened and lists the changed
models, and the step outputs are `models`, `models-added`, `models-changed`,
`models-removed`, `models-kept-on-error`, `models-unchanged`, `changed-models`
(a JSON list of ids), `changed` (true/false), `commit` (the sha, or empty),
`pushed`, `pull-request-number`, `pull-request-url`, `errors` and `warnings`.

Exit status: 0 published (or nothing to publish), 1 some repositories have
errors (the rest is published) or a mass delete was refused (nothing written),
2 bad usage or configuration, 3 git, GitHub, the image registry or the scan
failed (an incomplete scan publishes what it saw and deletes nothing; a
registry that cannot be asked publishes nothing).
"""
EXAMPLES = """\
examples:
  modelship publish                               # commit only
  modelship publish --push
  modelship publish --pr --full-diff modelship.diff
  modelship publish --push --fail-on refusal      # the hourly run: red only for a person
  modelship publish --push --allow-mass-delete    # after reading a refusal
"""


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--push", action="store_true", help="push the commit to the branch")
    mode.add_argument(
        "--pr", action="store_true", help="push a branch and open or update a pull request"
    )
    render_options.add_mass_delete(parser)
    render_options.add_fail_on(parser)
    options.add_format(parser, "text", "json")
    parser.add_argument(
        "--full-diff",
        metavar="FILE",
        default=render_options.DEFAULT_FULL_DIFF,
        help="with --pr, where the full diff goes when the pull request body had to be cut "
        "(default: %(default)s)",
    )
    options.add_source(parser)
    render_options.add_repository(parser)


def run(args: argparse.Namespace) -> int:
    if args.pr and args.repository is not None:
        raise UsageError(
            "--repository cannot be used with --pr: the pull request's branch is replaced on "
            "every run, so it must carry the change of every model, which takes a full read"
        )
    # With --pr a model-changed dispatch reads every repository, for the same reason.
    only = render_options.single_repository(args, from_event=not args.pr)
    return execute(
        args,
        lambda: options.load_platform(args),
        lambda platform: options.open_source(platform, args, only),
    )


@dataclass
class _Step:
    run: RenderRun
    changes: changeset.ChangeSet
    commit: str | None  # None: nothing to commit, or refused
    branch: str | None = None  # the branch committed to
    said: list[str] = field(default_factory=list)  # what happened, as told on stderr
    pushed: bool = False
    pull_request: pull_requests.PullRequest | None = None

    def say(self, line: str) -> None:
        console.info(line)
        self.said.append(line)


def execute(
    args: argparse.Namespace,
    load_platform: Callable[[], Platform],
    open_source: Callable[[Platform], Source],
    environ: Mapping[str, str] = os.environ,
) -> int:
    """Publish. The platform and the source are opened again after a rebase: in a
    platform repository the rebase may have changed platform.yaml, templates or models."""
    platform = load_platform()
    _check_committed(platform)
    rendered = rendered_repo.open_rendered(platform)
    if (args.push or args.pr) and rendered.branch is None:
        raise UsageError(
            f"HEAD is detached in {rendered.repo.working_tree_dir}; check out the branch to "
            "publish to"
        )
    identity = rendered_repo.git_identity(platform, environ)
    # A pull request's target and credentials are checked before anything is rendered,
    # committed or pushed: a configuration error never leaves a pushed branch behind.
    target = _pull_request_target(platform, rendered, environ) if args.pr else None
    attempts = platform.publish.push_attempts if args.push else 1
    for attempt in range(1, attempts + 1):
        step = _render_and_commit(args, platform, rendered, open_source(platform), identity)
        if step.run.refusal or not (args.push or args.pr):
            return _finish(step, args)
        if target is not None:
            _pull_request(args, platform, rendered, step, target)
            return _finish(step, args)
        if not rendered_repo.ahead_of_upstream(rendered):
            step.say(f"{rendered.upstream} is up to date")
            return _finish(step, args)
        result = rendered_repo.push(rendered, "HEAD", str(rendered.branch))
        if result.pushed:
            step.pushed = True
            step.say(f"pushed to {rendered.upstream}")
            return _finish(step, args)
        if not result.rejected:
            raise ExternalError(f"the push to {rendered.upstream} failed: {result.message}")
        if attempt == attempts:
            break
        step.say(
            f"{rendered.upstream} moved on ({result.message}): rebasing and rendering again "
            f"(attempt {attempt + 1} of {attempts})"
        )
        if step.commit is not None:
            rendered_repo.rewind(rendered, step.commit)
        rendered_repo.fetch(rendered)
        rendered_repo.rebase(rendered, identity)
        platform = load_platform()
        rendered = rendered_repo.open_rendered(platform, sync=False)
    raise ExternalError(
        f"the push to {rendered.upstream} was rejected {attempts} times: others kept "
        "pushing first (publish.push_attempts); run publish again"
    )


def _check_committed(platform: Platform) -> None:
    """Refuse (or warn, by publish.uncommitted_platform) when platform.yaml or a template has
    changes that are not committed: the commit would credit them to the model repositories
    it names, and nobody could review where they came from."""
    changed = platform_checkout.uncommitted(platform)
    if not changed:
        return
    listed = ", ".join(printable(path) for path in changed[:10])
    if len(changed) > 10:
        listed += f" and {len(changed) - 10} more"
    what = f"uncommitted changes to the platform: {listed}"
    if platform.publish.uncommitted_platform == "warn":
        console.warning(f"{what}; publishing them (publish.uncommitted_platform: warn)")
        return
    raise UsageError(
        f"{what}. A publish would credit them to the model repositories it names; commit "
        "them first (or set publish.uncommitted_platform: warn)"
    )


def _finish(step: _Step, args: argparse.Namespace) -> int:
    """The run's result: as JSON on stdout with ``--format json``, for its GitHub Actions
    step (nothing outside Actions), and as its exit code."""
    run = step.run
    pull = step.pull_request
    outputs: dict[str, github_actions.OutputValue] = {
        "models": len(run.outcome.models),
        **change_views.change_outputs(step.changes, run.findings),
        "commit": step.commit or "",
        "pushed": step.pushed,
        "pull-request-number": str(pull.number) if pull else "",
        "pull-request-url": pull.url if pull else "",
    }
    body = change_views.changes_markdown(
        step.said, step.changes, run.findings, len(run.evaluation.scan.snapshots), run.notes()
    )
    github_actions.step_result("Modelship publish", body, outputs)
    if args.format == "json":
        request = (
            {"number": pull.number, "url": pull.url, "created": pull.created} if pull else None
        )
        document = run_views.publish_json(
            run,
            step.changes,
            commit=step.commit,
            branch=step.branch,
            pushed=step.pushed,
            pull_request=request,
            said=step.said,
        )
        sys.stdout.write(json_output.to_json(json_output.versioned("publish", document)))
    return run.exit_status(args.fail_on)


def _render_and_commit(
    args: argparse.Namespace,
    platform: Platform,
    rendered: rendered_repo.RenderedRepo,
    source: Source,
    identity: Mapping[str, str],
) -> _Step:
    base = rendered_repo.head_tree(rendered)
    run = render_run(
        platform,
        options.scan(source),
        base=base,
        base_revision="HEAD",
        allow_mass_delete=args.allow_mass_delete,
    )
    report_run(run)
    changes = changeset.classify(base, run.planned, platform.promoted_from)
    if run.refusal:
        step = _Step(run, changes, None)
        step.said.append(f"nothing written to {rendered.prefix}: the mass delete was refused")
        return step
    source_commit = rendered_repo.platform_commit(platform)
    trailers = change_views.provenance_trailers(
        __version__,
        source_commit.commit if source_commit else None,
        source_commit.dirty if source_commit else False,
    )
    message = change_views.commit_message(platform.name, changes, trailers)
    if args.pr:
        # The pull request's branch gets the render; the checked-out branch and its working
        # tree stay as they are.
        sha = rendered_repo.commit_tree(rendered, message, identity, run.planned)
    else:
        check_working_tree(platform, run)
        rendered_tree.write_tree(platform.rendered_path, run.planned, run.current)
        sha = rendered_repo.commit(rendered, message, identity)
    where = platform.publish.pull_request.branch if args.pr else rendered.branch
    step = _Step(run, changes, sha, where)
    if sha is None:
        step.say(f"nothing to publish: {rendered.prefix} at HEAD is up to date")
    else:
        step.say(f"committed {sha[:7]} ({where}): {changes.summary()}")
    return step


@dataclass(frozen=True)
class _PullRequestTarget:
    repository: str  # owner/name on GitHub
    branch: str  # the branch the pull request comes from
    connection: Connection


def _pull_request_target(
    platform: Platform, rendered: rendered_repo.RenderedRepo, environ: Mapping[str, str]
) -> _PullRequestTarget:
    settings = platform.publish.pull_request
    if settings.branch == rendered.branch:
        raise UsageError(
            f"publish.pull_request.branch is {settings.branch!r}, the branch being published "
            "to; choose another"
        )
    repository = hosting_repository(platform, rendered)
    connection = connect(platform.github, writes=True, environ=environ, purpose="publish --pr")
    return _PullRequestTarget(repository, settings.branch, connection)


def _pull_request(
    args: argparse.Namespace,
    platform: Platform,
    rendered: rendered_repo.RenderedRepo,
    step: _Step,
    target: _PullRequestTarget,
) -> None:
    if step.commit is None:
        # Nothing to publish: an open pull request from our branch is out of date.
        stale = pull_requests.close_open(
            target.connection.client, target.repository, target.branch, str(rendered.branch)
        )
        if stale is not None:
            step.say(f"closed pull request #{stale.number}, out of date: {stale.url}")
        return
    comment = pr_markdown.markdown(
        step.changes,
        title=f"Modelship {platform.name}",
        notes=step.run.notes(),
        full_diff_name=args.full_diff,
    )
    if comment.truncated:
        render_options.write_full_diff(Path(args.full_diff), step.changes)
    pushed = rendered_repo.push(rendered, step.commit, target.branch, force=True)
    if not pushed.pushed:
        raise ExternalError(f"cannot push the branch {target.branch}: {pushed.message}")
    step.pushed = True
    request = pull_requests.open_or_update(
        target.connection.client,
        target.repository,
        target.branch,
        str(rendered.branch),
        change_views.commit_message(platform.name, step.changes).splitlines()[0],
        comment.text,
    )
    step.pull_request = request
    verb = "opened" if request.created else "updated"
    step.say(f"{verb} pull request #{request.number}: {request.url}")
