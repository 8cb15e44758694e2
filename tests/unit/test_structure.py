"""The tree's rules, read from the source with `ast`: one home per concept, no cycles, and a deploy
boundary that is one package name (`agentarch.dev` never ships, and nothing deployable imports it)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import agentarch
from agentarch.dev.packaging.imports import import_graph
from agentarch.dev.packaging.registry import DEV_PACKAGE, FUNCTIONS

SRC = Path(agentarch.__file__).resolve().parent.parent
MODULES = sorted(SRC.joinpath("agentarch").rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """Every agentarch module or package this file imports at run time (deferred ones too; not
    those under `if TYPE_CHECKING:`), resolved the way `from x import y` resolves a submodule."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        pending.extend(ast.iter_child_nodes(node))
    known = {module_name(p) for p in MODULES}
    return {name for name in found if name.startswith("agentarch") and name in known}


def package_of(module: str) -> str:
    """The unit the layering rules speak of: `agentarch.core`, `agentarch.config`, `agentarch.dev.cli`…"""
    parts = module.split(".")
    if len(parts) >= 3 and parts[1] == "dev":
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def test_no_public_class_is_defined_in_two_modules() -> None:
    homes: dict[str, list[str]] = defaultdict(list)
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                homes[node.name].append(module_name(path))

    twice = {name: where for name, where in homes.items() if len(set(where)) > 1}

    assert twice == {}, f"one concept, one home: {twice}"


def test_the_packages_import_each_other_without_a_cycle() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in MODULES:
        source = package_of(module_name(path))
        for target in runtime_imports(path):
            if package_of(target) != source and package_of(target) != "agentarch":
                edges[source].add(package_of(target))

    def cycle_from(start: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(edges[path[-1]]):
            if nxt == start:
                return [*path, nxt]
            if nxt not in path:
                found = cycle_from(start, [*path, nxt])
                if found:
                    return found
        return None

    cycles = [c for start in sorted(edges) if (c := cycle_from(start, [start]))]

    assert cycles == [], "import cycles between packages: " + "; ".join(" → ".join(c) for c in cycles)


def test_nothing_deployable_imports_the_dev_package() -> None:
    crossing = {
        module_name(path): sorted(t for t in runtime_imports(path) if t.startswith(DEV_PACKAGE))
        for path in MODULES
        if not module_name(path).startswith(DEV_PACKAGE)
    }

    assert {m: targets for m, targets in crossing.items() if targets} == {}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_deployable_reaches_the_dev_package(name: str) -> None:
    reached = import_graph(FUNCTIONS[name].entry_module).modules

    assert [m for m in reached if m.startswith(DEV_PACKAGE)] == []


def test_each_package_says_what_lives_there_and_who_may_import_it() -> None:
    packages = sorted(p for p in MODULES if p.name == "__init__.py")
    undocumented = [
        module_name(p)
        for p in packages
        if len((ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or "").strip().splitlines()) < 2
    ]

    assert undocumented == []


def test_session_id_rules_live_in_one_module() -> None:
    # Given the two services' limits (AgentCore Runtime 33-256, Memory 1-100), named once in core.sessions
    offenders = []
    for path in MODULES:
        if module_name(path) == "agentarch.core.sessions":
            continue
        text = path.read_text(encoding="utf-8")
        if "{32,99}" in text or "33 <= len(" in text or "token_hex(24)" in text:
            offenders.append(module_name(path))

    assert offenders == []


# What each deployable package may import (besides itself): the layering the package docstrings state.
MAY_IMPORT = {
    "agentarch.core": set(),
    "agentarch.services": {"agentarch.core"},
    "agentarch.config": {"agentarch.core", "agentarch.services"},
    "agentarch.adapters": {"agentarch.core", "agentarch.config", "agentarch.services"},
    "agentarch.handlers": {"agentarch.core", "agentarch.config", "agentarch.services", "agentarch.adapters"},
    "agentarch.agent": {"agentarch.core", "agentarch.config", "agentarch.services", "agentarch.adapters"},
}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_deployable_package_imports_only_the_layers_below_it(package: str) -> None:
    reached = {
        package_of(target)
        for path in MODULES
        if package_of(module_name(path)) == package
        for target in runtime_imports(path)
    } - {package, "agentarch"}

    assert reached <= MAY_IMPORT[package], f"{package} imports {sorted(reached - MAY_IMPORT[package])}"
