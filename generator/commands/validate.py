"""modelship validate: check MLproject files against the platform contract."""

from __future__ import annotations

import argparse
import sys

from generator import rendered_tree
from generator.commands import options
from generator.config.settings import Platform
from generator.errors import ExitCode, UsageError
from generator.evaluate import evaluate
from generator.findings import Finding, Severity, printable
from generator.index import Index
from generator.present import console, finding_views, github_actions, json_output
from generator.published import read as read_published
from generator.sources.base import Source
from generator.sources.paths import PathsSource

DESCRIPTION = """\
Check MLproject files against the platform contract and print every problem as
path:line:col: key: message.

With PATHs, check those MLproject files, or the MLproject inside each folder
(a model repository). When a platform.yaml is found (--platform, $MODELSHIP_PLATFORM
or ./platform.yaml) the platform's rules apply too: the team must be one it lists,
and the id must be free or already this repository's (index.json of the rendered
tree says whose each id is). In a model repository, give the platform as the URL
where its repository publishes platform.yaml (https://...; a token for a private
one in $MODELSHIP_PLATFORM_TOKEN): its index.json is read from beside it
(rendered.path), or from --index.

  --repository OWNER/NAME   whose MLproject the PATHs are (default: the
                            organization / the folder's name)
  --index URL|FILE          the rendered tree's index.json, with --platform URL

Without PATHs: in a platform repository, check every model repository of the
platform's source; elsewhere, check the MLproject in the current folder.

In GitHub Actions (GITHUB_ACTIONS=true) every finding is also an annotation on
its line, the step summary gets a table of findings, and the step outputs
`errors` and `warnings` hold the counts.

Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 bad usage,
3 the scan of the platform's repositories did not complete.
"""
EXAMPLES = """\
examples:
  modelship validate                              # every repository of ./platform.yaml
  modelship validate MLproject                    # one file, the contract only
  modelship validate --platform ../ml-platform/platform.yaml .
  modelship validate --platform https://example.acme/ml-platform/raw/main/platform.yaml .
  modelship validate --strict --format json examples/repos/*
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="an MLproject file or a folder holding one"
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    options.add_format(parser, "text", "json")
    parser.add_argument(
        "--repository",
        metavar="OWNER/NAME",
        type=options.full_name,
        help="the repository the PATHs are MLproject files of, for the platform's rules "
        "(default: the platform's organization / the folder's name)",
    )
    parser.add_argument(
        "--index",
        metavar="URL|FILE",
        help="with --platform URL: the rendered tree's index.json, which says whose each id "
        "is (default: rendered.path/index.json beside platform.yaml)",
    )


def run(args: argparse.Namespace) -> int:
    platform, previous = _optional_platform(args)
    # a platform read from its URL has no source here: the PATHs (default: this folder) are
    # the model repository's own files
    if args.paths or platform is None or options.platform_url(args) is not None:
        organization = platform.github.organization if platform is not None else None
        source: Source = PathsSource(args.paths or ["."], organization, args.repository)
    else:
        source = options.open_source(platform, args)
    scanned = options.scan(source)
    if platform is not None and not args.paths and not scanned.snapshots and not scanned.failures:
        console.warning(
            f"the platform's source ({platform.source_type}) has no model repositories: "
            "nothing was checked (is source.path or github.organization right?)"
        )
    evaluation = evaluate(platform, scanned, previous)
    findings = list(evaluation.findings)
    checked = len(scanned.snapshots) + (len(scanned.failures) if scanned.chosen else 0)
    _print(findings, checked, args.format)
    if not scanned.complete:
        console.note(
            printable(
                f"modelship: the scan did not complete ({scanned.incomplete_reason}); "
                "only the repositories read were checked"
            )
        )
        return ExitCode.EXTERNAL
    failing = Severity.WARNING if args.strict else Severity.ERROR
    worst = {f.severity for f in findings}
    if Severity.ERROR in worst or failing in worst:
        return ExitCode.FINDINGS
    return ExitCode.OK


def _optional_platform(args: argparse.Namespace) -> tuple[Platform | None, Index]:
    """The platform whose rules apply, and the index.json that says whose each id is: from
    a URL (--platform https://...), a file, or none (outside a platform repository)."""
    url = options.platform_url(args)
    if url is not None:
        published = read_published(url, args.index)
        if published.index_url is None:
            console.warning(
                f"no index.json found for {url} (give --index): ids are checked against "
                "each other, not against the models the platform runs"
            )
        else:
            console.detail(f"index: {published.index_url}")
        return published.platform, published.index
    if args.index is not None:
        raise UsageError("--index goes with --platform URL")
    path = options.platform_path(args)
    if not options.platform_is_explicit(args) and not path.exists():
        return None, Index()
    platform = options.load_platform(args)
    return platform, rendered_tree.previous_index(platform)


def _print(findings: list[Finding], checked: int, fmt: str) -> None:
    errors, warnings = finding_views.counts(findings)
    github_actions.step_result(
        "Modelship validate",
        finding_views.findings_markdown(findings, checked),
        {"errors": errors, "warnings": warnings},
    )
    if fmt == "json":
        finding_views.annotate(findings, sys.stderr)
        document = json_output.versioned(
            "validate",
            {
                "checked": checked,
                "errors": errors,
                "warnings": warnings,
                "findings": [finding_views.finding_dict(f) for f in findings],
            },
        )
        sys.stdout.write(json_output.to_json(document))
        return
    finding_views.write_findings(findings, sys.stdout)
    sys.stdout.write(finding_views.findings_summary(findings, checked) + "\n")
