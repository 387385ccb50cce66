"""What several commands share: their common options, and turning them into a platform, a
source and the one repository a run reads. Argparse wiring only; no command imports another."""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

from generator import promotion_store, rendered_tree
from generator.config import loader
from generator.config.settings import Platform
from generator.errors import UsageError
from generator.findings import printable
from generator.present import (
    console,
    github_actions,
)
from generator.shown_paths import shown_path
from generator.sources import registry
from generator.sources.base import Scan, Source


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
    left = rendered_tree.left_behind(platform)
    if left is not None:
        console.warning(
            printable(
                f"{shown_path(left)} still holds a rendered tree, but platform.yaml's "
                "rendered.repository now names a separate repository: this one is no longer "
                "read or written (nor applied, once the clusters follow the new repository); "
                "remove it (git rm -r) when the switch is done"
            )
        )
    for file, env in promotion_store.unread(platform):
        console.warning(
            printable(
                f"{file}: {env} follows the sources (platform.yaml gives it no "
                "promotion.from), so no run reads this file: it pins nothing"
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


def full_name(value: str) -> str:
    if not github_actions.FULL_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a repository full name OWNER/NAME: {value!r}")
    return value


def add_format(parser: argparse.ArgumentParser, *choices: str) -> None:
    parser.add_argument(
        "--format",
        choices=choices,
        default=choices[0],
        help=f"output format (default: {choices[0]})",
    )


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
