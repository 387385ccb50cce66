"""The registry gate's client (generator/registry.py) against a real registry on loopback:
Debian's docker-registry, open, with htpasswd (basic) auth, and with token auth."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from generator.registry import Credentials, ImageReference, RegistryClient, RegistryError
from testsupport.registry_server import PASSWORD, USERNAME, free_port, push_image, running_registry

COMMIT7 = "4f1255f"


def client(registry, credentials=None, **options):
    return RegistryClient(registry.host, credentials, scheme="http", backoff=0.01, **options)


@pytest.fixture(scope="module")
def open_registry(tmp_path_factory):
    with running_registry(tmp_path_factory.mktemp("open")) as (registry, _):
        push_image(registry, "models/churn", COMMIT7)
        yield registry


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory):
    with running_registry(tmp_path_factory.mktemp("basic"), "htpasswd") as (registry, _):
        push_image(registry, "models/churn", COMMIT7)
        yield registry


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory):
    with running_registry(tmp_path_factory.mktemp("token"), "token") as (registry, tokens):
        push_image(registry, "models/churn", COMMIT7, tokens)
        yield registry, tokens


RIGHT = Credentials(USERNAME, PASSWORD)
WRONG = Credentials(USERNAME, "not-the-password")


def test_a_pushed_image_exists_and_an_absent_tag_or_name_does_not(open_registry):
    registry = client(open_registry)
    assert registry.exists("models/churn", COMMIT7) is True
    assert registry.exists("models/churn", "0000000") is False
    assert registry.exists("models/nobody", COMMIT7) is False


def test_an_image_pushed_later_is_found_by_the_next_question(open_registry):
    registry = client(open_registry)
    assert registry.exists("models/late", COMMIT7) is False
    push_image(open_registry, "models/late", COMMIT7)
    assert registry.exists("models/late", COMMIT7) is True


def test_basic_auth_with_the_right_credentials(basic_registry):
    registry = client(basic_registry, RIGHT)
    assert registry.exists("models/churn", COMMIT7) is True
    assert registry.exists("models/churn", "0000000") is False


def test_basic_auth_with_wrong_credentials_is_a_clear_error_naming_the_registry(basic_registry):
    with pytest.raises(RegistryError) as raised:
        client(basic_registry, WRONG).exists("models/churn", COMMIT7)
    message = str(raised.value)
    assert message == (
        f"registry {basic_registry.host} refused the credentials for "
        f"{basic_registry.host}/models/churn:{COMMIT7} (user {USERNAME}): check the registry's "
        "username and password"
    )
    assert "not-the-password" not in message + repr(WRONG)


def test_basic_auth_without_credentials_says_they_are_needed(basic_registry):
    with pytest.raises(RegistryError, match=f"registry {basic_registry.host} needs credentials"):
        client(basic_registry).exists("models/churn", COMMIT7)


def test_token_auth_fetches_a_bearer_token_for_the_pull_scope(token_registry):
    registry, tokens = token_registry
    asked = client(registry, RIGHT)
    assert asked.exists("models/churn", COMMIT7) is True
    assert asked.exists("models/churn", "0000000") is False  # the token is reused
    assert tokens.requests[-1]["scope"] == ["repository:models/churn:pull"]
    assert tokens.requests[-1]["service"] == ["modelship-test-registry"]


def test_token_auth_with_wrong_credentials_is_a_clear_error(token_registry):
    registry, _ = token_registry
    with pytest.raises(RegistryError) as raised:
        client(registry, WRONG).exists("models/churn", COMMIT7)
    assert str(raised.value) == (
        f"registry {registry.host}'s token service refused the credentials for "
        f"{registry.host}/models/churn:{COMMIT7} (user {USERNAME}): check the registry's "
        "username and password"
    )


def test_a_registry_that_is_down_is_an_error_after_bounded_retries():
    host = f"127.0.0.1:{free_port()}"
    pauses = []
    registry = RegistryClient(host, scheme="http", retries=2, backoff=0.01, sleep=pauses.append)
    with pytest.raises(RegistryError) as raised:
        registry.exists("models/churn", COMMIT7)
    assert str(raised.value) == (
        f"registry {host} cannot be asked whether {host}/models/churn:{COMMIT7} exists: "
        "cannot connect (Connection refused) (tried 3 times)"
    )
    assert pauses == [0.01, 0.02]


@pytest.mark.parametrize(
    ("image", "parsed"),
    [
        (
            "registry.acme.example/models/churn:4f1255f",
            ("registry.acme.example", "models/churn", "4f1255f"),
        ),
        ("127.0.0.1:5000/churn:abc", ("127.0.0.1:5000", "churn", "abc")),
    ],
)
def test_image_references_split_into_registry_repository_and_tag(image, parsed):
    reference = ImageReference.parse(image)
    assert (reference.registry, reference.repository, reference.tag) == parsed
    assert str(reference) == image


@pytest.mark.parametrize("image", ["churn:abc", "registry.acme.example/churn", "a/b:c/d"])
def test_a_reference_without_registry_or_tag_is_refused(image):
    with pytest.raises(ValueError, match="not an image reference"):
        ImageReference.parse(image)


class Flaky(BaseHTTPRequestHandler):
    """A registry front that answers 503 to its first two requests (an overloaded proxy)."""

    answers: ClassVar[list[int]] = [503, 503, 200]

    def do_HEAD(self) -> None:
        self.send_response(self.answers.pop(0) if self.answers else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_5xx_answers_are_retried_with_backoff():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        pauses = []
        host = f"127.0.0.1:{server.server_address[1]}"
        registry = RegistryClient(host, scheme="http", retries=3, backoff=0.5, sleep=pauses.append)
        assert registry.exists("models/churn", COMMIT7) is True
        assert pauses == [0.5, 1.0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class BasicOnly(BaseHTTPRequestHandler):
    """A registry front that wants basic auth and counts the requests it gets."""

    seen: ClassVar[list[bool]] = []  # per request: whether it carried credentials

    def do_HEAD(self) -> None:
        authorized = self.headers.get("Authorization", "").startswith("Basic ")
        self.seen.append(authorized)
        self.send_response(200 if authorized else 401)
        if not authorized:
            self.send_header("WWW-Authenticate", 'Basic realm="registry"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_after_one_basic_challenge_the_credentials_go_with_every_request():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BasicOnly)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        registry = RegistryClient(host, RIGHT, scheme="http")
        assert [registry.exists("models/churn", tag) for tag in ("a", "b", "c")] == [True] * 3
        assert BasicOnly.seen == [False, True, True, True]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
