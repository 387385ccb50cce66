"""The rules of platform.yaml that its JSON schema cannot say: duplicate keys, regular
expressions, namespaces owned twice (or shared with the gateway or a sync agent), the
gateway's ports, environments' references (teams, promotion sources, cycles), the URL
clusters follow, paths a system call can take (their length is in bytes, a schema counts
characters), and folders that must be their own."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from generator import schemacheck, yamlpos
from generator.config.settings import DEFAULT_PROMOTIONS, DEFAULT_WORKDIR, Gateway, SyncSettings
from generator.findings import Finding

# The keys that name a file or folder of this machine.
PATH_KEYS = (
    ("source", "path"),
    ("rendered", "path"),
    ("rendered", "repository", "workdir"),
    ("promotions", "path"),
    ("templates",),
    ("github", "auth", "private_key_file"),
)
MAX_PATH_BYTES = 1024  # leaves the rendered tree's files room below PATH_MAX (4,096)
# NAME_MAX (255) less room for the names made from one: .<rendered.path>.modelship-stage
MAX_NAME_BYTES = 200


def findings(document: yamlpos.YamlDocument, shown: str, root: Path) -> list[Finding]:
    findings: list[Finding] = []

    def add(at: tuple[Any, ...], message: str, rule: str, on_value: bool = False) -> None:
        position = document.value_position(at) if on_value else document.key_position(at)
        key = schemacheck.dotted(at)
        findings.append(Finding(shown, position.line, position.column, key, message, rule))

    for duplicate in document.duplicates:
        position = duplicate.position
        findings.append(
            Finding(
                shown,
                position.line,
                position.column,
                schemacheck.dotted(duplicate.path),
                f"duplicate key (first defined at line {duplicate.first.line})",
                "platform/duplicate-key",
            )
        )
    data = document.data
    github = data.get("github") if isinstance(data, dict) else None
    pattern = github.get("name_pattern") if isinstance(github, dict) else None
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as error:
            position = document.value_position(("github", "name_pattern"))
            findings.append(
                Finding(
                    shown,
                    position.line,
                    position.column,
                    "github.name_pattern",
                    f"is not a valid regular expression: {error}",
                    "platform/regex",
                )
            )
    rendered = data.get("rendered") if isinstance(data, dict) else None
    if isinstance(rendered, dict) and "repository" in rendered:
        inner = rendered.get("path")
        parts = PurePosixPath(inner).parts if isinstance(inner, str) else ()
        if inner == "." or ".." in parts or ".git" in parts or (parts and parts[0] == "/"):
            add(
                ("rendered", "path"),
                "with 'repository', must be a folder inside that repository (not its root, "
                "no '..', not .git)",
                "platform/rendered-path",
            )
    teams = data.get("teams") if isinstance(data, dict) else None
    if isinstance(teams, dict):
        owners: dict[str, str] = {}
        for name, team in teams.items():
            namespace = team.get("namespace") if isinstance(team, dict) else None
            if not isinstance(namespace, str):
                continue
            if namespace in owners:
                add(
                    ("teams", name, "namespace"),
                    f"namespace {namespace!r} already belongs to team {owners[namespace]!r}",
                    "platform/shared-namespace",
                )
            owners.setdefault(namespace, name)
    for at, message, rule in _listen_problems(data):
        add(at, message, rule)
    for at, message, rule in _namespace_problems(data):
        add(at, message, rule, on_value=True)
    for at, message, rule in _environment_problems(data):
        add(at, message, rule, on_value=True)
    if (
        isinstance(data, dict)
        and _get(data, "sync", "url") is None
        and not isinstance(_get(data, "rendered", "repository"), dict)
    ):
        add(
            ("rendered",) if "sync" not in data else ("sync",),
            "sync.url is required when the rendered tree is a folder of this repository: "
            "the git URL clusters clone it from, e.g. "
            "sync: {url: ssh://git@github.com/acme/modelship.git}",
            "platform/sync-url",
        )
    paths = list(_path_problems(data))
    for at, message, rule in paths:
        add(at, message, rule, on_value=True)
    if not paths:  # the tree's rules resolve the paths, which a bad one makes fail
        for at, message, rule in _tree_problems(data, root):
            add(at, message, rule, on_value=True)
    return findings


def _path_problems(data: Any) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """A path no system call takes (a NUL in it, or longer than the file system allows)
    would fail at the first use, far from platform.yaml: refuse it at its key."""
    for at in PATH_KEYS:
        value = _get(data, *at)
        if isinstance(value, str) and (problem := _path_problem(value)):
            yield at, problem, "platform/path"


def _path_problem(value: str) -> str:
    if "\0" in value:
        return "must not contain a NUL character"
    size = len(os.fsencode(value))
    if size > MAX_PATH_BYTES:
        return f"is {size:,} bytes long; a path may have at most {MAX_PATH_BYTES:,}"
    longest = max(len(os.fsencode(name)) for name in value.split("/"))
    if longest > MAX_NAME_BYTES:
        return (
            f"holds a name of {longest:,} bytes; a file or folder name may have at most "
            f"{MAX_NAME_BYTES}"
        )
    return ""


def _namespace_problems(data: Any) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """A team's namespace is where its sync object may write everything Modelship renders
    for models: it must not be the gateway's, nor a sync agent's own namespace."""
    teams = _get(data, "teams")
    if not isinstance(teams, dict):
        return
    reserved = {
        ("gateway", "namespace"): "the gateway's namespace",
        ("sync", "flux_namespace"): "Flux's namespace",
        ("sync", "argocd_namespace"): "Argo CD's namespace",
    }
    sync_defaults = {"flux_namespace": SyncSettings.flux_namespace}
    sync_defaults["argocd_namespace"] = SyncSettings.argocd_namespace
    taken: dict[str, str] = {}
    for (section, key), what in reserved.items():
        value = _get(data, section, key)
        if value is None and section == "sync":
            value = sync_defaults[key]
        if isinstance(value, str):
            taken.setdefault(value, what)
    for name, team in teams.items():
        namespace = team.get("namespace") if isinstance(team, dict) else None
        if isinstance(namespace, str) and namespace in taken:
            yield (
                ("teams", name, "namespace"),
                f"namespace {namespace!r} is {taken[namespace]}; a team needs a namespace of "
                "its own",
                "platform/reserved-namespace",
            )


def _environment_problems(data: Any) -> Iterator[tuple[tuple[Any, ...], str, str]]:
    """Environments name teams that exist, and are promoted from another environment that
    exists, without a cycle (staging → production → staging)."""
    environments = _get(data, "environments")
    if not isinstance(environments, dict):
        return
    teams = _get(data, "teams")
    known_teams = set(teams) if isinstance(teams, dict) else set()
    sources: dict[str, str] = {}
    for name, env in environments.items():
        listed = _get(env, "models", "teams")
        for position, team in enumerate(listed if isinstance(listed, list) else ()):
            if isinstance(team, str) and known_teams and team not in known_teams:
                yield (
                    ("environments", name, "models", "teams", position),
                    f"{team!r} is not a team of this platform ({', '.join(sorted(known_teams))})",
                    "platform/unknown-team",
                )
        source = _get(env, "promotion", "from")
        if not isinstance(source, str):
            continue
        at = ("environments", name, "promotion", "from")
        if source == name:
            yield at, "an environment cannot be promoted from itself", "platform/promotion"
        elif source not in environments:
            known = ", ".join(sorted(str(e) for e in environments if e != name))
            yield (
                at,
                f"{source!r} is not an environment of this platform ({known})",
                "platform/promotion",
            )
        else:
            sources[name] = source
    reported: set[str] = set()
    for start in sorted(sources):
        chain, current = [start], sources[start]
        while current in sources and current not in chain:
            chain.append(current)
            current = sources[current]
        if current == start and start not in reported:
            reported.update(chain)
            cycle = " → ".join([*chain, start])
            yield (
                ("environments", start, "promotion", "from"),
                f"promotions go round in a cycle ({cycle}); one environment must follow the "
                "sources",
                "platform/promotion-cycle",
            )


def _tree_problems(data: Any, root: Path) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """The rendered tree (and a separate repository's work folder) must be folders of their
    own: a render deletes every file of the tree it does not render, and the work folder is
    cloned into and reset. Paths are compared resolved, so a link cannot hide an overlap."""
    rendered = data.get("rendered") if isinstance(data, dict) else None
    path = rendered.get("path") if isinstance(rendered, dict) else None
    if not isinstance(path, str):
        return  # the schema reports it
    protected = [(_real(root / ".git"), "the platform repository's .git folder")]
    for key, value in (
        ("source.path", _get(data, "source", "path")),
        ("templates", _get(data, "templates")),
    ):
        if isinstance(value, str):
            protected.append((_real(root / value), f"{key} ({value})"))
    section = data.get("promotions")
    given = isinstance(section, dict) and "path" in section
    promotions = section["path"] if given else DEFAULT_PROMOTIONS
    if isinstance(promotions, str):
        folder = _real(root / promotions)
        others = list(protected)
        if not isinstance(rendered.get("repository"), dict):
            others.append((_real(root / path), f"the rendered tree ({path})"))
        if folder == root:
            problem = "is the platform folder itself"
        elif root not in folder.parents:
            problem = "is outside the platform folder"
        else:
            problem = _overlap(folder, others)
        if problem:
            yield (
                ("promotions", "path") if given else ("rendered", "path"),
                f"the promotions folder {promotions!r} {problem}; it must be a folder of its "
                "own in the platform repository (e.g. 'promotions')",
                "platform/promotions-path",
            )
    repository = rendered.get("repository")
    if isinstance(repository, dict):
        workdir = repository.get("workdir", DEFAULT_WORKDIR)
        if isinstance(workdir, str):
            folder = _real(root / workdir)
            problem = _around_platform(folder, root) or _overlap(folder, protected)
            if problem:
                yield (
                    ("rendered", "repository", "workdir"),
                    f"{problem}; the clone must be a folder of its own",
                    "platform/rendered-workdir",
                )
        return  # rendered.path is a folder inside the clone (platform/rendered-path above)
    tree = _real(root / path)
    if tree == root:
        problem = "is the platform folder itself"
    elif root not in tree.parents:
        problem = "is outside the platform folder"
    else:
        problem = _overlap(tree, protected)
    if problem:
        yield (
            ("rendered", "path"),
            f"{problem}; the rendered tree must be a folder of its own inside the platform "
            "folder (e.g. 'rendered'): a render deletes every file in it that it does not render",
            "platform/rendered-path",
        )


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _around_platform(folder: Path, root: Path) -> str:
    if folder == root:
        return "is the platform folder itself"
    if folder in root.parents:
        return "contains the platform folder"
    return ""


def _overlap(folder: Path, protected: list[tuple[Path, str]]) -> str:
    for other, name in protected:
        if folder == other:
            return f"is {name}"
        if other in folder.parents:
            return f"is inside {name}"
        if folder in other.parents:
            return f"contains {name}"
    return ""


def _listen_problems(data: Any) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """The gateway's two servers each need a valid port, and not the same one: public
    traffic reaches only the public server because it arrives on a port of its own."""
    gateway = data.get("gateway") if isinstance(data, dict) else None
    listen = gateway.get("listen", {}) if isinstance(gateway, dict) else None
    if not isinstance(listen, dict):
        return
    defaults = {"internal": Gateway.listen_internal, "public": Gateway.listen_public}
    ports: dict[str, str] = {}
    for server, default in defaults.items():
        address = listen.get(server, default)
        port = str(address).rpartition(":")[2]
        if isinstance(address, bool) or not port.isdigit():
            continue  # the schema reports it
        if not 1 <= int(port) <= 65535:
            yield ("gateway", "listen", server), "port must be between 1 and 65535", "platform/port"
        ports[server] = port
    if len(ports) == 2 and ports["internal"] == ports["public"]:
        yield (
            ("gateway", "listen", "public"),
            "the public server needs a port of its own "
            f"(the internal server listens on {ports['internal']})",
            "platform/shared-port",
        )
