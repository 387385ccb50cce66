"""The server's settings, read once from the environment the Deployment and the image set."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

INPUT_TYPES = ("integers", "floats", "doubles", "bytes", "strings")
SHA1 = re.compile(r"[0-9a-f]{40}")

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8080
DEFAULT_SLO_MICROSECONDS = 100_000
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Kubernetes waits terminationGracePeriodSeconds (30 s) before it kills the container; the
# drain must end before that, with room for the interpreter to exit.
DEFAULT_SHUTDOWN_SECONDS = 25.0


class SettingsError(ValueError):
    """An environment variable is missing or holds a value the server cannot use."""


@dataclass(frozen=True)
class Settings:
    model_id: str
    version: str
    input_type: str
    pickle: bool
    artifact: str
    slo_seconds: float
    host: str
    port: int
    max_body_bytes: int
    shutdown_seconds: float

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            model_id=_required(env, "MODEL_ID"),
            version=_version(env),
            input_type=_choice(env, "MODEL_INPUT_TYPE", INPUT_TYPES),
            pickle=_boolean(env, "MODEL_PICKLE", default=True),
            artifact=_required(env, "MODEL_ARTIFACT"),
            slo_seconds=_integer(env, "MODEL_SLO_MICROSECONDS", DEFAULT_SLO_MICROSECONDS, 1)
            / 1_000_000,
            host=env.get("HOST") or DEFAULT_HOST,
            port=_integer(env, "PORT", DEFAULT_PORT, 1, 65535),
            max_body_bytes=_integer(env, "MODEL_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1),
            shutdown_seconds=_number(env, "MODEL_SHUTDOWN_SECONDS", DEFAULT_SHUTDOWN_SECONDS),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def _version(env: Mapping[str, str]) -> str:
    value = _required(env, "MODEL_VERSION")
    if not SHA1.fullmatch(value):
        raise SettingsError(f"MODEL_VERSION must be 40 lowercase hex characters (got {value!r})")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = _required(env, name)
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)} (got {value!r})")
    return value


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "")
    if not value:
        return default
    if value not in {"true", "false"}:
        raise SettingsError(f"{name} must be true or false (got {value!r})")
    return value == "true"


def _integer(
    env: Mapping[str, str], name: str, default: int, low: int, high: int | None = None
) -> int:
    value = env.get(name, "")
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= (high or int(value)):
        bound = f"between {low} and {high}" if high else f"of at least {low}"
        raise SettingsError(f"{name} must be an integer {bound} (got {value!r})")
    return int(value)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "")
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < float("inf"):
        raise SettingsError(f"{name} must be a number of seconds, 0 or more (got {value!r})")
    return number
