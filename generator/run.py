"""The use case of every command that renders: scan → evaluate → reconcile → plan, and what
its outcome means (the exit code, the notes a person must read). Nothing is written here.

``commands/`` parse arguments and present results; the stages (``evaluate``, ``reconcile``,
``rendering.plan``) decide on data; this module runs them in order against the edges
(the source, the rendered tree on disk).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from generator import (
    environments,
    evaluate,
    image_check,
    image_gate,
    index,
    index_stamps,
    planned_tree,
    reconcile,
    rendered_tree,
    resources,
    spec_history,
    spread,
    wording,
)
from generator.config.settings import Platform
from generator.errors import ConfigError, ExitCode, TemplateError, UsageError
from generator.findings import Finding
from generator.model import Model
from generator.pins import Promotions
from generator.rendering import plan, templating
from generator.rendering.targets import consul
from generator.shown_paths import shown_path
from generator.sources.base import Scan

# --fail-on: what makes a render or publish exit 1 (configuration errors exit 2 and external
# failures 3 under either).
FAIL_ON_HELD = "held"  # a model held back by errors, or a refused run (the default)
FAIL_ON_REFUSAL = "refusal"  # only a refused run: a mass delete a person must confirm
FAIL_ON = (FAIL_ON_HELD, FAIL_ON_REFUSAL)


@dataclass(frozen=True)
class RenderRun:
    platform: Platform
    evaluation: evaluate.Evaluation
    outcome: reconcile.Outcome
    placements: environments.Placements
    planned: Mapping[str, bytes]
    current: Mapping[str, bytes]  # the tree on disk, read file by file when compared

    @property
    def findings(self) -> tuple[Finding, ...]:
        return (*self.evaluation.findings, *self.outcome.findings, *self.placements.findings)

    @property
    def refusal(self) -> str | None:
        """Why the mass-delete guard refuses this run (of the platform, or of environments)."""
        refusals = [r for r in (self.outcome.refusal, *self.placements.refusals) if r]
        return "; ".join(refusals) if refusals else None

    @property
    def exit_code(self) -> ExitCode:
        """3 when the scan was incomplete, 1 for errors or a refused mass delete, else 0."""
        return self.exit_status(FAIL_ON_HELD)

    def exit_status(self, fail_on: str) -> ExitCode:
        """The exit code under ``--fail-on``: with ``held`` (the default) 1 when a model is
        held back by errors (kept on error, or a new one rejected) or the run was refused;
        with ``refusal`` 1 only for a refused run — the rest was published, and the
        repositories' errors are told where their authors see them."""
        if self.outcome.incomplete:
            return ExitCode.EXTERNAL
        if self.refusal:
            return ExitCode.FINDINGS
        held = (
            self.evaluation.has_errors
            or bool(self.outcome.findings)
            or any(f.is_error for f in self.placements.findings)
        )
        if held and fail_on == FAIL_ON_HELD:
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
        if self.refusal:
            notes.append(self.refusal)
        for damaged in self.outcome.preserved:
            notes.append(
                f"the index.json entry of model {damaged.id!r} is damaged (see the errors "
                "above): the model cannot be rendered again from it, so it stays exactly as "
                "it was — its entry, its files and its Consul keys untouched — until its "
                "repository renders it anew, or the entry is repaired by hand"
            )
        for damaged in self.outcome.healed:
            notes.append(
                f"the damaged index.json entry of model {damaged.id!r} is replaced by a new "
                "render from its repository"
            )
        notes.extend(self.waiting_notes())
        notes.extend(self.evaluation.scan.warnings)
        return notes

    def waiting_notes(self) -> list[str]:
        """One line per model and environment the registry gate holds back."""
        return [
            image_gate.waiting_note(
                plan.environment.name,
                model_id,
                images,
                plan.placed[model_id].model.provenance.short_commit
                if model_id in plan.placed
                else "",
            )
            for plan in self.placements.environments
            for model_id, images in plan.waiting.items()
        ]


