"""The real consumers of a rendered tree, each run once over the whole tree (never once per
model: the suite's time is shared), and the values they read back.

- nginx: ``nginx -t`` on every environment's gateway configuration;
- kubectl kustomize: builds every environment's Kubernetes tree, and every entry point its
  sync agents apply: ``flux/`` and ``argocd/`` (applied once by hand), and every folder
  their Kustomizations and Applications name (the platform part, each team's folder);
- kubernetes-validate --strict: every core object kustomize built, against Kubernetes'
  schemas (its own schema files and validator, built once per kind: see ``_validator``);
  every Flux and Argo CD object against its published CRD schema;
- the API server's own rules that no schema holds: object names (DNS-1123 / DNS-1035),
  label keys and values, annotation keys and their total size;
- team isolation as the agents enforce it: what a team's Flux Kustomization applies is in
  its target namespace and allowed by the Role its service account is bound to there;
  what a team's Application applies is in a destination and of a kind its AppProject
  admits;
- jenkins-jobs test: every job to Jenkins XML, parsed back;
- Consul: kv.json decodes as JSON, every value as base64 of UTF-8 text.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

from generator.rendering.targets.gateway import GATEWAY_KINDS
from generator.rendering.targets.kubernetes import TEAM_KINDS
from testsupport.helpers import tool
from testsupport.kube import crd_problems, is_crd_kind
from testsupport.nginx import nginx_command

KUBERNETES_VERSION = "1.37.0"
JJB_MARK = "<!-- Managed by Jenkins Job Builder -->"  # JJB appends it to every description
JJB_CONFIG = """\
[job_builder]
allow_empty_variables = False
keep_descriptions = False

