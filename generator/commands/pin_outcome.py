"""What promote and rollback do once they decided: show the decision, then write the
promotions file or open a pull request with it. (Apart from options.py: it needs GitHub's
client, which the commands that only render never import.)"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from generator import pinning, promotion
from generator.changeset import ChangeSet
from generator.commands.render_options import DEFAULT_FULL_DIFF, write_full_diff
from generator.config.settings import Platform
from generator.errors import ExitCode
from generator.present import console, github_actions, json_output, pr_markdown, promotion_views
from generator.run import RenderRun


def finish_pinning(
    args: argparse.Namespace,
    platform: Platform,
    state: pinning.State,
    decision: promotion.Decision,
    verb: str,
    branch: str,
) -> int:
    """Show the decision, then write the promotions file or open a pull request; the exit
    code: 1 when a model asked for was refused (or the render at the new pins was), else 0."""
    text = promotion_views.as_text(verb, decision)
    outcome = pinning.Outcome(decision)
    if not decision.changed:
        console.info(f"nothing to change in {decision.promotions.environment}")
    elif args.pr:
        outcome = pinning.open_pull_request(
            platform,
            state,
            decision,
            branch=branch,
            message=promotion_views.commit_message(platform.name, verb, decision),
            body=lambda changes, run: _pull_request_body(verb, decision, changes, run),
            environ=os.environ,
        )
    else:
        outcome.written = pinning.write(platform, decision)
        console.info(
            f"wrote {outcome.written}; `modelship render` (or `publish`) renders "
            f"{decision.promotions.environment} at these pins"
        )
    for line in outcome.said:
        console.info(line)
    if outcome.refusal:
        console.note(f"modelship: {outcome.refusal}; nothing was pushed")
    pull = outcome.pull_request
    if pull is not None:
        console.info(
            f"{'opened' if pull.created else 'updated'} pull request #{pull.number}: {pull.url}"
        )
    if args.format == "json":
        sys.stdout.write(
            json_output.to_json(
                json_output.versioned(
                    args.command,  # promote or rollback: the schema's name
                    promotion_views.as_json(decision, outcome.written, pull.url if pull else ""),
                )
            )
        )
    else:
        sys.stdout.write(text)
    github_actions.step_result(
        f"Modelship {verb}",
        promotion_views.preface(verb, decision),
        {
            "models": [move.model for move in decision.moves],
            "changed": decision.changed,
            "pull-request-url": pull.url if pull else "",
        },
    )
    refused = bool(decision.refused) or outcome.refusal is not None
    return ExitCode.FINDINGS if refused else ExitCode.OK


def _pull_request_body(
    verb: str, decision: promotion.Decision, changes: ChangeSet, run: RenderRun
) -> str:
    preface = promotion_views.preface(verb, decision)
    comment = pr_markdown.markdown(
        changes,
        title="Rendered",
        notes=run.notes(),
        limit=pr_markdown.LIMIT - pr_markdown.size(preface),
    )
    if comment.truncated:
        write_full_diff(Path(DEFAULT_FULL_DIFF), changes)
    return preface + comment.text
