"""What a cluster runs of the models, read with the ``kubernetes`` client (kubeconfig, or the
pod's in-cluster service account): per team namespace, whether it exists, the Modelship
Deployments in it and the images their pods actually run. Read-only: get and list only.

Every failure to read is one ``ExternalError`` sentence (exit 3) naming what could not be
read and why; a kubeconfig that cannot be loaded is a ``ConfigError`` (exit 2).

The client sends the requests (kubeconfig, TLS, token, timeout), but its answers are taken as
bytes (``_preload_content=False``) and read here, field by field, not through its models: on
an answer of another shape those raise whatever their validation does (pydantic's
ValidationError in kubernetes 37, other errors in older clients), which cannot be told apart
from a bug in a call, and what a server answers must never be reported as a bug.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from generator.errors import ConfigError, ExternalError
from generator.live_status import ClusterView, Workload
from generator.rendering.deployment import MANAGED_BY
from generator.wording import json_kind

DEFAULT_TIMEOUT = 10.0  # seconds for one answer of the API server
OWN = f"app.kubernetes.io/managed-by={MANAGED_BY},app.kubernetes.io/component=model"
INSTANCE = "app.kubernetes.io/instance"
MODEL_CONTAINER = "model"


def api_client(kubeconfig: Path | None, context: str | None) -> client.ApiClient:
    """A client from ``kubeconfig`` (default: $KUBECONFIG or ~/.kube/config) or, without one,
    the pod's in-cluster configuration."""
    configuration = client.Configuration()
    try:
        if kubeconfig is not None or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None,
                context=context,
                client_configuration=configuration,
            )
        else:
            config.load_incluster_config(client_configuration=configuration)
    except (ConfigException, OSError, ValueError, TypeError) as error:
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise ConfigError(
            f"cannot load the Kubernetes configuration ({where}): {error}; pass --kubeconfig "
            "or run inside the cluster"
        ) from None
    configuration.retries = 0  # one answer, within --timeout: status is asked again by hand
    return client.ApiClient(configuration)


def _refused(what: str, error: ApiException) -> ExternalError:
    reason = error.reason or ""
    message = _status_message(error) or reason
    return ExternalError(
        f"the Kubernetes API refused to {what}: {error.status} {reason}: {message}"
    )


def _unanswered(what: str, error: Exception) -> ExternalError:
    return ExternalError(f"could not {what}: the Kubernetes API did not answer ({error})")


