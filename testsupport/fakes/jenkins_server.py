"""A loopback Jenkins: the parts of its HTTP API that Jenkins Job Builder (through
python-jenkins) and the render workflow's build trigger use, with Jenkins' own answers.

- every request needs HTTP basic auth of the one user and API token (401 otherwise; an API
  token needs no crumb, and ``GET /crumbIssuer/api/json`` answers 404 as with CSRF
  protection satisfied by the token);
- ``GET /api/json?tree=jobs[...]`` lists the jobs (``name``, ``url``, ``color``, ``_class``),
  ``views[...]`` the views (Jenkins' ``all`` view, which is not managed);
- ``GET /job/NAME/api/json`` (``tree=name`` or ``depth``) answers 404 for a missing job;
- ``POST /createItem?name=NAME`` with a config.xml body creates a job (400 when it exists),
  ``GET``/``POST /job/NAME/config.xml`` reads and replaces its configuration,
  ``POST /job/NAME/doDelete`` deletes it (302, as Jenkins redirects), ``POST
  /job/NAME/build`` queues a build (201 with the queue item in ``Location``).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

from testsupport.fakes.http import LoopbackServer, serve_in_background, stop_serving

MANAGED = "<!-- Managed by Jenkins Job Builder -->"
FREESTYLE = "hudson.model.FreeStyleProject"
PIPELINE = "org.jenkinsci.plugins.workflow.job.WorkflowJob"


@dataclass
class Jenkins:
    user: str
    token: str
    jobs: dict[str, bytes] = field(default_factory=dict)  # name → config.xml
    builds: list[str] = field(default_factory=list)  # job names, in the order queued
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def job_class(self, name: str) -> str:
        root = ElementTree.fromstring(self.jobs[name])
        return PIPELINE if root.tag == "flow-definition" else FREESTYLE


def _handler(jenkins: Jenkins) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # the test's output stays clean
            pass

        def _authorised(self) -> bool:
            expected = base64.b64encode(f"{jenkins.user}:{jenkins.token}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def _answer(
            self,
            status: int,
            body: bytes = b"",
            kind: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("X-Jenkins", "2.479.3")
            self.send_header("Content-Type", f"{kind};charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, text: str) -> None:
            self._answer(status, text.encode())

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            query = parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with jenkins.lock:
                jenkins.requests.append((method, path))
            if not self._authorised():
                self._answer(401, b"<html>Unauthorized</html>", "text/html")
                return
            segments = [s for s in path.split("/") if s]
            with jenkins.lock:
                self._dispatch(method, segments, query, body)

        def _dispatch(self, method, segments, query, body) -> None:
            if method == "GET" and not segments:  # the dashboard, where doDelete redirects
                self._answer(200, b"<html>Dashboard [Jenkins]</html>", "text/html")
            elif segments == ["crumbIssuer", "api", "json"]:
                self._answer(404, b"<html>Not Found</html>", "text/html")
            elif method == "GET" and segments == ["api", "json"]:
                jobs = [
                    {
                        "_class": jenkins.job_class(name),
                        "name": name,
                        "url": f"{jenkins.url}/job/{name}/",
                        "color": "notbuilt",
                    }
                    for name in sorted(jenkins.jobs)
                ]
                views = [
                    {"_class": "hudson.model.AllView", "name": "all", "url": f"{jenkins.url}/"}
                ]
                self._json(
                    200, json.dumps({"_class": "hudson.model.Hudson", "jobs": jobs, "views": views})
                )
            elif method == "GET" and segments == ["view", "all", "config.xml"]:
                self._answer(
                    200,
                    b"<hudson.model.AllView><name>all</name></hudson.model.AllView>",
                    "application/xml",
                )
            elif method == "POST" and segments == ["createItem"]:
                name = query.get("name", [""])[0]
                if name in jenkins.jobs:
                    self._answer(
                        400, f"A job already exists with the name '{name}'".encode(), "text/plain"
                    )
                    return
                ElementTree.fromstring(body)  # Jenkins refuses a config.xml that is not XML
                jenkins.jobs[name] = body
                self._answer(200)
            elif len(segments) >= 2 and segments[0] == "job":
                name, rest = segments[1], segments[2:]
                if name not in jenkins.jobs:
                    self._answer(404, b"<html>Not Found</html>", "text/html")
                elif method == "GET" and rest == ["api", "json"]:
                    info = {
                        "_class": jenkins.job_class(name),
                        "name": name,
                        "fullName": name,
                        "url": f"{jenkins.url}/job/{name}/",
                        "disabled": False,
                    }
                    self._json(200, json.dumps(info))
                elif rest == ["config.xml"] and method == "GET":
                    self._answer(200, jenkins.jobs[name], "application/xml")
                elif rest == ["config.xml"] and method == "POST":
                    ElementTree.fromstring(body)
                    jenkins.jobs[name] = body
                    self._answer(200)
                elif method == "POST" and rest == ["doDelete"]:
                    del jenkins.jobs[name]
                    self._answer(302, headers={"Location": f"{jenkins.url}/"})
                elif method == "POST" and rest == ["build"]:
                    jenkins.builds.append(name)
                    number = len(jenkins.builds)
                    self._answer(201, headers={"Location": f"{jenkins.url}/queue/item/{number}/"})
                else:
                    self._answer(404, b"<html>Not Found</html>", "text/html")
            else:
                self._answer(404, b"<html>Not Found</html>", "text/html")

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


class JenkinsServer:
    """A loopback Jenkins on 127.0.0.1, stopped by ``stop()`` (or as a context manager)."""

    def __init__(self, user: str, token: str) -> None:
        self.state = Jenkins(user, token)
        self._server = LoopbackServer(("127.0.0.1", 0), _handler(self.state))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.state.url = self.url
        self._thread = serve_in_background(self._server, "fake-jenkins")

    def stop(self) -> None:
        stop_serving(self._server, self._thread)

    def __enter__(self) -> JenkinsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