def render_run(
    platform: Platform,
    scanned: Scan,
    *,
    base: Mapping[str, bytes] | None = None,
    base_revision: str = "",
    allow_mass_delete: bool = False,
    promotions: Mapping[str, Promotions] | None = None,
    history: spec_history.Lookup | None = None,
    trust_digests: bool = True,
) -> RenderRun:
    """Everything a render of ``scanned`` needs to decide, nothing written yet.

    ``base`` is the tree the decisions are taken against — its index.json is the
    previous state (the tree at HEAD for diff and publish) and ``base_revision`` the commit
    it was read at; default: the tree on disk. ``promotions`` are the promoted
    environments' pins (default: the files on disk); ``history`` looks for pinned states
    the index does not hold (default: in the rendered repository's history).
    ``trust_digests=False`` parses and renders every model, whatever index.json's digests
    say (``render --full``), and checks index.json whatever its stamp says (``index_stamps``);
    the result is the same, only slower."""
    # The promotions files are read by a worker while this process lists the tree, checks
    # index.json and parses the MLprojects: a platform that pins 10,000 models spends most
    # of a second in them, while the other core is idle but for index.json's check.
    reading = spread.promotions(platform) if promotions is None else nullcontext(lambda: promotions)
    code = resources.code_digest()
    stamps = index_stamps.IndexStamps(code) if trust_digests else None
    with reading as read_pins:
        current = rendered_tree.read_tree(platform.rendered_path)
        tree = current if base is None else base
        previous = index.tree_index(
            tree, shown_path(platform.rendered_path), base_revision, spread.index_entries, stamps
        )
        evaluation = evaluate.evaluate(
            platform, scanned, previous, code, trust_digests, spread.parse_mlprojects
        )
        outcome = reconcile.reconcile(platform, evaluation, previous, allow_mass_delete)
        pins = read_pins()
    catalog = previous.catalog()
    catalog.update((index.spec_key(model), model) for model in outcome.models)
    wanted = environments.wanted(platform, pins, catalog)
    if wanted:
        catalog.update((history or spec_history.finder(platform))(wanted))
    stranded = environments.stranded(platform, outcome.models, pins, catalog, outcome.healed)
    outcome = reconcile.keep_as_was(outcome, stranded)
    placements = environments.place(
        platform,
        outcome.models,
        outcome.states,
        previous,
        pins,
        catalog,
        allow_mass_delete,
        preserved={damaged.id for damaged in outcome.preserved},
    )
    asked = image_gate.questions(platform, placements, previous)
    placements = image_gate.gate(
        platform, placements, previous, image_check.existing(platform, asked)
    )
    incremental = plan.Incremental(
        code,
        parsed_digests(evaluation, previous, outcome.models),
        recorded_files(tree, previous, outcome.models, code) if trust_digests else {},
    )
    try:
        renderer = templating.Renderer(
            resources.load_templates(platform.templates_path), resources.compiled_templates()
        )
        planned = plan.plan(
            platform,
            outcome.models,
            renderer,
            outcome.states,
            placements,
            [preserve(platform, tree, damaged) for damaged in outcome.preserved],
            incremental=incremental,
            rejected=outcome.rejected,
            make_files=spread.render_files,
        )
    except TemplateError as error:
        raise UsageError(f"template error: {error}") from None
    if stray := index.unaccounted(tree, previous, planned):
        raise ConfigError(index.unaccounted_message(platform.rendered_path, stray))
    if stamps is not None and not outcome.preserved and index.INDEX_PATH in planned:
        stamps.stamp(planned[index.INDEX_PATH])  # the next run reads it back unchecked
    return RenderRun(platform, evaluation, outcome, placements, planned, current)


def parsed_digests(
    evaluation: evaluate.Evaluation, previous: index.Index, models: Sequence[Model]
) -> dict[str, str]:
    """Model id → the digest of the MLproject its spec was parsed from without a finding:
    this run's parse when the model is the one it accepted, else the digest index.json
    records with this very model (kept as it was, or on error) — a digest names a text
    and the spec it gives, whatever the model's state."""
    accepted = {model.id: model for model in evaluation.models}
    found = {}
    for model in models:
        entry = previous.models.get(model.id)
        if model.id in evaluation.parsed and accepted.get(model.id) == model:
            found[model.id] = evaluation.parsed[model.id]
        elif (
            entry is not None
            and entry.digests.mlproject
            and entry.model == model
            and previous.code == evaluation.code
        ):
            found[model.id] = entry.digests.mlproject
    return found


def recorded_files(
    tree: Mapping[str, bytes],
    previous: index.Index,
    models: Sequence[Model],
    code: str,
) -> dict[str, plan.Recorded]:
    """The files each model had in ``tree`` when they are still what index.json says the
    last render wrote (their digest is the recorded one): a file changed or removed since
    makes the model render again. Each file is read for its digest and not kept: the plan
    keeps it as ``tree`` has it (``planned_tree``)."""
    if previous.code != code:
        return {}
    checked = []
    for model in models:
        entry = previous.models.get(model.id)
        if entry is None or not (entry.digests.inputs and entry.digests.files):
            continue
        if all(path in tree for path in entry.files):
            checked.append((model.id, entry.digests, planned_tree.TreeFiles(tree, entry.files)))
    written = spread.files_digests([files for _, _, files in checked])
    return {
        model_id: plan.Recorded(recorded.inputs, files, digest)
        for (model_id, recorded, files), digest in zip(checked, written, strict=True)
        if digest == recorded.files
    }


def check_working_tree(platform: Platform, run: RenderRun) -> None:
    """The rules render applies to the tree it writes, for a run that decided against another
    tree (publish decides against HEAD): the tree's own index.json must be readable, and
    every file the write would delete must be one it accounts for — a file made by hand or
    an index damaged by hand is never overwritten or deleted unchecked."""
    own = index.tree_index(run.current, shown_path(platform.rendered_path))
    if stray := index.unaccounted(run.current, own, run.planned):
        raise ConfigError(index.unaccounted_message(platform.rendered_path, stray))


def preserve(
    platform: Platform, tree: Mapping[str, bytes], damaged: index.Damaged
) -> index.Preserved:
    """A model whose index.json entry is damaged, kept as ``tree`` holds it: its files, and
    in each environment its keys of that environment's kv.json."""
    consul_keys = {
        env.name: consul.kept_entries(
            tree.get(consul.kv_path(env.name)), platform.consul_prefix, damaged.id
        )
        for env in platform.environments
    }
    return index.Preserved(
        damaged,
        {path: tree[path] for path in damaged.files or () if path in tree},
        {name: keys for name, keys in consul_keys.items() if keys},
    )
