"""The example model-repo workflow's dispatch step, run with bash, jq and curl as the runner
would, against a loopback server speaking GitHub's "create a repository dispatch event"
endpoint; what it sends is what Modelship reads back from the platform's event payload."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from generator.present import github_actions
from testsupport.github_runner import (
    HEAD_SHA,
    push_payload,
    repository_dispatch_payload,
    run_step,
    runner,
)
from testsupport.helpers import ROOT, tool

WORKFLOW = yaml.safe_load(
    (ROOT / "examples/model-repo/.github/workflows/modelship.yml").read_text()
)
JOB = WORKFLOW["jobs"]["notify-platform"]
TOKEN = "github_pat_11AAAAAAA0loopbacktoken"


class DispatchAPI(BaseHTTPRequestHandler):
    """POST /repos/{owner}/{repo}/dispatches as GitHub answers it: 204 on success, 401 for
    bad credentials, 404 for an unknown repository, 422 without an event_type."""

    known_repositories = ("acme/modelship",)
    received: list

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"message": "Bad credentials", "status": "401"})
        parts = self.path.split("/")
        repository = "/".join(parts[2:4])
        if len(parts) != 5 or parts[4] != "dispatches" or repository not in self.known_repositories:
            return self.answer(404, {"message": "Not Found", "status": "404"})
        event = json.loads(body)
        if not event.get("event_type"):
            return self.answer(422, {"message": "Invalid request.", "status": "422"})
        return self.answer(204, None)

    def answer(self, status, document):
        data = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def github_api():
    received = []
    handler = type("Handler", (DispatchAPI,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def notify(tmp_path, api_url, token):
    """The notify-platform job's step, on a push to acme/churn-model's default branch."""
    tool("jq")
    tool("curl")
    step = runner(tmp_path, "acme/churn-model", "push", push_payload("acme/churn-model"))
    env = {
        **step.env,
        **JOB["env"],
        "GITHUB_API_URL": api_url,
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }
    [dispatch] = JOB["steps"]
    contexts = {"secrets.MODELSHIP_DISPATCH_TOKEN": token}
    return run_step(dispatch, env, contexts, cwd=step.workspace, temp=tmp_path)


def test_a_push_sends_model_changed_with_the_repository_to_the_platform(tmp_path, github_api):
    api_url, received = github_api
    result = notify(tmp_path, api_url, TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    [request] = received
    assert request["path"] == "/repos/acme/modelship/dispatches"
    assert request["headers"]["Accept"] == "application/vnd.github+json"
    assert request["headers"]["X-GitHub-Api-Version"] == "2022-11-28"
    sent = json.loads(request["body"])
    assert sent == {
        "event_type": "model-changed",
        "client_payload": {"repository": "acme/churn-model", "sha": HEAD_SHA},
    }
    # GitHub delivers it to the platform repository's workflow as a repository_dispatch event
    payload = repository_dispatch_payload(
        "acme/modelship", sent["event_type"], sent["client_payload"]
    )
    event = github_actions.Event("repository_dispatch", payload, "event.json")
    assert event.changed_model_repository() == "acme/churn-model"


def test_without_the_secret_the_step_fails_with_an_annotation(tmp_path, github_api):
    api_url, received = github_api
    result = notify(tmp_path, api_url, "")
    assert result.returncode == 1
    assert result.stdout.startswith(
        "::error title=Modelship::the secret MODELSHIP_DISPATCH_TOKEN is not set"
    )
    assert received == []


def test_a_rejected_token_fails_the_step_with_githubs_message(tmp_path, github_api):
    api_url, received = github_api
    result = notify(tmp_path, api_url, "expired-token")
    assert result.returncode != 0
    assert "Bad credentials" in result.stdout
    assert len(received) == 1
