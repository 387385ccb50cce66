"""What a render run tells a person on stderr besides its result: findings (annotations in
GitHub Actions), the models kept on error, and the run's notes."""

from __future__ import annotations

import sys

from generator.findings import printable
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
    for note in run.notes():
        console.note(printable(f"modelship: {note}"))
