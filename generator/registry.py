"""Does an image exist? A small client of the OCI distribution API (an edge: network I/O).

``HEAD /v2/<name>/manifests/<tag>`` with the manifest media types in ``Accept`` answers 200
when the tag exists and 404 when it does not (distribution spec, "Checking if content exists
in the registry"). A registry that wants credentials answers 401 with a ``WWW-Authenticate``
challenge, and the client follows it as the spec's token authentication describes:

* ``Bearer realm="…",service="…",scope="…"``: ask the realm for a token (``GET
  realm?service=…&scope=…``, with the credentials as HTTP basic auth when there are any,
  anonymously otherwise), then repeat the request with ``Authorization: Bearer <token>``;
* ``Basic realm="…"``: repeat the request with the credentials as HTTP basic auth.

Timeouts, broken connections, 429 and 5xx answers are retried with exponential backoff, a
bounded number of times. Whatever fails becomes one ``RegistryError`` sentence naming the
registry and the image, never a credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.utils import parse_dict_header

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "modelship-registry-check"


class RegistryError(Exception):
    """The registry could not say whether the image exists; ``str()`` says why, safely."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class ImageReference:
    registry: str  # host[:port]
    repository: str
    tag: str

    @classmethod
    def parse(cls, image: str) -> ImageReference:
        """``host[:port]/path/name:tag``, as the rendered Deployments print images."""
        name, _, tag = image.rpartition(":")
        registry, _, repository = name.partition("/")
        if not name or "/" in tag or not repository or not registry:
            raise ValueError(f"not an image reference host/name:tag: {image!r}")
        return cls(registry, repository, tag)

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


@dataclass
class RegistryClient:
    """Asks one registry about images. ``scheme`` is ``https`` except for a registry on
    loopback that speaks plain HTTP (the tests')."""

    registry: str
    credentials: Credentials | None = None
    scheme: str = "https"
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)
    # The registry asked for basic auth once: later requests send it at once (one request
    # per image instead of a 401 and a repeat).
    _basic: bool = field(default=False, repr=False)

    def exists(self, repository: str, tag: str) -> bool:
        """True when ``repository:tag`` is in the registry, False when it is not."""
        image = f"{self.registry}/{repository}:{tag}"
        url = f"{self.scheme}://{self.registry}/v2/{repository}/manifests/{tag}"
        scope = f"repository:{repository}:pull"
        response = self._request(
            "HEAD", url, image, headers=self._authorization(scope), **self._basic_auth()
        )
        if response.status_code == 401:
            response = self._request("HEAD", url, image, **self._answer(response, scope, image))
            if response.status_code == 401:
                raise RegistryError(
                    f"registry {self.registry} refused the credentials for {image} "
                    f"({self._who()}): check the registry's username and password"
                )
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        if response.status_code == 403:
            raise RegistryError(
                f"registry {self.registry} denies {self._who()} access to {image} (403)"
            )
        raise RegistryError(
            f"registry {self.registry} answered {response.status_code} for {image}, "
            "which says neither that it exists nor that it does not"
        )

    def _who(self) -> str:
        return f"user {self.credentials.username}" if self.credentials else "anonymous"

    def _basic_auth(self) -> dict[str, object]:
        if self._basic and self.credentials is not None:
            return {"auth": (self.credentials.username, self.credentials.password)}
        return {}

    def _authorization(self, scope: str) -> dict[str, str]:
        token = self._tokens.get(scope)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _answer(self, challenge: requests.Response, scope: str, image: str) -> dict[str, object]:
        """What the request repeated must carry to answer a 401's ``WWW-Authenticate``
        challenge: basic auth, or a bearer token from the challenge's token service."""
        scheme, _, params = challenge.headers.get("WWW-Authenticate", "").partition(" ")
        if scheme.lower() == "basic":
            if self.credentials is None:
                raise RegistryError(
                    f"registry {self.registry} needs credentials to tell whether {image} exists"
                )
            self._basic = True
            return self._basic_auth()
        if scheme.lower() != "bearer":
            raise RegistryError(
                f"registry {self.registry} answered 401 for {image} without a Bearer or Basic "
                "challenge"
            )
        challenge_params = parse_dict_header(params)
        realm = challenge_params.get("realm", "")
        if urlsplit(realm).scheme not in {"https", "http"}:
            raise RegistryError(f"registry {self.registry} names no token service for {image}")
        query = {"service": challenge_params.get("service", ""), "scope": scope}
        auth = (self.credentials.username, self.credentials.password) if self.credentials else None
        response = self._request("GET", realm, image, params=query, auth=auth)
        if response.status_code == 401:
            raise RegistryError(
                f"registry {self.registry}'s token service refused the credentials for {image} "
                f"({self._who()}): check the registry's username and password"
            )
        try:
            body = response.json() if response.status_code == 200 else {}
        except ValueError:
            body = {}
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(
                f"registry {self.registry}'s token service gave no token for {image} "
                f"(status {response.status_code})"
            )
        self._tokens[scope] = token
        return {"headers": {"Authorization": f"Bearer {token}"}}

    def _request(
        self,
        method: str,
        url: str,
        image: str,
        headers: dict[str, str] | None = None,
        **options: object,
    ) -> requests.Response:
        """One request, retried on timeouts, broken connections, 429 and 5xx."""
        headers = {"Accept": MANIFEST_TYPES, "User-Agent": USER_AGENT, **(headers or {})}
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=True,
                    **options,  # type: ignore[arg-type]
                )
            except requests.Timeout:
                problem = f"no answer within {self.timeout:g} s"
                continue
            except requests.ConnectionError as error:
                problem = f"cannot connect ({_reason(error)})"
                continue
            if response.status_code not in RETRIED_STATUSES:
                return response
            problem = f"it answered {response.status_code}"
        raise RegistryError(
            f"registry {self.registry} cannot be asked whether {image} exists: {problem} "
            f"(tried {self.retries + 1} times)"
        )


def _reason(error: requests.ConnectionError) -> str:
    """The innermost cause of a connection failure, e.g. 'Connection refused'."""
    cause: BaseException = error
    for _ in range(10):  # requests -> urllib3 -> socket: a short chain, but never trust it
        if cause.__context__ is None:
            break
        cause = cause.__context__
    text = str(cause)
    return text.rsplit("] ", 1)[-1] if "] " in text else type(cause).__name__
