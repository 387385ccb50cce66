"""Wiring shared by the commands: platform → source → scan → evaluate → plan."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from generator import config, gitops, index, pipeline, render, ui
from generator.config import Platform
from generator.errors import ExternalError, UsageError
from generator.sources.base import Scan, Source
from generator.sources.github import GitHubSource
from generator.sources.local import LocalSource

PLATFORM_ENV = "MODELSHIP_PLATFORM"


def platform_path(args: argparse.Namespace) -> Path:
    return Path(args.platform or os.environ.get(PLATFORM_ENV) or config.DEFAULT_PLATFORM_FILE)


def load_platform(args: argparse.Namespace) -> Platform:
    return config.load(platform_path(args))


def open_source(platform: Platform, kind: str | None = None) -> Source:
    kind = kind or platform.source_type
    if kind == "local":
        return LocalSource.from_platform(platform)
    if kind == "github":
        return GitHubSource.from_platform(platform)
    raise UsageError(f"the {kind!r} source is not available in this version of modelship")


def scan(source: Source) -> Scan:
    with ui.progress("Scanning repositories") as progress:
        return source.scan(progress)


def require_complete(scanned: Scan) -> None:
    """An incomplete scan is never taken for the whole organization: stop with exit 3."""
    if not scanned.complete:
        raise ExternalError(
            f"the scan is incomplete: {scanned.incomplete_reason}; nothing was written and "
            "no model was removed (run again when GitHub answers)"
        )


def previous_index(platform: Platform) -> index.Index:
    path = platform.rendered_path / index.INDEX_PATH
    if not path.exists():
        return index.Index()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ExternalError(f"cannot read {path}: {error}") from None
    return index.loads(data, str(path))


@dataclass(frozen=True)
class RenderRun:
    platform: Platform
    evaluation: pipeline.Evaluation
    planned: dict[str, bytes]
    current: dict[str, bytes]


def render_run(platform: Platform, source_kind: str | None = None) -> RenderRun:
    """Everything a render needs to decide, nothing written yet."""
    scanned = scan(open_source(platform, source_kind))
    evaluation = pipeline.evaluate(platform, scanned, previous_index(platform))
    renderer = render.Renderer(platform.templates_path)
    try:
        planned = render.plan(platform, evaluation.models, renderer)
    except render.TemplateError as error:
        raise UsageError(f"template error: {error}") from None
    return RenderRun(platform, evaluation, planned, gitops.read_tree(platform.rendered_path))


def add_format(parser: argparse.ArgumentParser, *choices: str) -> None:
    parser.add_argument(
        "--format",
        choices=choices,
        default=choices[0],
        help=f"output format (default: {choices[0]})",
    )
