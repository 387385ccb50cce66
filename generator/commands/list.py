"""modelship list: the models of the rendered tree and what runs of them in each environment,
from its index.json."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from generator import rendered_repo, rendered_tree
from generator.commands import options
from generator.config.settings import Platform
from generator.errors import ExitCode, UsageError
from generator.findings import printable
from generator.index import (
    STATE_REJECTED,
    STATE_WAITING,
    Damaged,
    EnvironmentEntry,
    Index,
    IndexEntry,
    Rejected,
    tree_index,
)
from generator.present import console, json_output
from generator.present.change_views import ACTIONS_DONE, canary_json, canary_note
from generator.shown_paths import shown_path

PIPE_WIDTH = 200  # columns of the table when stdout is no terminal: whole cells

DESCRIPTION = """\
List the models of the rendered tree as published — its index.json on the
rendered repository's remote branch (fetched first; the first line names it,
e.g. origin/main@abc1234), else its local branch, else the tree on disk outside
git — one row per
model and environment: the version that runs there (first 7 characters of the
model sha1) and the commit of its repository, its state, number of instances,
input type and owning team; in a promoted environment, when it was promoted and
whether it is behind the environment it is promoted from; a model's canary, with
the commit it runs and its share of the requests ("canary 0123456 at 20%"). A model that runs in
no environment has one row with environment "-". A model whose index.json entry
is damaged is listed with the state damaged-entry (it stays deployed as it was)
and its problems are printed on stderr.
A model whose new commit's image is not in the registry yet (the registry
gate) is waiting-for-image: it runs its previous commit there, or, when it is
new, nothing yet (INSTANCES 0); --format json names the images it waits for.
A repository whose new model was rejected by its errors (deployed nowhere) is
listed by its name with the state rejected.
Below the table: the errors of every model kept on error and every rejected one.

  --env NAME        only this environment
  --format json     every model with its source state and, per environment,
                    what runs there

Exit status: 0 listed, 1 some entries are damaged, 2 bad usage or configuration
(a damaged index.json), 3 the rendered repository could not be read.
"""

EXAMPLES = """\
examples:
  modelship list
  modelship list --env production
  modelship list --format json | jq '.models[] | {id, production: .environments.production}'