[jenkins]
query_plugins_info = False
"""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# k8s.io/apimachinery/pkg/util/validation
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1123_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z"
)
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
ANNOTATIONS_TOTAL = 256 * 1024
# Kinds whose name is a DNS-1123 label (a Service's, a DNS-1035 label); the rest subdomains.
_LABEL_NAMED = {"Namespace": _DNS1123_LABEL, "Service": _DNS1035_LABEL}


@dataclass
class Reading:
    """What the consumers said of a tree, and what they read from it."""

    problems: list[str] = field(default_factory=list)
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # env → objects
    # What each entry point a sync agent applies builds to, by its folder in the tree.
    entry_points: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[str, ET.Element] = field(default_factory=dict)  # job name → config.xml
    consul: dict[str, dict[str, str]] = field(default_factory=dict)  # env → key → text


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def read(root: Path, environments: list[str], work: Path, *, validate_cli: bool = False) -> Reading:
    """Every consumer over the rendered tree at ``root``; ``work`` is a scratch folder.
    ``validate_cli``: also run the kubernetes-validate command itself over what kustomize
    built for the first environment (the others hold the same objects with other platform
    values; the command spends about 20 ms an object)."""
    reading = Reading()
    work.mkdir(parents=True, exist_ok=True)
    for env in environments:
        conf = (root / env / "gateway" / "nginx.conf").resolve()
        tested = _run(nginx_command(work / f"nginx-{env}", conf, "-t"))
        if tested.returncode != 0 or "[warn]" in tested.stderr:
            reading.problems.append(f"nginx -t {env}: {tested.stderr.strip()}")
        built = _run([tool("kubectl"), "kustomize", str(root / env / "kubernetes")])
        if built.returncode != 0:
            reading.problems.append(f"kubectl kustomize {env}: {built.stderr.strip()}")
            continue
        objects = [o for o in yaml.load_all(built.stdout, Loader=_Loader) if o is not None]
        reading.objects[env] = objects
        # ServiceMonitors and PrometheusRules: their CRD schemas, not Kubernetes' own.
        core = [o for o in objects if not is_crd_kind(str(o.get("apiVersion")), str(o.get("kind")))]
        if validate_cli and env == environments[0]:
            reading.problems.extend(
                _validate_command(work / f"{env}.yaml", yaml.safe_dump_all(core))
            )
        reading.problems.extend(f"{env}: {p}" for p in kubernetes_validate(core))
        reading.problems.extend(f"{env}: {p}" for o in core for p in api_server_rules(o))
        reading.problems.extend(
            f"{env}: {p}" for o in objects if o not in core for p in crd_problems(o)
        )
        reading.consul[env] = _consul(root / env / "consul" / "kv.json", reading.problems)
        _sync_entry_points(root, env, reading)
    reading.jobs = _jenkins(root / "jenkins", work / "jjb", reading.problems)
    return reading


def _kustomized(root: Path, folder: str, problems: list[str]) -> list[dict[str, Any]] | None:
    built = _run([tool("kubectl"), "kustomize", str(root / folder)])
    if built.returncode != 0:
        problems.append(f"kubectl kustomize {folder}: {built.stderr.strip()}")
        return None
    return [o for o in yaml.load_all(built.stdout, Loader=_Loader) if o is not None]


def _sync_entry_points(root: Path, env: str, reading: Reading) -> None:
    """Every folder of ``env`` a sync agent applies, built and checked as the agent and the
    API server would: ``flux/`` and ``argocd/``, then each folder their objects name."""
    problems = reading.problems
    agents = {}
    for agent in ("flux", "argocd"):
        built = _kustomized(root, f"{env}/{agent}", problems)
        if built is not None:
            agents[agent] = reading.entry_points[f"{env}/{agent}"] = built
    named = _named_folders(env, agents, problems)
    for folder in sorted(set(named) - set(reading.entry_points)):
        built = _kustomized(root, folder, problems)
        if built is not None:
            reading.entry_points[folder] = built
    for folder in sorted(named):
        built = reading.entry_points.get(folder)
        if built is None:
            continue
        core = [o for o in built if not is_crd_kind(str(o.get("apiVersion")), str(o.get("kind")))]
        problems.extend(f"{folder}: {p}" for p in kubernetes_validate(core))
        problems.extend(f"{folder}: {p}" for o in core for p in api_server_rules(o))
        problems.extend(f"{folder}: {p}" for o in built if o not in core for p in crd_problems(o))
    rbac = reading.entry_points.get(f"{env}/flux/platform", [])
    for sync in agents.get("flux", []):
        account, target = (
            sync["spec"].get("serviceAccountName"),
            sync["spec"].get("targetNamespace"),
        )
        if sync["kind"] == "Kustomization" and account is not None:
            applied = reading.entry_points.get(named_path(env, agents, sync), [])
            found = _flux_tenant_problems(sync, account, target, applied, rbac)
            problems.extend(f"{env}: {p}" for p in found)
    projects = {
        o["metadata"]["name"]: o for o in agents.get("argocd", []) if o["kind"] == "AppProject"
    }
    for app in agents.get("argocd", []):
        project = projects.get(app["spec"]["project"]) if app["kind"] == "Application" else None
        if project is not None and project["spec"].get("clusterResourceWhitelist") == []:
            applied = reading.entry_points.get(named_path(env, agents, app), [])
            problems.extend(f"{env}: {p}" for p in _argocd_tenant_problems(app, project, applied))


def _sync_prefix(env: str, agents: dict[str, list[dict[str, Any]]]) -> str | None:
    """The tree's folder in the repository the agents clone: the root Kustomization follows
    ``./<folder>/<env>/flux``."""
    for sync in agents.get("flux", []):
        path = str(sync.get("spec", {}).get("path", ""))
        if sync["kind"] == "Kustomization" and path.endswith(f"/{env}/flux"):
            return path.removeprefix("./").removesuffix(f"/{env}/flux")
    return None


def named_path(env: str, agents: dict[str, list[dict[str, Any]]], sync: dict[str, Any]) -> str:
    """The folder of the tree a Flux Kustomization or an Argo CD Application applies."""
    spec = sync["spec"]
    path = spec["path"] if sync["kind"] == "Kustomization" else spec["source"]["path"]
    prefix = _sync_prefix(env, agents) or ""
    return str(path).removeprefix("./").removeprefix(f"{prefix}/")


def _named_folders(
    env: str, agents: dict[str, list[dict[str, Any]]], problems: list[str]
) -> list[str]:
    if _sync_prefix(env, agents) is None:
        problems.append(f"{env}/flux: no Kustomization follows {env}/flux itself")
        return []
    named = {
        named_path(env, agents, o)
        for objects in agents.values()
        for o in objects
        if o["kind"] in ("Kustomization", "Application")
    }
    outside = sorted(folder for folder in named if not folder.startswith(f"{env}/"))
    problems.extend(f"{env}: a sync object applies {folder}, outside {env}/" for folder in outside)
    return sorted(named - set(outside))


# kind → (API group, resource): what an RBAC rule names for the kinds of a rendered tree.
_RESOURCES = {kind.kind: (kind.group, kind.resource) for kind in (*TEAM_KINDS, *GATEWAY_KINDS)}


def _flux_tenant_problems(
    sync: dict[str, Any],
    account: str,
    target: str | None,
    applied: list[dict[str, Any]],
    rbac: list[dict[str, Any]],
) -> list[str]:
    """Flux impersonates ``account`` (in the Kustomization's namespace) to apply ``applied``
    into ``target``: each object must land there and be writable by a Role bound to the
    account in that namespace."""
    name, home = sync["metadata"]["name"], sync["metadata"]["namespace"]
    roles = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o for o in rbac if o["kind"] == "Role"
    }
    allowed: dict[str, set[tuple[str, str]]] = {}
    for binding in (o for o in rbac if o["kind"] == "RoleBinding"):
        subjects = binding.get("subjects") or []
        if {"kind": "ServiceAccount", "name": account, "namespace": home} not in subjects:
            continue
        namespace = binding["metadata"]["namespace"]
        role = roles.get((namespace, binding["roleRef"]["name"]), {})
        for rule in role.get("rules", []):
            if "create" in rule.get("verbs", []):
                allowed.setdefault(namespace, set()).update(
                    (group, resource)
                    for group in rule["apiGroups"]
                    for resource in rule["resources"]
                )
    problems = []
    for obj in applied:
        namespace = obj.get("metadata", {}).get("namespace")
        what = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        if namespace != target:
            problems.append(f"Kustomization {name} applies {what} in {namespace}, not {target}")
        if _RESOURCES.get(str(obj.get("kind"))) not in allowed.get(str(namespace), set()):
            problems.append(f"Kustomization {name}: no Role lets {account} write {what}")
    return problems


def _argocd_tenant_problems(
    app: dict[str, Any], project: dict[str, Any], applied: list[dict[str, Any]]
) -> list[str]:
    """An Application of a project that admits no cluster-wide kind: each object it applies
    must be in one of the project's destinations and of a kind it admits there."""
    spec = project["spec"]
    places = {d.get("namespace") for d in spec.get("destinations", [])}
    kinds = {(k["group"], k["kind"]) for k in spec.get("namespaceResourceWhitelist", [])}
    problems = []
    for obj in applied:
        namespace = obj.get("metadata", {}).get("namespace")
        what = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        group = str(obj.get("apiVersion")).rpartition("/")[0]
        if namespace not in places:
            problems.append(f"Application {app['metadata']['name']} applies {what} in {namespace}")
        if (group, obj.get("kind")) not in kinds:
            problems.append(f"Application {app['metadata']['name']}: its project refuses {what}")
    return problems


def _validate_command(path: Path, built: str) -> list[str]:
    path.write_text(built, encoding="utf-8")
    command = [tool("kubernetes-validate"), "--strict", "--kubernetes-version", KUBERNETES_VERSION]
    result = _run([*command, "--quiet", str(path)])
    return (
        [] if result.returncode == 0 else [f"kubernetes-validate: {result.stdout}{result.stderr}"]
    )


@cache
def _validator(kind: str, api_version: str) -> Any:
    """kubernetes-validate's strict validator for one kind, built as its validate() builds it
    (the same schema files, registry and draft) — once per kind rather than once per object,
    which costs its CLI 20 ms for every object of a tree."""
    wanted = kv_utils.major_minor(KUBERNETES_VERSION)
    version = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= wanted][-1]
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    schema = kv_utils.schema_contents(f"{folder}/{kind.lower()}-{group}.json", KUBERNETES_VERSION)
    definitions = kv_utils.schema_contents(f"{folder}/_definitions.json", KUBERNETES_VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def kubernetes_validate(objects: list[dict[str, Any]]) -> list[str]:
    """What `kubernetes-validate --strict --kubernetes-version 1.37.0` says of each object."""
    problems = []
    for obj in objects:
        validator = _validator(str(obj.get("kind")), str(obj.get("apiVersion")))
        name = (obj.get("metadata") or {}).get("name")
        problems.extend(
            f"{obj.get('kind')}/{name}: {'.'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(obj)
        )
    return problems


def api_server_rules(obj: dict[str, Any]) -> list[str]:
    """What the API server would refuse in ``obj`` beyond its schema."""
    problems = []
    kind, metadata = obj.get("kind", "?"), obj.get("metadata") or {}
    name = str(metadata.get("name", ""))
    rule = _LABEL_NAMED.get(kind, _DNS1123_SUBDOMAIN)
    limit = 63 if kind in _LABEL_NAMED else 253
    if not rule.match(name) or len(name) > limit:
        problems.append(f"{kind} name {name!r} is not a valid name")
    for where, labels in _maps(obj, ("labels", "matchLabels")):
        for key, value in labels.items():
            if not _qualified(str(key)):
                problems.append(f"{kind}/{name} {where}: label key {key!r}")
            if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                problems.append(f"{kind}/{name} {where}: label value {value!r}")
    for where, notes in _maps(obj, ("annotations",)):
        total = sum(len(str(k)) + len(str(v)) for k, v in notes.items())
        if total > ANNOTATIONS_TOTAL:
            problems.append(f"{kind}/{name} {where}: annotations of {total} bytes")
        problems.extend(
            f"{kind}/{name} {where}: annotation key {key!r}"
            for key in notes
            if not _qualified(str(key))
        )
    return problems


def _qualified(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


def _maps(value: Any, keys: tuple[str, ...], where: str = "") -> list[tuple[str, dict]]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if key in keys and isinstance(item, dict):
                found.append((path, item))
            else:
                found.extend(_maps(item, keys, path))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_maps(item, keys, f"{where}[{index}]"))
    return found


def _consul(path: Path, problems: list[str]) -> dict[str, str]:
    try:
        entries = json.loads(path.read_bytes())
        return {
            entry["key"]: base64.b64decode(entry["value"], validate=True).decode("utf-8")
            for entry in entries
        }
    except (ValueError, KeyError, TypeError) as error:
        problems.append(f"{path}: not a consul kv import file: {error}")
        return {}


def _jenkins(folder: Path, out: Path, problems: list[str]) -> dict[str, ET.Element]:
    ini = out.parent / "jenkins_jobs.ini"
    ini.write_text(JJB_CONFIG)
    result = _run(
        [
            tool("jenkins-jobs"),
            "--conf",
            str(ini),
            "test",
            str(folder),
            "-o",
            str(out),
            "--config-xml",
        ]
    )
    if result.returncode != 0:
        problems.append(f"jenkins-jobs test: {result.stderr.strip()[-2000:]}")
        return {}
    jobs = {}
    for path in out.glob("*/config.xml"):
        try:
            jobs[path.parent.name] = ET.parse(path).getroot()
        except ET.ParseError as error:
            problems.append(f"{path}: not XML: {error}")
    return jobs
