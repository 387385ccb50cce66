"""What a cluster runs of the models, read with the ``kubernetes`` client (kubeconfig, or the
pod's in-cluster service account): per team namespace, whether it exists, the Modelship
Deployments in it and the images their pods actually run. Read-only: get and list only.

Every failure to read is one ``ExternalError`` sentence (exit 3) naming what could not be
read and why; a kubeconfig that cannot be loaded is a ``ConfigError`` (exit 2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from generator.errors import ConfigError, ExternalError
from generator.live_status import ClusterView, Workload
from generator.rendering.deployment import MANAGED_BY

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


def _call(what: str, call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except ApiException as error:
        raise _refused(what, error) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise _unanswered(what, error) from None


def _status_message(error: ApiException) -> str:
    """The ``message`` of the Status the API server answered with."""
    try:
        return str(json.loads(error.body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        return ""


def _namespace_exists(core: client.CoreV1Api, namespace: str, timeout: float) -> bool:
    what = f"get namespace {namespace}"
    try:
        core.read_namespace(namespace, _request_timeout=timeout)
    except ApiException as error:
        if error.status == 404:
            return False
        raise _refused(what, error) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise _unanswered(what, error) from None
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
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        missing: set[str] = set()
        workloads: dict[tuple[str, str], Workload] = {}
        for namespace in sorted(set(namespaces)):
            if not _namespace_exists(core, namespace, timeout):
                missing.add(namespace)
                continue
            deployments = _call(
                f"list the deployments in {namespace}",
                apps.list_namespaced_deployment,
                namespace=namespace,
                label_selector=OWN,
                _request_timeout=timeout,
            )
            pods = _call(
                f"list the pods in {namespace}",
                core.list_namespaced_pod,
                namespace=namespace,
                label_selector=OWN,
                _request_timeout=timeout,
            )
            running = _running_images(pods.items)
            for item in deployments.items:
                workload = _workload(item, running)
                workloads[(workload.namespace, workload.name)] = workload
        return ClusterView(frozenset(missing), workloads)


def _running_images(pods: list[Any]) -> dict[str, set[str]]:
    """Deployment (the pods' instance label) → the images its pods' model containers run."""
    found: dict[str, set[str]] = {}
    for item in pods:
        owner = (item.metadata.labels or {}).get(INSTANCE, "")
        for container in (item.status and item.status.container_statuses) or []:
            if container.name == MODEL_CONTAINER and container.image:
                found.setdefault(owner, set()).add(container.image)
    return found


def _workload(item: Any, running: dict[str, set[str]]) -> Workload:
    meta, spec, state = item.metadata, item.spec, item.status
    containers = spec.template.spec.containers or []
    image = next((c.image for c in containers if c.name == MODEL_CONTAINER), "")
    desired = spec.replicas if spec.replicas is not None else 1
    ready = (state and state.ready_replicas) or 0
    updated = (state and state.updated_replicas) or 0
    observed = (state and state.observed_generation) or 0
    conditions = (state and state.conditions) or []
    stuck = next(
        (
            c.message or c.reason
            for c in conditions
            if c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"
        ),
        "",
    )
    labels = meta.labels or {}
    return Workload(
        name=meta.name,
        namespace=meta.namespace,
        model=labels.get("app.kubernetes.io/name", meta.name),
        desired=desired,
        ready=ready,
        updated=updated,
        image=image,
        running=tuple(sorted(running.get(labels.get(INSTANCE, meta.name), set()))),
        rolling_out=observed < (meta.generation or 0) or updated < desired or ready < desired,
        stuck=stuck,
    )
