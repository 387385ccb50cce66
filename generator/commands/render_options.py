"""What the commands that render share (render, diff, publish): one repository or all, the
mass-delete guard, when to fail, and the full diff beside a cut one (promote's and rollback's
pull requests too). Apart from options.py, which every command imports: these need the
render pipeline (``run``), which `validate`, `list` and `status` do without."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator import run
from generator.changeset import ChangeSet
from generator.commands import options
from generator.errors import ExternalError
from generator.present import change_views, console, github_actions

DEFAULT_FULL_DIFF = "modelship.diff"


def add_repository(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repository",
        metavar="OWNER/NAME",
        type=options.full_name,
        help="read only this model repository: every other model stays as index.json has "
        "it, and nothing is removed (in GitHub Actions the default is the repository a "
        f"{github_actions.MODEL_CHANGED} repository_dispatch names)",
    )


def single_repository(args: argparse.Namespace, from_event: bool = True) -> str | None:
    """The one repository this run reads: ``--repository``, else (in GitHub Actions, when
    ``from_event``) the model repository a model-changed dispatch names; None: all."""
    if args.repository is not None:
        return str(args.repository)
    github = github_actions.current()
    event = github.event() if github is not None and from_event else None
    named = event.changed_model_repository() if event is not None else None
    if named is not None:
        console.info(f"{github_actions.MODEL_CHANGED} dispatch from {named}: reading only {named}")
    return named


def add_mass_delete(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="allow this run to remove more than safety.max_delete_share of the models",
    )


def add_fail_on(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fail-on",
        choices=run.FAIL_ON,
        default=run.FAIL_ON_HELD,
        help="exit 1 when a model is held back by errors or the run is refused (held, the "
        "default), or only when the run is refused (refusal: a mass delete to confirm); "
        "held models are reported either way",
    )


def write_full_diff(path: Path, changes: ChangeSet) -> None:
    """The whole diff, for when the markdown had to be cut to GitHub's limit."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(change_views.full_diff(changes), encoding="utf-8")
    except OSError as error:
        raise ExternalError(f"cannot write the full diff to {path}: {error}") from None
    console.info(f"the diff was cut to fit GitHub's limit; the full diff is in {path}")
