"""What several commands share: their common options, and turning them into a platform, a
source and the one repository a run reads. Argparse wiring only; no command imports another."""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

from generator import platform_checkout, run
from generator.changeset import ChangeSet
from generator.config import loader
from generator.config.settings import Platform
from generator.errors import ExternalError, UsageError
from generator.findings import printable
from generator.present import (
    change_views,
    console,
    github_actions,
)
from generator.shown_paths import shown_path
from generator.sources import registry
from generator.sources.base import Scan, Source

DEFAULT_FULL_DIFF = "modelship.diff"


def platform_url(args: argparse.Namespace) -> str | None:
    """``--platform`` (or $MODELSHIP_PLATFORM) when it is a URL (validate reads one)."""
    given = args.platform or os.environ.get(loader.PLATFORM_ENV)
    return given if loader.is_url(given) else None


def platform_path(args: argparse.Namespace) -> Path:
    if platform_url(args) is not None:
        raise UsageError(
            f"--platform {platform_url(args)}: only `modelship validate` reads a platform "
            "from a URL; the other commands need the platform repository's checkout"
        )
    return loader.locate(args.platform, os.environ)


def platform_is_explicit(args: argparse.Namespace) -> bool:
    """Whether the command line or the environment named a platform.yaml."""
    return bool(args.platform) or loader.PLATFORM_ENV in os.environ


def load_platform(args: argparse.Namespace) -> Platform:
    path = platform_path(args)
    console.detail(f"platform: {printable(shown_path(path.absolute()))}")
    platform = loader.load(path)
    left = platform_checkout.left_behind_tree(platform)
    if left is not None:
        console.warning(
            printable(
                f"{shown_path(left)} still holds a rendered tree, but platform.yaml's "
                "rendered.repository now names a separate repository: this one is no longer "
                "read or written (nor applied, once the clusters follow the new repository); "
                "remove it (git rm -r) when the switch is done"
            )
        )
    return platform


def open_source(platform: Platform, args: argparse.Namespace, only: str | None = None) -> Source:
    """The source ``--source`` names (default: platform.yaml's), narrowed to ``only``."""
    return registry.open_source(platform, getattr(args, "source", None), only)


def scan(source: Source) -> Scan:
    """Every repository of ``source``, with a progress bar on an interactive stderr."""
    with console.progress("Scanning repositories") as progress:
        scanned = source.scan(progress)
    if console.verbose():
        for snapshot in scanned.snapshots:
            found = snapshot.mlproject_path if snapshot.mlproject is not None else "no MLproject"
            console.detail(printable(f"read {snapshot.full_name}@{snapshot.head_sha[:7]}: {found}"))
        for failure in scanned.failures:
            console.detail(printable(f"could not read {failure.full_name}"))
    return scanned


def add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=tuple(registry.SOURCES),
        help="read repositories from this source instead of platform.yaml's source.type",
    )


def add_repository(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repository",
        metavar="OWNER/NAME",
        type=full_name,
        help="read only this model repository: every other model stays as index.json has "
        "it, and nothing is removed (in GitHub Actions the default is the repository a "
        f"{github_actions.MODEL_CHANGED} repository_dispatch names)",
    )


def full_name(value: str) -> str:
    if not github_actions.FULL_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a repository full name OWNER/NAME: {value!r}")
    return value


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


def add_format(parser: argparse.ArgumentParser, *choices: str) -> None:
    parser.add_argument(
        "--format",
        choices=choices,
        default=choices[0],
        help=f"output format (default: {choices[0]})",
    )


def write_full_diff(path: Path, changes: ChangeSet) -> None:
    """The whole diff, for when the markdown had to be cut to GitHub's limit."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(change_views.full_diff(changes), encoding="utf-8")
    except OSError as error:
        raise ExternalError(f"cannot write the full diff to {path}: {error}") from None
    console.info(f"the diff was cut to fit GitHub's limit; the full diff is in {path}")


# ---------------------------------------------------------------- promote and rollback


def add_pinning(parser: argparse.ArgumentParser) -> None:
    """What promote and rollback share: --pr, --by, --format."""
    parser.add_argument(
        "--pr",
        action="store_true",
        help="commit the change on a branch of its own, push it and open or update a pull "
        "request (with the rendered tree, when it lives in the platform repository)",
    )
    parser.add_argument(
        "--by",
        metavar="WHO",
        help="who to record (default: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>, the GitHub "
        "Actions actor, or git's user.name and user.email)",
    )
    add_format(parser, "text", "json")


def now() -> str:
    """The time a promotion records: UTC, to the second."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
