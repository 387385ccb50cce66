"""A real OCI registry on loopback: Debian's docker-registry (CNCF distribution), with no auth,
htpasswd (basic) auth, or token auth against a token service of the test's own."""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import bcrypt
import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from testsupport import processes

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
USERNAME, PASSWORD = "jenkins", "s3cret-registry-password"
TOKEN_ISSUER, TOKEN_SERVICE = "modelship-test-tokens", "modelship-test-registry"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def registry_binary() -> str:
    found = shutil.which("docker-registry")
    if found is None:
        pytest.fail(
            "docker-registry is not installed; run scripts/bootstrap --test, which installs it"
        )
    return found


@dataclass(frozen=True)
class Registry:
    host: str  # 127.0.0.1:<port>
    auth: tuple[str, str] | None  # what a pusher logs in with

    @property
    def url(self) -> str:
        return f"http://{self.host}"


class TokenService(ThreadingHTTPServer):
    """Issues the JWTs distribution's token auth verifies (x5c chain, issuer, audience,
    access claim), for USERNAME/PASSWORD only, as a registry's auth server does."""

    daemon_threads = True

    def __init__(self, folder: Path) -> None:
        super().__init__(("127.0.0.1", 0), TokenHandler)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TOKEN_ISSUER)])
        now = time.time()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(1)
            .not_valid_before(_datetime(now - 3600))
            .not_valid_after(_datetime(now + 86400))
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = folder / "token-ca.pem"
        self.bundle.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self.requests: list[dict[str, list[str]]] = []

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/token"

    def token(self, scope: str) -> str:
        kind, name, actions = scope.split(":")
        now = int(time.time())
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": USERNAME,
            "aud": TOKEN_SERVICE,
            "iat": now,
            "nbf": now - 10,
            "exp": now + 300,
            "jti": hashlib.sha1(f"{scope}{now}".encode()).hexdigest(),
            "access": [{"type": kind, "name": name, "actions": actions.split(",")}],
        }
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"x5c": [base64.b64encode(der).decode()]}
        )


def _datetime(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


class TokenHandler(BaseHTTPRequestHandler):
    server: TokenService

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.server.requests.append(query)
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._send(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            return
        scope = query.get("scope", ["repository:none:pull"])[0]
        self._send(200, {"token": self.server.token(scope)})

    def _send(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _config(folder: Path, port: int, auth: str, tokens: TokenService | None) -> Path:
    lines = [
        "version: 0.1",
        "log: {level: error, accesslog: {disabled: true}}",
        f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}}}",
        f"http: {{addr: 127.0.0.1:{port}}}",
    ]
    if auth == "htpasswd":
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        (folder / "htpasswd").write_text(f"{USERNAME}:{hashed}\n")
        lines.append(f"auth: {{htpasswd: {{realm: modelship-test, path: {folder / 'htpasswd'}}}}}")
    elif auth == "token":
        assert tokens is not None
        lines.append(
            f"auth: {{token: {{realm: '{tokens.realm}', service: {TOKEN_SERVICE}, "
            f"issuer: {TOKEN_ISSUER}, rootcertbundle: {tokens.bundle}}}}}"
        )
    config = folder / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    return config


@contextlib.contextmanager
def running_registry(
    folder: Path, auth: str = "none"
) -> Iterator[tuple[Registry, TokenService | None]]:
    """docker-registry on a free loopback port until the block ends; auth none | htpasswd | token."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = TokenService(folder) if auth == "token" else None
    thread = None
    if tokens is not None:
        thread = threading.Thread(
            target=tokens.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
    port = free_port()
    log = folder / "registry.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [registry_binary(), "serve", str(_config(folder, port, auth, tokens))],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"docker-registry exited with {process.returncode}: {log.read_text()}")
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"docker-registry did not listen within {START_TIMEOUT_S} s: {log.read_text()}"
                )
            time.sleep(0.05)
        yield (
            Registry(f"127.0.0.1:{port}", None if auth == "none" else (USERNAME, PASSWORD)),
            tokens,
        )
    finally:
        processes.stop(process, STOP_TIMEOUT_S)
        if tokens is not None:
            tokens.shutdown()
            tokens.server_close()
            assert thread is not None
            thread.join(timeout=STOP_TIMEOUT_S)


def _push_session(
    registry: Registry, repository: str, tokens: TokenService | None
) -> requests.Session:
    session = requests.Session()
    if tokens is not None:
        session.headers["Authorization"] = (
            f"Bearer {tokens.token(f'repository:{repository}:pull,push')}"
        )
    elif registry.auth is not None:
        session.auth = registry.auth
    return session


def push_image(
    registry: Registry, repository: str, tag: str, tokens: TokenService | None = None
) -> str:
    """Push a minimal OCI image (an empty config and one small layer) through the
    distribution API, as docker push does; its manifest digest."""
    session = _push_session(registry, repository, tokens)
    base = f"{registry.url}/v2/{repository}"

    def blob(data: bytes) -> dict[str, object]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        started = session.post(f"{base}/blobs/uploads/", timeout=10)
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        location = location if location.startswith("http") else registry.url + location
        separator = "&" if "?" in location else "?"
        done = session.put(f"{location}{separator}digest={digest}", data=data, timeout=10,
                           headers={"Content-Type": "application/octet-stream"})  # fmt: skip
        assert done.status_code == 201, done.text
        return {"digest": digest, "size": len(data)}

    config = blob(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    layer = blob(f"layer of {repository}:{tag}".encode())
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
    }).encode()  # fmt: skip
    put = session.put(f"{base}/manifests/{tag}", data=manifest, timeout=10,
                      headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})  # fmt: skip
    assert put.status_code == 201, put.text
    return put.headers["Docker-Content-Digest"]
