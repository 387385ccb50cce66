"""Wiring shared by the commands: platform → source → scan → evaluate → plan."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generator import (
    actions,
    config,
    gitops,
    index,
    pipeline,
    reconcile,
    render,
    report,
    ui,
    wording,
)
from generator.config import Platform
from generator.errors import ConfigError, ExitCode, UsageError
from generator.findings import Finding, printable
from generator.sources.base import OneRepository, Scan, Source
from generator.sources.github import GitHubSource
from generator.sources.local import LocalSource
from generator.targets import consul

PLATFORM_ENV = "MODELSHIP_PLATFORM"


def platform_path(args: argparse.Namespace) -> Path:
    return Path(args.platform or os.environ.get(PLATFORM_ENV) or config.DEFAULT_PLATFORM_FILE)


def load_platform(args: argparse.Namespace) -> Platform:
    return config.load(platform_path(args))


def open_source(platform: Platform, kind: str | None = None, only: str | None = None) -> Source:
    """The platform's source (or ``kind``); narrowed to the repository ``only`` when set."""
    kind = kind or platform.source_type
    source: Source
    if kind == "local":
        source = LocalSource.from_platform(platform)
    elif kind == "github":
        source = GitHubSource.from_platform(platform)
    else:
        raise UsageError(f"the {kind!r} source is not available in this version of modelship")
    return source if only is None else OneRepository(source, only)


def add_repository(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repository",
        metavar="OWNER/NAME",
        type=_full_name,
        help="read only this model repository: every other model stays as index.json has "
        "it, and nothing is removed (in GitHub Actions the default is the repository a "
        f"{actions.MODEL_CHANGED} repository_dispatch names)",
    )


def _full_name(value: str) -> str:
    if not actions.FULL_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a repository full name OWNER/NAME: {value!r}")
    return value


def single_repository(args: argparse.Namespace, from_event: bool = True) -> str | None:
    """The one repository this run reads: ``--repository``, else (in GitHub Actions, when
    ``from_event``) the model repository a model-changed dispatch names; None: all."""
    if args.repository is not None:
        return str(args.repository)
    github = actions.current()
    event = github.event() if github is not None and from_event else None
    named = event.changed_model_repository() if event is not None else None
    if named is not None:
        ui.stderr().print(
            f"{actions.MODEL_CHANGED} dispatch from {named}: reading only {named}", markup=False
        )
    return named


def scan(source: Source) -> Scan:
    with ui.progress("Scanning repositories") as progress:
        return source.scan(progress)


def previous_index(platform: Platform) -> index.Index:
    root = platform.rendered_path
    data = gitops.read_file(root, index.INDEX_PATH)
    if data is None:
        if gitops.is_foreign(root):
            raise ConfigError(index.foreign_tree(root))
        return index.Index()
    return index.loads(data, str(root / index.INDEX_PATH))


@dataclass(frozen=True)
class RenderRun:
    platform: Platform
    evaluation: pipeline.Evaluation
    outcome: reconcile.Outcome
    planned: dict[str, bytes]
    current: Mapping[str, bytes]  # the tree on disk, read file by file when compared

    @property
    def findings(self) -> tuple[Finding, ...]:
        return (*self.evaluation.findings, *self.outcome.findings)

    @property
    def exit_code(self) -> ExitCode:
        """3 when the scan was incomplete, 1 for errors or a refused mass delete, else 0."""
        if self.outcome.incomplete:
            return ExitCode.EXTERNAL
        if self.outcome.refusal or self.evaluation.has_errors or self.outcome.findings:
            return ExitCode.FINDINGS
        return ExitCode.OK

    def notes(self) -> list[str]:
        """What a person must know about this run besides the findings."""
        notes = []
        if self.outcome.incomplete:
            unconfirmed = sum(1 for kept in self.outcome.kept if kept.as_was)
            reason = self.outcome.incomplete_reason
            removed = ", ".join(entry.id for entry in self.outcome.removed)
            deleted = f"only {removed} (confirmed gone)" if removed else "nothing"
            notes.append(
                f"the scan of the repositories did not complete ({reason}): "
                f"{wording.plural(unconfirmed, 'model')} it could not confirm stay exactly as they "
                f"were, and {deleted} is deleted"
            )
        single = self.evaluation.scan.single
        if single is not None:
            others = sum(
                1
                for kept in self.outcome.kept
                if kept.as_was and kept.entry.repo.lower() != single.repository.lower()
            )
            notes.append(
                f"only {single.repository} was read (a single-repository run): "
                f"{wording.plural(others, 'other model')} stay as index.json has them, and "
                "nothing is removed"
            )
        if self.outcome.refusal:
            notes.append(self.outcome.refusal)
        for damaged in self.outcome.preserved:
            notes.append(
                f"the index.json entry of model {damaged.id!r} is damaged (see the errors "
                "above): the model cannot be rendered again from it, so it stays exactly as "
                "it was — its entry, its files and its Consul keys untouched — until its "
                "repository gives a valid MLproject again, or the entry is repaired by hand"
            )
        for damaged in self.outcome.healed:
            notes.append(
                f"the damaged index.json entry of model {damaged.id!r} is replaced by a new "
                "render from its repository"
            )
        notes.extend(self.evaluation.scan.warnings)
        return notes


