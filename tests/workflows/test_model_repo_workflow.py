"""The example model-repo workflow's dispatch step, run with bash, jq and curl as the runner
would, against a loopback server speaking GitHub's "create a workflow dispatch event"
endpoint (the one a token with Actions: write, and no Contents access, may call); what it
sends is an input the platform's render workflow declares."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import yaml

from testsupport.github_runner import (
    push_payload,
    run_step,
    runner,
)
from testsupport.helpers import ROOT, tool

WORKFLOW = yaml.safe_load(
    (ROOT / "examples/model-repo/.github/workflows/modelship.yml").read_text()
)
JOB = WORKFLOW["jobs"]["notify-platform"]
TOKEN = "github_pat_11AAAAAAA0loopbacktoken"


RENDER = yaml.safe_load((ROOT / "scaffold/.github/workflows/render.yml").read_text())
DECLARED_INPUTS = set(RENDER[True]["workflow_dispatch"]["inputs"])  # PyYAML reads `on` as True


class DispatchAPI(BaseHTTPRequestHandler):
    """POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches as GitHub answers
    it: 204 on success, 401 for bad credentials, 404 for an unknown repository or workflow,
    422 without a ref, for a branch that does not exist, or for inputs the workflow does not
    declare ("Unexpected inputs provided")."""

    repositories: ClassVar = {"acme/ml-platform": {"render.yml": DECLARED_INPUTS}}
    branches = ("main",)
    received: list

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"message": "Bad credentials", "status": "401"})
        parts = self.path.split("/")
        repository = "/".join(parts[2:4])
        workflows = self.repositories.get(repository, {})
        if len(parts) != 8 or parts[4:6] != ["actions", "workflows"] or parts[7] != "dispatches":
            return self.answer(404, {"message": "Not Found", "status": "404"})
        if parts[6] not in workflows:
            return self.answer(404, {"message": "Not Found", "status": "404"})
        event = json.loads(body)
        if "ref" not in event:
            return self.answer(422, {"message": 'Invalid request.\n\n"ref" wasn\'t supplied.'})
        if event["ref"] not in self.branches:
            return self.answer(422, {"message": f"No ref found for: {event['ref']}"})
        unexpected = set(event.get("inputs", {})) - workflows[parts[6]]
        if unexpected:
            return self.answer(
                422, {"message": f"Unexpected inputs provided: {sorted(unexpected)}"}
            )
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


def test_a_push_starts_the_platforms_render_for_this_repository(tmp_path, github_api):
    api_url, received = github_api
    result = notify(tmp_path, api_url, TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    [request] = received
    assert request["path"] == "/repos/acme/ml-platform/actions/workflows/render.yml/dispatches"
    assert request["headers"]["Accept"] == "application/vnd.github+json"
    assert request["headers"]["X-GitHub-Api-Version"] == "2022-11-28"
    sent = json.loads(request["body"])
    assert sent == {"ref": "main", "inputs": {"repository": "acme/churn-model"}}
    # the render workflow passes its input to `modelship publish --repository`
    publish = RENDER["jobs"]["publish"]["steps"][-1]
    assert publish["env"]["REPOSITORY"] == "${{ inputs.repository }}"
    assert 'args+=(--repository "$REPOSITORY")' in publish["run"]


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
