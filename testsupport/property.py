"""How many examples the property tests try: few in the suite, many on demand.

The suite keeps each property test to a few seconds. A longer hunt multiplies every count:

    MODELSHIP_PROPERTY_SCALE=50 .venv/bin/pytest tests/test_one_rule_set.py tests/test_consumers.py

Hypothesis keeps the failing examples it finds in .hypothesis/ and tries them first next time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE_VARIABLE = "MODELSHIP_PROPERTY_SCALE"


def scale() -> int:
    value = os.environ.get(SCALE_VARIABLE, "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{SCALE_VARIABLE} must be a whole number of at least 1 (got {value!r})")
    return int(value)


def examples(count: int) -> settings:
    """Hypothesis settings for ``count`` examples (times the scale), without deadlines: the
    real consumers a test drives take as long as they take."""
    return settings(
        max_examples=count * scale(),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