def render_run(
    platform: Platform,
    source_kind: str | None = None,
    *,
    source: Source | None = None,
    base: Mapping[str, bytes] | None = None,
    base_revision: str = "",
    allow_mass_delete: bool = False,
) -> RenderRun:
    """Everything a render needs to decide, nothing written yet.

    ``base`` is the tree the decisions are taken against — its index.json is the
    previous state (the tree at HEAD for diff and publish) and ``base_revision`` the commit
    it was read at; default: the tree on disk."""
    scanned = scan(source or open_source(platform, source_kind))
    current = gitops.read_tree(platform.rendered_path)
    tree = current if base is None else base
    previous = index.tree_index(tree, ui.shown_path(platform.rendered_path), base_revision)
    evaluation = pipeline.evaluate(platform, scanned, previous)
    outcome = reconcile.reconcile(platform, evaluation, previous, allow_mass_delete)
    try:
        renderer = render.Renderer.for_platform(platform.templates_path)
        planned = render.plan(
            platform,
            outcome.models,
            renderer,
            outcome.states,
            [preserve(platform, tree, damaged) for damaged in outcome.preserved],
        )
    except render.TemplateError as error:
        raise UsageError(f"template error: {error}") from None
    if stray := index.unaccounted(tree, previous, planned):
        raise ConfigError(index.unaccounted_message(platform.rendered_path, stray))
    return RenderRun(platform, evaluation, outcome, planned, current)


def check_working_tree(platform: Platform, run: RenderRun) -> None:
    """The rules render applies to the tree it writes, for a run that decided against another
    tree (publish decides against HEAD): the tree's own index.json must be readable, and
    every file the write would delete must be one it accounts for — a file made by hand or
    an index damaged by hand is never overwritten or deleted unchecked."""
    own = index.tree_index(run.current, ui.shown_path(platform.rendered_path))
    if stray := index.unaccounted(run.current, own, run.planned):
        raise ConfigError(index.unaccounted_message(platform.rendered_path, stray))


def preserve(
    platform: Platform, tree: Mapping[str, bytes], damaged: index.Damaged
) -> index.Preserved:
    """A model whose index.json entry is damaged, kept as ``tree`` holds it."""
    kv = next((consul.kv_path(env.name) for env in platform.environments), None)
    return index.Preserved(
        damaged,
        {path: tree[path] for path in damaged.files or () if path in tree},
        consul.kept_entries(tree.get(kv) if kv else None, platform.consul_prefix, damaged.id),
    )


def report_run(run: RenderRun) -> None:
    """Findings (annotations in GitHub Actions), kept models and notes, on stderr."""
    report.write_findings(run.findings, sys.stderr)
    err = ui.stderr()
    for kept in run.outcome.kept:
        if not kept.as_was:
            err.print(
                printable(
                    f"kept-on-error: {kept.entry.id} ({kept.entry.repo}) stays as last "
                    f"rendered from {kept.entry.model.provenance}"
                ),
                markup=False,
            )
    for note in run.notes():
        err.print(printable(f"modelship: {note}"), markup=False)


def add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=("local", "github"),
        help="read repositories from this source instead of platform.yaml's source.type",
    )


def add_mass_delete(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="allow this run to remove more than safety.max_delete_share of the models",
    )


def add_format(parser: argparse.ArgumentParser, *choices: str) -> None:
    parser.add_argument(
        "--format",
        choices=choices,
        default=choices[0],
        help=f"output format (default: {choices[0]})",
    )