"""


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_format(parser, "text", "json")
    parser.add_argument("--env", metavar="NAME", help="only this environment")


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    if args.env is not None and platform.environment(args.env) is None:
        known = ", ".join(env.name for env in platform.environments)
        raise UsageError(f"--env {args.env}: no such environment in platform.yaml ({known})")
    source = rendered_repo.published(platform)
    if source.tree is None:
        index = rendered_tree.previous_index(platform)
    else:
        index = tree_index(source.tree, shown_path(platform.rendered_path), source.revision)
    entries = sorted(index.models.values(), key=lambda e: e.id)
    damaged = sorted(index.damaged.values(), key=lambda d: d.id)
    for item in damaged:
        console.stderr().print(
            f"modelship: the index.json entry of {item.id!r} is damaged: "
            + "; ".join(str(problem) for problem in item.problems),
            markup=False,
        )
    exit_code = ExitCode.FINDINGS if damaged else ExitCode.OK
    if args.format == "json":
        listed = [_as_json(platform, index, entry) for entry in entries]
        listed += [_damaged_json(item) for item in damaged]
        models = sorted(listed, key=lambda m: m["id"])
        rejected = [_rejected_json(item) for item in _rejected(index)]
        document = json_output.versioned(
            "list", {"source": source.where, "models": models, "rejected": rejected}
        )
        sys.stdout.write(json_output.to_json(document))
        return exit_code
    rows = [row for entry in entries for row in _rows(platform, index, entry, args.env)]
    rows += [row for item in damaged for row in _damaged_rows(item, args.env)]
    if args.env is None:
        rows += [_rejected_row(item) for item in _rejected(index)]
    out = console.stdout(pipe_width=PIPE_WIDTH)
    out.print(f"{source.where}:", markup=False)
    if rows:
        out.print(
            console.table(
                (
                    "MODEL",
                    "ENVIRONMENT",
                    "VERSION",
                    "COMMIT",
                    "STATE",
                    "INSTANCES",
                    "INPUT",
                    "TEAM",
                    "PROMOTION",
                    "CANARY",
                ),
                sorted(rows),
            )
        )
    else:
        out.print(f"no models in {shown_path(platform.rendered_path)}", markup=False)
    errors = _errors(entries, index, args.env)
    if errors:
        out.print("\nerrors:", markup=False)
        for line in errors:
            out.print(f"  {line}", markup=False)
    return exit_code


def _rejected(index: Index) -> list[Rejected]:
    return sorted(index.rejected.values(), key=lambda item: item.repo.lower())


def _rejected_row(item: Rejected) -> tuple[str, ...]:
    """A repository whose new model was rejected: deployed nowhere, named by its repository
    (its MLproject's id cannot be trusted)."""
    return (item.repo, "-", "-", item.commit[:7] or "-", STATE_REJECTED, "0", "-", "-", "")


def _rejected_json(item: Rejected) -> dict[str, Any]:
    return {
        "repo": item.repo,
        "commit": item.commit,
        "state": STATE_REJECTED,
        "errors": list(item.errors),
    }


def _errors(entries: list[IndexEntry], index: Index, only: str | None) -> list[str]:
    """``model (state): error`` for every model held back by errors — kept on error (also in
    one environment only, by a pin that cannot be run) and, without --env, rejected. Escaped:
    the errors quote the repositories' files."""
    lines = []
    for entry in entries:
        if only is None:
            lines.extend(f"{entry.id} ({entry.state}): {error}" for error in entry.errors)
        for name, placed in sorted(entry.environments.items()):
            if only is not None and name != only:
                continue
            shown = entry.errors if only is None else ()
            lines.extend(
                f"{entry.id} in {name} ({placed.state}): {error}"
                for error in placed.errors
                if error not in shown
            )
    if only is None:
        for item in _rejected(index):
            lines.extend(f"{item.repo} ({STATE_REJECTED}): {error}" for error in item.errors)
    return [printable(line) for line in lines]


# The state `list` shows for a model whose index.json entry is damaged (kept as it was).
DAMAGED = "damaged-entry"


def _damaged_rows(item: Damaged, only: str | None) -> list[tuple[str, ...]]:
    """A damaged entry's model in each environment it ran in: nothing of it can be trusted
    but its id and where its files are."""
    names = [name for name in item.environments if only is None or name == only]
    if only is None and not names:
        names = ["-"]
    return [(item.id, name, "?", "?", DAMAGED, "?", "?", "?", "", "?") for name in names]


def _damaged_json(item: Damaged) -> dict[str, Any]:
    return {
        "id": item.id,
        "state": DAMAGED,
        "environments": {name: {"state": DAMAGED} for name in item.environments},
    }


def promotion_text(platform: Platform, index: Index, model_id: str, environment: str) -> str:
    """``promoted 2026-12-01T09:30:00Z, staging is at 9b2e61c`` for a model in a promoted
    environment ("" elsewhere); who did it is in ``--format json``."""
    env = platform.environment(environment)
    placed = index.in_environment(environment).get(model_id)
    if env is None or env.promoted_from is None or placed is None:
        return ""
    parts = []
    if placed.promotion is not None:
        done = ACTIONS_DONE.get(placed.promotion.action, placed.promotion.action)
        parts.append(f"{done} {placed.promotion.at}")
    source = index.in_environment(env.promoted_from).get(model_id)
    if source is None:
        parts.append(f"not in {env.promoted_from}")
    elif source.key != placed.key:
        parts.append(f"{env.promoted_from} is at {source.model.provenance.short_commit}")
    else:
        parts.append(f"as in {env.promoted_from}")
    return ", ".join(parts)


def _rows(
    platform: Platform, index: Index, entry: IndexEntry, only: str | None
) -> list[tuple[str, ...]]:
    spec = entry.model.spec
    places = sorted(entry.environments.items())
    # A new model the registry gate holds back runs nowhere yet: a row of its own per
    # environment it waits for, at its source's version and commit.
    new = [
        (
            entry.id,
            name,
            spec.version[:7],
            entry.model.provenance.short_commit,
            STATE_WAITING,
            "0",
            spec.input_type,
            spec.team,
            "",
            "",
        )
        for name in sorted(set(entry.waiting) - set(entry.environments))
        if only is None or name == only
    ]
    if only is not None:
        places = [(name, placed) for name, placed in places if name == only]
    elif not places and new:
        return new
    elif not places:
        return [
            (
                entry.id,
                "-",
                spec.version[:7],
                entry.model.provenance.short_commit,
                entry.state,
                "0",
                spec.input_type,
                spec.team,
                "",
                canary_note(spec.canary) if spec.canary else "",
            )
        ]
    return [
        (
            entry.id,
            name,
            placed.model.spec.version[:7],
            placed.model.provenance.short_commit,
            placed.state,
            str(placed.instances),
            placed.model.spec.input_type,
            placed.model.spec.team,
            promotion_text(platform, index, entry.id, name),
            canary_note(placed.model.spec.canary) if placed.model.spec.canary else "",
        )
        for name, placed in places
    ] + new


def _placed_json(
    platform: Platform,
    index: Index,
    model_id: str,
    name: str,
    placed: EnvironmentEntry,
    waiting: tuple[str, ...],
) -> dict[str, Any]:
    spec = placed.model.spec
    env = platform.environment(name)
    source = (
        index.in_environment(env.promoted_from).get(model_id) if env and env.promoted_from else None
    )
    found: dict[str, Any] = {
        "version": spec.version,
        "repo": placed.model.provenance.repo,
        "commit": placed.model.provenance.commit,
        "state": placed.state,
        "instances": placed.instances,
        "namespace": placed.namespace,
        "image": placed.image,
        "errors": list(placed.errors),
        "canary": canary_json(placed.model.spec.canary),
        "waiting_for_image": list(waiting),
    }
    if env is not None and env.promoted_from is not None:
        found["promoted_from"] = env.promoted_from
        found["promotion"] = (
            {
                "action": placed.promotion.action,
                "at": placed.promotion.at,
                "by": placed.promotion.by,
            }
            if placed.promotion is not None
            else None
        )
        found["behind"] = source is None or source.key != placed.key
    return found


def _as_json(platform: Platform, index: Index, entry: IndexEntry) -> dict[str, Any]:
    spec = entry.model.spec
    return {
        "id": entry.id,
        "name": spec.name,
        "version": spec.version,
        "state": entry.state,
        "input_type": spec.input_type,
        "team": spec.team,
        "exposed": spec.exposed,
        "repo": entry.repo,
        "commit": entry.model.provenance.commit,
        "errors": list(entry.errors),
        "environments": {
            **{
                name: {"state": STATE_WAITING, "waiting_for_image": list(images)}
                for name, images in sorted(entry.waiting.items())
                if name not in entry.environments
            },
            **{
                name: _placed_json(
                    platform, index, entry.id, name, placed, entry.waiting.get(name, ())
                )
                for name, placed in sorted(entry.environments.items())
            },
        },
    }
