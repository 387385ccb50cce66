"""A platform read from where its repository publishes it: ``validate --platform URL``.

A model repository's pull request checks its MLproject against the platform's rules (the team
exists, the id is free or already this repository's) without a checkout of the platform
repository: platform.yaml is read from an https URL (e.g. the raw file of the platform
repository's default branch), and the rendered tree's index.json from beside it — the
``rendered.path`` folder next to platform.yaml — or from ``--index``.

Only ``https://`` is read, and ``http://`` on the loopback interface (a local mirror, and the
tests); a token for a private repository comes from ``$MODELSHIP_PLATFORM_TOKEN`` and is sent
only to the host the URL names, never printed.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from generator import index
from generator.config import loader
from generator.config.settings import Platform
from generator.errors import ConfigError, ExternalError
from generator.index import INDEX_PATH

TOKEN_ENV = "MODELSHIP_PLATFORM_TOKEN"
TIMEOUT = 30  # seconds for one answer
INDEX_LIMIT = 256 * 1024 * 1024  # bytes of index.json read at most
_LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class Published:
    platform: Platform
    index: index.Index
    index_url: str | None  # None: no index.json was found (a platform not rendered yet)


def read(
    url: str, index_location: str | None, environ: Mapping[str, str] = os.environ
) -> Published:
    """The platform at ``url`` and the index.json of its rendered tree (at
    ``index_location``, a URL or a file, else beside platform.yaml)."""
    token = environ.get(TOKEN_ENV) or None
    text = _get(url, token, loader.PLATFORM_LIMIT, "platform.yaml")
    if text is None:
        raise ConfigError(
            f"{_shown(url)}: no such file (HTTP 404); is the URL right, and the repository "
            f"public or a token given (${TOKEN_ENV})?"
        )
    with tempfile.TemporaryDirectory(prefix="modelship-platform-") as folder:
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{_shown(url)}: not UTF-8 text") from None
        platform = loader.parse(decoded, Path(folder) / "platform.yaml", shown=_shown(url))
    where = index_location or _beside(url, platform)
    if where is None:
        return Published(platform, index.Index(), None)
    if loader.is_url(where):
        data = _get(where, token, INDEX_LIMIT, INDEX_PATH)
    else:
        try:
            data = Path(where).read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{where}: no such file (--index)") from None
        except OSError as error:
            raise ConfigError(f"{where}: cannot read: {error.strerror}") from None
    if data is None:
        return Published(platform, index.Index(), None)
    return Published(platform, index.loads(data, where), where)


def _beside(url: str, platform: Platform) -> str | None:
    """The URL of index.json in the rendered tree next to platform.yaml, or None when the
    tree lives in a repository of its own (then only ``--index`` can name it)."""
    if platform.rendered_repository is not None:
        return None
    inside = platform.rendered_path.relative_to(platform.root).as_posix()
    return urljoin(url, f"{inside}/{INDEX_PATH}")


def _get(url: str, token: str | None, limit: int, what: str) -> bytes | None:
    """The body at ``url`` (at most ``limit`` bytes), None for a 404."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
        raise ConfigError(f"{_shown(url)}: only https:// URLs are read (http:// only on loopback)")
    headers = {"Accept": "application/octet-stream, text/plain, */*"}
    if token:
        headers["Authorization"] = f"token {token}"
    try:
        with requests.get(
            url, headers=headers, timeout=TIMEOUT, stream=True, allow_redirects=True
        ) as answer:
            if answer.status_code == 404:
                return None
            if answer.status_code in (401, 403):
                raise ExternalError(
                    f"{_shown(url)}: HTTP {answer.status_code}: {what} needs a token that may "
                    f"read it (${TOKEN_ENV})"
                )
            if answer.status_code != 200:
                raise ExternalError(f"{_shown(url)}: HTTP {answer.status_code} reading {what}")
            body = b""
            for chunk in answer.iter_content(chunk_size=65536):
                body += chunk
                if len(body) > limit:
                    raise ConfigError(f"{_shown(url)}: {what} is larger than {limit:,} bytes")
            return body
    except requests.RequestException as error:
        raise ExternalError(f"{_shown(url)}: cannot read {what}: {type(error).__name__}") from None


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(url: str) -> str:
    """``url`` without credentials or a query (which may hold a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
