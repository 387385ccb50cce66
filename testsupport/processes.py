"""Stopping a child process a test started: asked first, killed past a deadline."""

from __future__ import annotations

import signal
import subprocess


def stop(process: subprocess.Popen, timeout: float) -> int | None:
    """SIGTERM ``process`` and wait up to ``timeout`` seconds for it: its exit status, or None
    when it did not stop in time and was killed (and waited for, so no zombie is left)."""
    process.send_signal(signal.SIGTERM)  # nothing when it has already exited
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
        return None
