"""What a scan of an API-backed source saw and spent: pages, skipped repositories, requests,
retries, waits and the rate limits left — for `modelship discover`."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from generator.github import graphql


@dataclass(frozen=True)
class RateLimit:
    resource: str
    remaining: int
    limit: int
    reset: int  # epoch seconds


@dataclass(frozen=True)
class Skipped:
    full_name: str
    selected_by: str
    reason: str
    detail: str = ""


@dataclass
class ScanReport:
    """What a scan saw and spent, for `modelship discover`."""

    organization: str
    total_count: int | None = None  # GitHub's count of the organization's repositories
    seen: int = 0
    pages: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    scan_requests: int = 0
    file_requests: int = 0
    ownership_requests: int = 0
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    retries: int = 0
    rate_limit_waited: float = 0.0
    backoff_slept: float = 0.0

    @property
    def request_budget(self) -> int | None:
        """The scan's ceiling: ⌈N/100⌉ + 2."""
        if self.total_count is None:
            return None
        return math.ceil(self.total_count / graphql.PAGE_SIZE) + 2

    @property
    def requests(self) -> int:
        return self.scan_requests + self.file_requests + self.ownership_requests

    @property
    def skip_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(s.reason for s in self.skipped).items()))
