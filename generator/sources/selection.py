"""Which repositories of an organization are model repositories.   (pure)

A repository is a *candidate* when its name ends with the platform's suffix or it
carries the platform's topic. A candidate is *selected* unless it is archived, a
fork (when forks are skipped), carries an excluded topic, lacks every include
topic (when include topics are set), or its name does not match the name pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Why a candidate was not selected; also the keys of the skip counts that discover prints.
ARCHIVED = "archived"
FORK = "fork"
EXCLUDED_TOPIC = "excluded topic"
NO_INCLUDE_TOPIC = "no include topic"
NAME_PATTERN = "name pattern"


@dataclass(frozen=True)
class Rules:
    suffix: str
    topic: str
    include_topics: tuple[str, ...] = ()
    exclude_topics: tuple[str, ...] = ()
    name_pattern: str | None = None
    skip_forks: bool = True


@dataclass(frozen=True)
class Verdict:
    """``selected_by`` says why a repository is a model repository ("" when it is not a
    candidate); ``skipped`` names the rule that left a candidate out ("" when selected)."""

    selected_by: str
    skipped: str = ""
    detail: str = ""

    @property
    def candidate(self) -> bool:
        return bool(self.selected_by)

    @property
    def selected(self) -> bool:
        return self.candidate and not self.skipped


def judge(rules: Rules, name: str, topics: tuple[str, ...], archived: bool, fork: bool) -> Verdict:
    reasons = []
    if name.endswith(rules.suffix):
        reasons.append(f"suffix {rules.suffix}")
    if rules.topic in topics:
        reasons.append(f"topic {rules.topic}")
    selected_by = ", ".join(reasons)
    if not selected_by:
        return Verdict("")
    if archived:
        return Verdict(selected_by, ARCHIVED)
    if fork and rules.skip_forks:
        return Verdict(selected_by, FORK)
    excluded = sorted(set(topics) & set(rules.exclude_topics))
    if excluded:
        return Verdict(selected_by, EXCLUDED_TOPIC, ", ".join(excluded))
    if rules.include_topics and not set(topics) & set(rules.include_topics):
        return Verdict(selected_by, NO_INCLUDE_TOPIC, ", ".join(rules.include_topics))
    if rules.name_pattern is not None and re.search(rules.name_pattern, name) is None:
        return Verdict(selected_by, NAME_PATTERN, rules.name_pattern)
    return Verdict(selected_by)
