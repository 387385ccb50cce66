"""The CLI run in the test's own process: the same code path as ``modelship ...`` in a shell
(argument parsing, exit status, stdout and stderr), without the half second an interpreter
takes to start — what keeps the hardening tests within the suite's time."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator import cli


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def modelship(*args: str, cwd: Path, env: Mapping[str, str | None] | None = None) -> Ran:
    """``modelship ARGS`` in ``cwd``; ``env`` sets (or, with None, removes) variables for the
    run. GIT_* variables a hook or CI may have set are removed, as gitfixtures.clean_env does."""
    changes: dict[str, str | None] = {name: None for name in os.environ if name.startswith("GIT_")}
    changes.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    with (
        _environment(changes),
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = cli.main(list(args))
        except SystemExit as exit_:  # argparse
            code = int(exit_.code or 0)
    return Ran(code, out.getvalue(), err.getvalue())
