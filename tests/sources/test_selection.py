"""Which repositories of an organization are model repositories."""

from __future__ import annotations

import pytest

from generator.sources.selection import Rules, judge
from testsupport.github_helpers import source

RULES = Rules(suffix="-model", topic="ml-model")


@pytest.mark.parametrize(
    ("name", "topics", "archived", "fork", "expected"),
    [
        ("churn-model", (), False, False, ("suffix -model", "")),
        ("pricing", ("ml-model",), False, False, ("topic ml-model", "")),
        ("churn-model", ("ml-model",), False, False, ("suffix -model, topic ml-model", "")),
        ("billing", ("python",), False, False, ("", "")),
        ("model-zoo", (), False, False, ("", "")),  # the suffix is a suffix
        ("old-model", (), True, False, ("suffix -model", "archived")),
        ("copy-model", (), False, True, ("suffix -model", "fork")),
        ("old-fork-model", (), True, True, ("suffix -model", "archived")),
    ],
)
def test_candidates_are_named_by_suffix_or_topic_and_archived_or_forked_ones_skipped(
    name, topics, archived, fork, expected
):
    verdict = judge(RULES, name, topics, archived, fork)
    assert (verdict.selected_by, verdict.skipped) == expected
    assert verdict.selected == (bool(expected[0]) and not expected[1])


def test_forks_can_be_kept():
    rules = Rules("-model", "ml-model", skip_forks=False)
    assert judge(rules, "copy-model", (), False, True).selected
    assert not judge(rules, "copy-model", (), True, True).selected  # archived never


def test_topic_filters_and_name_pattern_narrow_the_candidates():
    rules = Rules(
        "-model",
        "ml-model",
        include_topics=("production", "staging"),
        exclude_topics=("experimental", "deprecated"),
        name_pattern=r"^(churn|fraud)-",
    )
    assert judge(rules, "churn-model", ("staging",), False, False).selected
    excluded = judge(rules, "churn-model", ("production", "experimental"), False, False)
    assert (excluded.skipped, excluded.detail) == ("excluded topic", "experimental")
    missing = judge(rules, "churn-model", ("python",), False, False)
    assert (missing.skipped, missing.detail) == ("no include topic", "production, staging")
    unmatched = judge(rules, "pricing-model", ("production",), False, False)
    assert (unmatched.skipped, unmatched.detail) == ("name pattern", r"^(churn|fraud)-")
    assert not judge(rules, "billing", ("production",), False, False).candidate


def test_the_source_applies_the_rules_and_reports_every_skipped_candidate(github_server):
    org = github_server.org
    org.add_repo("churn-model", mlproject="name: churn-model\n", topics=["production"])
    org.add_repo("pricing", topics=["ml-model", "production"], mlproject="name: pricing\n")
    org.add_repo("billing", topics=["production"])
    org.add_repo("old-model", archived=True, topics=["production"])
    org.add_repo("copy-model", fork=True, topics=["production"])
    org.add_repo("lab-model", topics=["production", "experimental"])
    org.add_repo("draft-model")
    github_source = source(
        github_server, include_topics=("production",), exclude_topics=("experimental",)
    )
    scan = github_source.scan()
    assert scan.complete
    assert [(s.full_name, s.selected_by, s.topics) for s in scan.snapshots] == [
        ("acme/churn-model", "suffix -model", ("production",)),
        ("acme/pricing", "topic ml-model", ("ml-model", "production")),
    ]
    skipped = {(s.full_name, s.reason) for s in github_source.report.skipped}
    assert skipped == {
        ("acme/copy-model", "fork"),
        ("acme/draft-model", "no include topic"),
        ("acme/lab-model", "excluded topic"),
        ("acme/old-model", "archived"),
    }
    assert github_source.report.skip_counts == {
        "archived": 1,
        "excluded topic": 1,
        "fork": 1,
        "no include topic": 1,
    }


def test_a_name_pattern_from_the_platform_selects_by_name(github_server):
    github_server.org.add_repo("churn-model")
    github_server.org.add_repo("pricing-model")
    scan = source(github_server, name_pattern="^churn").scan()
    assert [s.full_name for s in scan.snapshots] == ["acme/churn-model"]
