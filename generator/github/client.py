"""A PyGithub client configured from platform.yaml: credentials, API URL, retries, pauses.

``connect`` resolves the credentials and fails with a ConfigError (exit 2) before any
request when they are missing; it sends nothing itself. With App authentication the
first request exchanges a JWT for an installation token
(``POST /app/installations/{id}/access_tokens``), which PyGithub renews before it expires.

PyGithub pauses 0.25 s before every request and 1 s before every "write" by default;
it counts every non-GET as a write, GraphQL queries included. A scan only reads, so both
pauses are off; a client for writes (``writes=True``, pull requests) keeps PyGithub's
pause between writes, as GitHub asks of content-creating requests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import github
from github import Auth, Consts

from generator import __version__
from generator.config.settings import GitHubSettings
from generator.errors import ConfigError
from generator.github.transport import ApiUsage, BoundedRetry, Clock, SystemClock

PER_PAGE = 100


@dataclass
class Connection:
    client: github.Github
    usage: ApiUsage
    settings: GitHubSettings

    @property
    def credential_hint(self) -> str:
        """What to check when GitHub rejects the credentials (never the secret itself)."""
        auth = self.settings.auth
        if auth.method == "app":
            return f"the GitHub App {auth.app_id}, installation {auth.installation_id}, and its key"
        return f"the token in ${auth.token_env}"


def connect(
    settings: GitHubSettings,
    *,
    writes: bool = False,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
    purpose: str = "the github source",
) -> Connection:
    """``purpose`` names what needs GitHub in the message about missing credentials."""
    limits = settings.limits
    usage = ApiUsage(
        clock=clock or SystemClock(),
        rate_limit_budget=limits.rate_limit_wait,
        retry_time_budget=limits.retry_time,
    )
    client = github.Github(
        auth=credentials(settings, os.environ if environ is None else environ, purpose),
        base_url=settings.api_url.rstrip("/"),
        timeout=limits.timeout,
        user_agent=f"modelship/{__version__}",
        per_page=PER_PAGE,
        retry=BoundedRetry.create(usage, limits.retries, limits.backoff),
        seconds_between_requests=None,
        seconds_between_writes=Consts.DEFAULT_SECONDS_BETWEEN_WRITES if writes else None,
        lazy=True,
    )
    return Connection(client, usage, settings)


def credentials(
    settings: GitHubSettings, environ: Mapping[str, str], purpose: str = "the github source"
) -> Auth.Auth:
    auth = settings.auth
    if auth.method == "app":
        return _app(settings)
    token = environ.get(auth.token_env, "").strip()
    if not token:
        raise ConfigError(
            f"{purpose} needs a token in the environment variable {auth.token_env} "
            "(github.auth.token_env in platform.yaml), or github.auth.method: app"
        )
    return Auth.Token(token)


def _app(settings: GitHubSettings) -> Auth.AppInstallationAuth:
    auth = settings.auth
    if auth.app_id is None or auth.installation_id is None or auth.private_key_file is None:
        raise ConfigError(
            "github.auth.method app needs app_id, private_key_file and installation_id"
        )
    path = auth.private_key_file
    try:
        key = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(f"github.auth.private_key_file: {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not a PEM text file"
        raise ConfigError(f"github.auth.private_key_file: {path}: cannot read: {reason}") from None
    if not key.strip():
        raise ConfigError(f"github.auth.private_key_file: {path}: the file is empty")
    app = Auth.AppAuth(auth.app_id, key)
    try:
        app.create_jwt()  # signs locally: a bad key fails here, not at the first request
    except Exception:
        # The exception may quote the key material: say only what is wrong.
        raise ConfigError(
            f"github.auth.private_key_file: {path}: not a usable PEM private key of a GitHub App"
        ) from None
    return app.get_installation_auth(auth.installation_id)
