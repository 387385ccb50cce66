"""For the sync-consul tests: a platform repository whose rendered tree is committed (real
git), pointed at a loopback Consul, and the CLI run in this process against it."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from testsupport.gitfixtures import git
from testsupport.helpers import ROOT, platform_dir

PREFIX = "modelship/models/"
CONSUL_VARIABLES = (
    "CONSUL_HTTP_ADDR",
    "CONSUL_HTTP_TOKEN",
    "CONSUL_HTTP_TOKEN_FILE",
    "CONSUL_HTTP_SSL",
    "CONSUL_HTTP_SSL_VERIFY",
    "CONSUL_CACERT",
    "CONSUL_CAPATH",
    "CONSUL_CLIENT_CERT",
    "CONSUL_CLIENT_KEY",
    "CONSUL_NAMESPACE",
)


def rendered_platform(folder: Path) -> Path:
    """The example platform with its rendered tree, committed in a git repository."""
    platform_dir(folder)
    shutil.copytree(ROOT / "rendered", folder / "rendered")
    git(folder, "init", "--quiet", "--initial-branch=main")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "-m", "platform and its rendered tree")
    return folder


def point_at(folder: Path, environment: str = "staging", **consul: Any) -> None:
    """Set environments.<environment>.consul in platform.yaml (``None`` removes a field)."""
    path = folder / "platform.yaml"
    data = yaml.safe_load(path.read_text())
    block = data["environments"][environment].setdefault("consul", {})
    block.update(consul)
    for name in [k for k, v in block.items() if v is None]:
        del block[name]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def set_timeout(folder: Path, seconds: float) -> None:
    path = folder / "platform.yaml"
    data = yaml.safe_load(path.read_text())
    data["consul"]["timeout"] = seconds
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def kv_path(folder: Path, environment: str = "staging") -> Path:
    return folder / "rendered" / environment / "consul" / "kv.json"


def entries(folder: Path, environment: str = "staging") -> list[dict[str, Any]]:
    return json.loads(kv_path(folder, environment).read_text())


def decoded(listed: list[dict[str, Any]]) -> dict[str, bytes]:
    return {e["key"]: base64.b64decode(e["value"]) for e in listed}


def entry(key: str, value: str) -> dict[str, Any]:
    return {"flags": 0, "key": key, "value": base64.b64encode(value.encode()).decode()}


def commit_kv(
    folder: Path,
    listed: list[dict[str, Any]],
    environment: str = "staging",
    raw: bytes | None = None,
) -> str:
    """Commit a new kv.json, as a publish would; returns the commit."""
    path = kv_path(folder, environment)
    path.write_bytes(raw if raw is not None else json.dumps(listed, indent=1).encode())
    git(folder, "commit", "--quiet", "--all", "-m", f"{environment}: kv.json")
    return git(folder, "rev-parse", "HEAD")


def model_keys(listed: list[dict[str, Any]], model: str) -> list[str]:
    return [e["key"] for e in listed if e["key"].startswith(f"{PREFIX}{model}/")]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


# -- TLS material for a loopback Consul on https --------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def certificates(folder: Path) -> Certificates:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    folder.mkdir(parents=True, exist_ok=True)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    def write_cert(cert: x509.Certificate, path: Path) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Consul Agent CA"))
        .issuer_name(name("Consul Agent CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common: str, usage: x509.ObjectIdentifier, server: bool) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        return key, builder.sign(ca_key, hashes.SHA256())

    server_key, server_cert = leaf("server.dc1.consul", ExtendedKeyUsageOID.SERVER_AUTH, True)
    client_key, client_cert = leaf("modelship", ExtendedKeyUsageOID.CLIENT_AUTH, False)
    return Certificates(
        ca=write_cert(ca, folder / "consul-agent-ca.pem"),
        server_cert=write_cert(server_cert, folder / "dc1-server-consul-0.pem"),
        server_key=write_key(server_key, folder / "dc1-server-consul-0-key.pem"),
        client_cert=write_cert(client_cert, folder / "dc1-client-consul-0.pem"),
        client_key=write_key(client_key, folder / "dc1-client-consul-0-key.pem"),
    )
