"""What a render run tells a person on stderr besides its result: findings (annotations in
GitHub Actions), the models kept on error, the repositories whose new model is rejected,
and the run's notes."""

from __future__ import annotations

import sys

from generator.findings import printable
from generator.policy import same_repo
from generator.present import console, finding_views
from generator.run import RenderRun


def report_run(run: RenderRun) -> None:
    finding_views.write_findings(run.findings, sys.stderr)
    for kept in run.outcome.kept:
        if not kept.as_was:
            console.note(
                printable(
                    f"kept-on-error: {kept.entry.id} ({kept.entry.repo}) stays as last "
                    f"rendered from {kept.entry.model.provenance}"
                )
            )
    scanned = {same_repo(snapshot.full_name) for snapshot in run.evaluation.scan.snapshots}
    for rejected in run.outcome.rejected:
        if same_repo(rejected.repo) in scanned:  # not one an earlier run rejected
            console.note(
                printable(
                    f"rejected: the model of {rejected.repo} is deployed nowhere until its "
                    "errors are fixed"
                )
            )
    for note in run.notes():
        console.note(printable(f"modelship: {note}"))
