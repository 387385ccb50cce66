"""Model classes the server tests pickle; the server process imports them from this checkout
(its working directory), as a model image's server imports a model repository's own code."""

from __future__ import annotations

import time


class Echo:
    """Answers each row as it is: the server's conversions are then visible in the output."""

    def predict(self, rows: list[list[object]]) -> list[object]:
        return [row if not isinstance(row[0], bytes) else row[0] for row in rows]


class Slow:
    """Takes ``seconds`` before it answers the sum of the row."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, rows: list[list[float]]) -> list[float]:
        time.sleep(self.seconds)
        return [sum(row) for row in rows]


class Failing:
    def predict(self, rows: list[list[object]]) -> list[object]:
        raise ValueError("secret detail of the failure")


class NotJson:
    def predict(self, rows: list[list[object]]) -> list[object]:
        return [float("nan")]
