"""The floor plan as rules: no import cycle among generator's modules, and a core that is
pure — it reads no git, GitHub, terminal, environment, clock, process or network, directly
or through a module it imports."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from testsupport.helpers import ROOT

PACKAGE = ROOT / "generator"

# The pure core: parsing, validation, policy, evaluation, reconciliation, what runs in each
# environment and the promotions that decide it, rendering and its targets, the index,
# change sets, and the settings a platform is made of.
CORE = (
    "generator.findings",
    "generator.yamlpos",
    "generator.schemacheck",
    "generator.mlproject",
    "generator.model",
    "generator.policy",
    "generator.evaluate",
    "generator.reconcile",
    "generator.environments",
    "generator.image_gate",
    "generator.pins",
    "generator.promotion",
    "generator.index",
    "generator.digests",
    "generator.jsontext",
    "generator.changeset",
    "generator.live_status",
    "generator.treediff",
    "generator.wording",
    "generator.config.settings",
    "generator.consul.kv_plan",
    "generator.present.promotion_views",
    "generator.rendering.*",
)
# Top-level modules a pure module may not import: git, PyGithub, the terminal, processes,
# the clock and the network.
FORBIDDEN_IMPORTS = frozenset(
    {
        "git",
        "github",
        "rich",
        "subprocess",
        "multiprocessing",
        "threading",
        "time",
        "datetime",
        "socket",
        "http",
        "urllib",
        "urllib3",
        "requests",
        "consul",
        "kubernetes",
    }
)
# Standard-library modules that do no I/O although their package does: urllib.parse splits
# URL strings (the MLproject's package URL policy), urllib.request opens connections.
PURE_SUBMODULES = frozenset({"urllib.parse"})
# Names a pure module may not read: the environment and the clock.
FORBIDDEN_ATTRIBUTES = frozenset(
    {("os", "environ"), ("os", "getenv"), ("os", "environb"), ("os", "putenv")}
)


def outside_name(target: str) -> str:
    """The name a non-generator import is judged by: its top-level package, or the pure
    submodule of PURE_SUBMODULES it is."""
    for pure in PURE_SUBMODULES:
        if target == pure or target.startswith(f"{pure}."):
            return pure
    return target.partition(".")[0]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def parsed(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"), str(MODULES[name]))


@cache
def imports(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(generator modules, other top-level modules) that module ``name`` imports."""
    inside: set[str] = set()
    outside: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(parsed(name)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "generator":
                module = target
                while module and module not in MODULES:
                    module = module.rpartition(".")[0]
                if module and module != name:
                    inside.add(module)
            else:
                outside.add(outside_name(target))
    return frozenset(inside), frozenset(outside)


def graph() -> dict[str, frozenset[str]]:
    return {name: imports(name)[0] for name in MODULES}


def cycles(edges: dict[str, frozenset[str]] | dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    counter = 0
    number: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        nonlocal counter
        number[node] = low[node] = counter
        counter += 1
        stack.append(node)
        for child in sorted(edges.get(node, ())):
            if child not in number:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], number[child])
        if low[node] == number[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in number:
            visit(node)
    return found


def is_core(name: str) -> bool:
    return any(
        name == pattern or (pattern.endswith(".*") and name.startswith(pattern[:-1]))
        for pattern in CORE
    )


def reached(name: str) -> set[str]:
    """``name`` and every generator module it imports, directly or not."""
    edges = graph()
    seen, pending = set(), [name]
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(edges[current])
    return seen


def impurities(name: str) -> list[str]:
    """What makes module ``name`` impure, each as ``module: what``."""
    problems = []
    for module in sorted(reached(name)):
        for top in sorted(imports(module)[1] & FORBIDDEN_IMPORTS):
            problems.append(f"{module} imports {top}")
        for node in ast.walk(parsed(module)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in FORBIDDEN_ATTRIBUTES
            ):
                problems.append(f"{module}:{node.lineno} reads {node.value.id}.{node.attr}")
    return problems


def test_the_import_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_pure_part_of_a_network_package_is_allowed():
    assert outside_name("urllib.parse.urlsplit") == "urllib.parse"
    assert outside_name("urllib.parse") not in FORBIDDEN_IMPORTS
    assert outside_name("urllib.request") in FORBIDDEN_IMPORTS
    assert outside_name("urllib") in FORBIDDEN_IMPORTS


def test_no_module_needs_a_type_checking_import():
    users = [name for name in MODULES if "TYPE_CHECKING" in MODULES[name].read_text()]
    assert users == []


def test_the_core_list_names_real_modules():
    for pattern in CORE:
        assert any(is_core(name) for name in MODULES if name.startswith(pattern.rstrip("*.")))


@pytest.mark.parametrize("name", sorted(name for name in MODULES if is_core(name)))
def test_a_core_module_is_pure(name):
    assert impurities(name) == []


def test_pygithub_is_imported_only_by_the_github_package_and_the_github_source():
    users = sorted(name for name in MODULES if "github" in imports(name)[1])
    allowed = [
        n for n in users if n.startswith("generator.github.") or n == "generator.sources.github"
    ]
    assert users == allowed


def test_commands_import_no_other_command():
    commands = {name for name in MODULES if name.startswith("generator.commands.")}
    # options: what every command shares; render_options: what the commands that render share
    # (apart, because it needs the render pipeline, which validate, list and status never
    # import); pin_outcome: what promote and rollback share (apart, because it needs GitHub's
    # client, which a render never imports).
    shared = {
        "generator.commands",
        "generator.commands.options",
        "generator.commands.render_options",
        "generator.commands.pin_outcome",
    }
    for name in sorted(commands - shared):
        assert imports(name)[0] & commands <= shared, name
