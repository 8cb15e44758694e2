"""The import graph of an agentarch module, read from source with `ast` (nothing is imported).

Every `import` counts, at module level or deferred inside a function, except those under
`if TYPE_CHECKING:`; a new import in a handler is therefore picked up by the next build.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT_PACKAGE = "agentarch"


class ImportGraphError(Exception):
    """An agentarch module cannot be found or parsed."""


@dataclass
class ImportGraph:
    """What an entry module reaches: agentarch modules (by file) and third-party top-level names."""

    entry: str
    modules: dict[str, Path] = field(default_factory=dict)
    external: dict[str, str] = field(default_factory=dict)  # top-level import name -> first importer
    parents: dict[str, str] = field(default_factory=dict)  # module -> the module that first imported it

    def chain(self, module: str) -> list[str]:
        """How the entry module reaches `module`: entry → … → module."""
        path = [module]
        while path[-1] in self.parents:
            path.append(self.parents[path[-1]])
        return list(reversed(path))


def source_root() -> Path:
    """The directory that holds the `agentarch` package (src/ in a checkout)."""
    import agentarch

    return Path(agentarch.__file__).resolve().parent.parent


def module_file(module: str, root: Path) -> Path | None:
    """The source file of an agentarch module or package, if there is one."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)  # the `else:` of a TYPE_CHECKING block does run
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    if level - 1 > len(package):
        raise ImportGraphError(f"{module}: relative import beyond the top-level package")
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, target] if target else base)


def import_graph(entry: str, root: Path | None = None) -> ImportGraph:
    """Follow every runtime import from `entry` through the agentarch source tree."""
    root = root or source_root()
    graph = ImportGraph(entry)
    queue: deque[str] = deque()

    def reach(module: str, importer: str | None) -> None:
        # Importing a.b.c runs a/__init__ and a/b/__init__ first: they belong to the graph too.
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name in graph.modules:
                continue
            path = module_file(name, root)
            if path is None:
                chain = " → ".join([*graph.chain(importer), name]) if importer else name
                raise ImportGraphError(f"cannot find the source of {name} (imported via {chain})")
            graph.modules[name] = path
            if importer is not None and name != importer:
                graph.parents[name] = importer
            queue.append(name)

    reach(entry, None)
    stdlib = sys.stdlib_module_names
    while queue:
        module = queue.popleft()
        path = graph.modules[module]
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except SyntaxError as exc:
            raise ImportGraphError(f"cannot parse {path}: {exc}") from None
        is_package = path.name == "__init__.py"
        for node in _runtime_imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = (
                    _resolve_relative(module, is_package, node.level, node.module)
                    if node.level
                    else (node.module or "")
                )
                if base == "__future__":
                    continue
                targets = [base]
                if base.split(".")[0] == ROOT_PACKAGE:
                    # `from agentarch.services import chat` imports the submodule agentarch.services.chat.
                    targets += [
                        f"{base}.{alias.name}"
                        for alias in node.names
                        if alias.name != "*" and module_file(f"{base}.{alias.name}", root) is not None
                    ]
            for target in targets:
                top = target.split(".")[0]
                if top == ROOT_PACKAGE:
                    reach(target, module)
                elif top not in stdlib and top not in graph.external:
                    graph.external[top] = module
    return graph