def _status_message(error: ApiException) -> str:
    """The ``message`` of the Status the API server answered with."""
    try:
        return str(json.loads(error.body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        return ""


class _Misshapen(Exception):
    """An answer not in the shape the API documents; the message says where it is not."""


@contextmanager
def _answering(server: str, what: str) -> Iterator[None]:
    """Turns a failure to ``what`` — no answer, a refusal, an answer in another shape — into
    the ExternalError that says so."""
    try:
        yield
    except ApiException as error:
        raise _refused(what, error) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise _unanswered(what, error) from None
    except _Misshapen as error:
        raise ExternalError(
            f"the Kubernetes API at {server} answered wrongly when asked to {what}: {error}"
        ) from None


@dataclass(frozen=True)
class _Node:
    """A JSON object of an answer and where it is in it (``items[0].spec``). Its fields are
    read with their type checked; a field that is absent or null reads as its default."""

    fields: dict[str, Any]
    path: str

    def object(self, key: str) -> _Node:
        return _Node(self._field(key, dict, "an object", {}), self._at(key))

    def objects(self, key: str) -> list[_Node]:
        found: list[_Node] = []
        for position, item in enumerate(self._field(key, list, "a list", [])):
            where = f"{self._at(key)}[{position}]"
            if not isinstance(item, dict):
                raise _Misshapen(f"{where} is {json_kind(item)}, not an object")
            found.append(_Node(item, where))
        return found

    def text(self, key: str) -> str:
        return self._field(key, str, "a string", "")

    def number(self, key: str, default: int = 0) -> int:
        return self._field(key, int, "an integer", default)

    def labels(self) -> dict[str, str]:
        labels = self.object("labels")
        for value in labels.fields.values():
            if not isinstance(value, str):
                raise _Misshapen(f"{labels.path} holds {json_kind(value)}, not only strings")
        return labels.fields

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _field(self, key: str, kind: type, said: str, default: Any) -> Any:
        value = self.fields.get(key)
        if value is None:
            return default
        if type(value) is bool or not isinstance(value, kind):  # a bool is an int too
            raise _Misshapen(f"{self._at(key)} is {json_kind(value)}, not {said}")
        return value


def _fetch(call: Any, kind: str, **kwargs: Any) -> _Node:
    """The answer to one request, which must be an object of ``kind`` (e.g. ``PodList``)."""
    data = call(**kwargs, _preload_content=False).data
    try:
        answer = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Misshapen("its answer is not UTF-8 text") from None
    except ValueError as error:
        raise _Misshapen(f"its answer is not JSON ({error})") from None
    except RecursionError:
        raise _Misshapen("its answer is JSON nested too deeply") from None
    if not isinstance(answer, dict) or answer.get("kind") != kind:
        shown = "an object of another kind" if isinstance(answer, dict) else json_kind(answer)
        raise _Misshapen(f"its answer is {shown}, not a {kind}")
    return _Node(answer, "")


def _namespace_exists(server: str, core: client.CoreV1Api, namespace: str, timeout: float) -> bool:
    with _answering(server, f"get namespace {namespace}"):
        try:
            _fetch(core.read_namespace, "Namespace", name=namespace, _request_timeout=timeout)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
    return True


def read(
    namespaces: Iterable[str],
    *,
    kubeconfig: Path | None = None,
    context: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ClusterView:
    """The Modelship Deployments of ``namespaces`` and what their pods run."""
    with api_client(kubeconfig, context) as api:
        server = api.configuration.host
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        missing: set[str] = set()
        workloads: dict[tuple[str, str], Workload] = {}
        for namespace in sorted(set(namespaces)):
            if not _namespace_exists(server, core, namespace, timeout):
                missing.add(namespace)
                continue
            selected = {"namespace": namespace, "label_selector": OWN, "_request_timeout": timeout}
            with _answering(server, f"list the pods in {namespace}"):
                pods = _fetch(core.list_namespaced_pod, "PodList", **selected)
                running = _running_images(pods.objects("items"))
            with _answering(server, f"list the deployments in {namespace}"):
                deployments = _fetch(apps.list_namespaced_deployment, "DeploymentList", **selected)
                for item in deployments.objects("items"):
                    workload = _workload(item, running)
                    workloads[(workload.namespace, workload.name)] = workload
        return ClusterView(frozenset(missing), workloads)


def _running_images(pods: list[_Node]) -> dict[str, set[str]]:
    """Deployment (the pods' instance label) → the images its pods' model containers run."""
    found: dict[str, set[str]] = {}
    for item in pods:
        owner = item.object("metadata").labels().get(INSTANCE, "")
        for container in item.object("status").objects("containerStatuses"):
            if container.text("name") == MODEL_CONTAINER and container.text("image"):
                found.setdefault(owner, set()).add(container.text("image"))
    return found


def _workload(item: _Node, running: dict[str, set[str]]) -> Workload:
    meta, spec, state = item.object("metadata"), item.object("spec"), item.object("status")
    for required in ("name", "namespace"):
        if not meta.text(required):
            raise _Misshapen(f"{meta.path} has no {required}")
    name, namespace = meta.text("name"), meta.text("namespace")
    containers = spec.object("template").object("spec").objects("containers")
    image = next((c.text("image") for c in containers if c.text("name") == MODEL_CONTAINER), "")
    desired = spec.number("replicas", default=1)
    ready, updated = state.number("readyReplicas"), state.number("updatedReplicas")
    stuck = next(
        (
            c.text("message") or c.text("reason")
            for c in state.objects("conditions")
            if c.text("type") == "Progressing" and c.text("reason") == "ProgressDeadlineExceeded"
        ),
        "",
    )
    labels = meta.labels()
    return Workload(
        name=name,
        namespace=namespace,
        model=labels.get("app.kubernetes.io/name", name),
        desired=desired,
        ready=ready,
        updated=updated,
        image=image,
        running=tuple(sorted(running.get(labels.get(INSTANCE, name), set()))),
        rolling_out=state.number("observedGeneration") < meta.number("generation")
        or updated < desired
        or ready < desired,
        stuck=stuck,
    )
