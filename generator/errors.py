"""Exit codes and the errors that carry them to the CLI.

Every failure a user can cause or meet is one of these; the CLI prints the
message (never a traceback) and exits with the error's code.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # validation findings, or changes where --check asked for none
    USAGE = 2  # bad command line or configuration
    EXTERNAL = 3  # an external system failed; nothing was deleted
    INTERNAL = 4  # a bug in Modelship


class ModelshipError(Exception):
    """An error with a user-facing message and an exit code."""

    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ModelshipError):
    exit_code = ExitCode.USAGE


class ConfigError(ModelshipError):
    """platform.yaml (or another configuration input) is missing or invalid."""

    exit_code = ExitCode.USAGE


class ExternalError(ModelshipError):
    """A system outside Modelship (GitHub, git, the disk) failed."""

    exit_code = ExitCode.EXTERNAL


class TemplateError(Exception):
    """A template is missing or broken (usually a platform's own override); the run reports
    it as a usage error naming the template and line."""
