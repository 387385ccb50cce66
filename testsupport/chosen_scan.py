"""A Source (our own protocol, not a third-party client) that returns the Scan a test chose."""

from dataclasses import dataclass

from generator.sources.base import ProgressCallback, Scan


@dataclass
class ChosenScan:
    result: Scan

    def scan(self, progress: ProgressCallback | None = None) -> Scan:
        return self.result
