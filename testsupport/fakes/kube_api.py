"""A loopback Kubernetes API server: the shapes of the API's documented answers for what
``modelship status`` reads — get a Namespace, list and get Deployments and Pods (with
equality ``labelSelector``s) — with bearer-token authentication and the errors a real server
gives: 401 without the token, 403 ``Forbidden`` for a namespace the token may not read, 404
``NotFound`` for a namespace or object that does not exist (a list in a missing namespace
is, as on a real server, an empty list), and a server that answers too late. ``misanswers``
gives a path raw bytes instead (200), as a proxy or a server that is not Kubernetes would.

Objects are held as the API serves them (``apps/v1`` Deployment, ``v1`` Pod, ``v1``
Namespace); ``deployment()`` and ``pod()`` build them as a controller would leave them.
Watch is not served. The real ``kubernetes`` client is what the tests drive against it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from testsupport.fakes.http import LoopbackServer, serve_in_background, stop_serving

CREATED = "2026-12-01T09:00:00Z"
LIST_KINDS = {"deployments": ("apps/v1", "DeploymentList"), "pods": ("v1", "PodList")}


def status(code: int, reason: str, message: str, name: str = "", kind: str = "") -> dict:
    """A ``metav1.Status``, as the API server answers every error."""
    details: dict[str, Any] = {"name": name, "kind": kind} if name else {}
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }


def deployment(
    name: str,
    namespace: str,
    image: str,
    *,
    labels: dict[str, str],
    replicas: int = 1,
    ready: int | None = None,
    updated: int | None = None,
    generation: int = 1,
    observed: int | None = None,
    stuck: bool = False,
) -> dict[str, Any]:
    """A Deployment as the API serves it, its status as the controller left it."""
    ready = replicas if ready is None else ready
    updated = replicas if updated is None else updated
    progressing = {
        "type": "Progressing",
        "status": "False" if stuck else "True",
        "reason": "ProgressDeadlineExceeded" if stuck else "NewReplicaSetAvailable",
        "message": f'ReplicaSet "{name}-5d8f9c7b6" has timed out progressing.'
        if stuck
        else f'ReplicaSet "{name}-5d8f9c7b6" has successfully progressed.',
        "lastUpdateTime": CREATED,
        "lastTransitionTime": CREATED,
    }
    selector = {k: v for k, v in labels.items() if k.startswith("app.kubernetes.io/")}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "resourceVersion": "1000",
            "generation": generation,
            "creationTimestamp": CREATED,
            "labels": labels,
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "model", "image": image}]},
            },
            "strategy": {"type": "RollingUpdate"},
        },
        "status": {
            "observedGeneration": generation if observed is None else observed,
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": replicas - ready,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if ready else "False",
                    "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability.",
                    "lastUpdateTime": CREATED,
                    "lastTransitionTime": CREATED,
                },
                progressing,
            ],
        },
    }


def pod(name: str, namespace: str, image: str, labels: dict[str, str], ready: bool = True) -> dict:
    """A running Pod: ``status.containerStatuses`` says which image it actually runs."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "resourceVersion": "1001",
            "creationTimestamp": CREATED,
            "labels": labels,
        },
        "spec": {"containers": [{"name": "model", "image": image}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "model",
                    "image": image,
                    "imageID": f"{image.rsplit(':', 1)[0]}@sha256:{'0' * 64}",
                    "ready": ready,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": CREATED}},
                }
            ],
        },
    }


