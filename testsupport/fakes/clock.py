"""A clock for tests: ``sleep`` advances time at once and remembers how long it was asked
to wait, so the production waiting logic runs without waiting."""

from __future__ import annotations

import threading
import time


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.now = float(int(time.time())) if start is None else start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    @property
    def slept(self) -> float:
        return sum(self.sleeps)