def _matches(selector: str, labels: dict[str, str]) -> bool:
    """An equality-based label selector (``a=b,c==d,e!=f``), as the API server reads it."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        else:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
    return True


class FakeKubernetes:
    """The API server: ``namespaces`` that exist, objects by (resource, namespace, name)."""

    def __init__(self, token: str = "secret-token") -> None:
        self.token = token
        self.namespaces: set[str] = set()
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.forbidden: set[str] = set()  # namespaces the token may not read
        self.delay = 0.0  # seconds before each answer
        self.misanswers: dict[str, bytes] = {}  # path (no query) → the body it is answered
        self.requests: list[str] = []
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()  # ends a delay early when the server stops

    def add(self, obj: dict[str, Any]) -> None:
        resource = {"Deployment": "deployments", "Pod": "pods"}[obj["kind"]]
        meta = obj["metadata"]
        self.namespaces.add(meta["namespace"])
        self.objects[(resource, meta["namespace"], meta["name"])] = obj

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, token: str | None = None) -> str:
        """A kubeconfig whose current context is this server, with the bearer token."""
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "loopback", "cluster": {"server": self.url}}],
                "users": [{"name": "operator", "user": {"token": token or self.token}}],
                "contexts": [
                    {"name": "loopback", "context": {"cluster": "loopback", "user": "operator"}}
                ],
                "current-context": "loopback",
            }
        )

    def start(self) -> FakeKubernetes:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append(self.path)
                if fake.delay:
                    fake._release.wait(fake.delay)
                code, data = fake.reply(self.path, self.headers.get("Authorization", ""))
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = LoopbackServer(("127.0.0.1", 0), Handler)
        self._thread = serve_in_background(self._server, "fake-kubernetes")
        return self

    def stop(self) -> None:
        self._release.set()
        stop_serving(self._server, self._thread)

    def __enter__(self) -> FakeKubernetes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reply(self, target: str, authorization: str) -> tuple[int, bytes]:
        """The status and body the server sends: a misanswer for its path, or the API's."""
        misanswer = self.misanswers.get(urlsplit(target).path)
        if misanswer is not None:
            return 200, misanswer
        code, body = self.answer(target, authorization)
        return code, json.dumps(body).encode()

    def answer(self, target: str, authorization: str) -> tuple[int, dict[str, Any]]:
        if authorization != f"Bearer {self.token}":
            return 401, status(401, "Unauthorized", "Unauthorized")
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        segments = [s for s in parts.path.split("/") if s]
        core = segments[:2] == ["api", "v1"]
        apps = segments[:3] == ["apis", "apps", "v1"]
        rest = segments[2:] if core else segments[3:] if apps else None
        if rest is None or len(rest) < 2 or rest[0] != "namespaces":
            return 404, status(404, "NotFound", "the server could not find the requested resource")
        namespace = rest[1]
        if len(rest) == 2 and core:  # GET /api/v1/namespaces/{name}
            if namespace in self.forbidden:
                return 403, self._forbidden("get", "namespaces", "", namespace)
            if namespace not in self.namespaces:
                return 404, status(
                    404, "NotFound", f'namespaces "{namespace}" not found', namespace, "namespaces"
                )
            return 200, {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": namespace,
                    "uid": f"uid-{namespace}",
                    "creationTimestamp": CREATED,
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
        resource = rest[2] if len(rest) > 2 else ""
        if (resource == "pods") != core or resource not in LIST_KINDS:
            return 404, status(404, "NotFound", "the server could not find the requested resource")
        if namespace in self.forbidden:
            verb = "get" if len(rest) > 3 else "list"
            return 403, self._forbidden(verb, resource, "apps" if apps else "", namespace)
        if len(rest) > 3:
            found = self.objects.get((resource, namespace, rest[3]))
            if found is None:
                return 404, status(
                    404, "NotFound", f'{resource} "{rest[3]}" not found', rest[3], resource
                )
            return 200, found
        selector = query.get("labelSelector", "")
        items = [
            obj
            for (kind, ns, _), obj in sorted(self.objects.items())
            if kind == resource and ns == namespace
            and _matches(selector, obj["metadata"].get("labels", {}))
        ]  # fmt: skip
        api_version, kind = LIST_KINDS[resource]
        return 200, {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"resourceVersion": "1002"},
            "items": items,
        }

    @staticmethod
    def _forbidden(verb: str, resource: str, group: str, namespace: str) -> dict[str, Any]:
        where = f'"{resource}" in API group "{group}"'
        scope = (
            f'in the namespace "{namespace}"'
            if resource != "namespaces"
            else "at the cluster scope"
        )
        return status(
            403,
            "Forbidden",
            f'{resource} is forbidden: User "system:serviceaccount:ops:operator" cannot {verb} '
            f"resource {where} {scope}",
            namespace if resource == "namespaces" else "",
            resource,
        )
