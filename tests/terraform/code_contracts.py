"""What the Python code needs from Terraform, derived from the sources (for the contract tests).

`boto3_actions(entry_module)` gives the IAM actions (`dynamodb:Query`,
`bedrock-agentcore:ListEvents`, ...) a function's role needs:

1. walk the import graph from the entry module within `agentarch` (AST; imports inside functions
   included, `if TYPE_CHECKING:` imports excluded);
2. from every function of the entry module, follow calls to the functions and methods they reach
   (plain names and module attributes through the import aliases, `self.m()` within the class,
   `obj.m()` to every method named `m` in the closure, except names every dict/list/str also has
   unless `obj` is a parameter annotated with a class or protocol of the project; a method passed on
   by reference, `obj.m` without a call, e.g. to become a tool, counts as called);
3. collect, in reachable code of modules under `agentarch/adapters/` and `agentarch/services/`,
   attribute calls whose names are snake_case operations of the botocore service models
   (dynamodb, bedrock-agentcore), restricted to the services the module creates clients for.

Calls a library makes for the project are found the same way: a call to a class listed in
`LIBRARY_CLIENTS` (Powertools' `DynamoDBPersistenceLayer`) adds the operations that class's source
file calls on its boto3 client.

Step 2 is what keeps a function from inheriting actions merely because a module it imports can make
them for someone else (the conversations Lambda imports the Memory adapter, which can CreateEvent,
but only the chat Lambda calls that): the import graph alone would over-grant, so this stays.
`import_closure_actions()` is the coarser module-level answer (every call in every reachable
module), kept as an upper bound.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

import botocore.session
from botocore import xform_name

import agentarch

PACKAGE_DIR = Path(agentarch.__file__).resolve().parent
# botocore service name → IAM prefix
SERVICES = {"dynamodb": "dynamodb", "bedrock-agentcore": "bedrock-agentcore", "kms": "kms"}
SCANNED_PACKAGES = ("agentarch.adapters", "agentarch.services")
# Where a call named like an AWS operation is one: only adapters touch boto3 (services cannot import
# them or boto3, test_structure says so), so `key.verify(...)` in a service is cryptography's, not KMS's.
BOTO3_CALLERS = ("agentarch.adapters",)
# Library classes that make boto3 calls on the project's behalf → (their module, the service).
LIBRARY_CLIENTS = {
    "aws_lambda_powertools.utilities.idempotency.DynamoDBPersistenceLayer": (
        "aws_lambda_powertools.utilities.idempotency.persistence.dynamodb",
        "dynamodb",
    ),
}


def source_actions(path: Path, service: str) -> set[str]:
    """IAM actions of every `<anything>.<operation>(...)` call of `service` in one source file."""
    ops = operations()
    actions: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            operation = ops.get(node.func.attr, {}).get(service)
            if operation:
                actions.add(f"{SERVICES[service]}:{operation}")
    return actions


def library_actions(dotted_class: str) -> set[str]:
    """IAM actions a library class listed in `LIBRARY_CLIENTS` needs (from its installed source)."""
    module, service = LIBRARY_CLIENTS[dotted_class]
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return source_actions(Path(spec.origin), service)


@cache
def operations() -> dict[str, dict[str, str]]:
    """snake_case operation name → {service: OperationName} for the services in SERVICES."""
    session = botocore.session.get_session()
    table: dict[str, dict[str, str]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        for op in model.operation_names:
            table.setdefault(xform_name(op), {})[service] = op
    return table


def module_path(name: str) -> Path | None:
    """Source file of an `agentarch.*` module, or None when it does not exist (yet)."""
    parts = name.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, name: str, is_package: bool) -> set[str]:
    found: set[str] = set()
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name if is_package else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "agentarch" or m.startswith("agentarch.")}


def import_closure(entry: str) -> set[str]:
    """Every `agentarch` module reachable by imports from `entry` (entry included)."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_path(name)
        if path is None:
            continue
        seen.add(name)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        todo.extend(_imports(tree, name, path.name == "__init__.py") - seen)
    return seen


def _clients_created(tree: ast.Module) -> set[str]:
    """Service names passed as literals to boto3.client(...) / boto3.resource(...) in a module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("client", "resource")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def import_closure_actions(entry: str) -> set[str]:
    """IAM actions for every boto3 call in any module of `entry`'s import graph (an upper bound)."""
    ops = operations()
    actions: set[str] = set()
    for name in sorted(import_closure(entry)):
        if not name.startswith(SCANNED_PACKAGES):
            continue
        path = module_path(name)
        assert path is not None
        tree = ast.parse(path.read_text(encoding="utf-8"))
        created = _clients_created(tree) & set(SERVICES)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ops:
                candidates = ops[node.func.attr]
                services = [s for s in candidates if not created or s in created]
                for service in services:
                    actions.add(f"{SERVICES[service]}:{candidates[service]}")
    return actions


# Method names that builtin containers and strings also have: `x.get(...)` is far more often a dict
# than a conversation index, so such calls on an unknown receiver are not followed.
_COMMON_METHODS = frozenset(
    {
        "usage",  # a reply's token usage is read everywhere; only the quota Lambda calls a store's `usage()`
        "get",
        "items",
        "keys",
        "values",
        "pop",
        "update",
        "append",
        "extend",
        "copy",
        "setdefault",
        "add",
        "join",
        "split",
        "strip",
        "format",
        "encode",
        "decode",
        "read",
        "write",
        "close",
        "lower",
        "upper",
        "replace",
        "startswith",
        "endswith",
        "count",
        "index",
        "sort",
        "clear",
        "remove",
        "insert",
        "discard",
        "popitem",
        "rstrip",
        "lstrip",
    }
)

FunctionKey = tuple[str, str]  # (module, "func" | "Class.method" | "<module>")


class _ModuleInfo:
    def __init__(self, name: str, tree: ast.Module, is_package: bool) -> None:
        self.name = name
        self.tree = tree
        self.functions: dict[str, ast.AST] = {"<module>": tree}
        self.classes: dict[str, dict[str, str]] = {}
        self.aliases: dict[str, str] = {}
        self.clients = _clients_created(tree) & set(SERVICES)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                methods: dict[str, str] = {}
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        key = f"{node.name}.{item.name}"
                        self.functions[key] = item
                        methods[item.name] = key
                self.classes[node.name] = methods
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[(alias.asname or alias.name).split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    package = name if is_package else name.rsplit(".", 1)[0]
                    for _ in range(node.level - 1):
                        package = package.rsplit(".", 1)[0]
                    base = f"{package}.{node.module}" if node.module else package
                else:
                    base = node.module or ""
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"


def _load(names: set[str]) -> dict[str, _ModuleInfo]:
    infos: dict[str, _ModuleInfo] = {}
    for name in names:
        path = module_path(name)
        assert path is not None
        infos[name] = _ModuleInfo(
            name, ast.parse(path.read_text(encoding="utf-8")), path.name == "__init__.py"
        )
    return infos


def _constructed(module: str, methods: dict[str, str]) -> list[FunctionKey]:
    """Making an object runs its `__init__`; a callable object (a pipeline step) is made to be called."""
    return [(module, methods[name]) for name in ("__init__", "__call__") if name in methods]


def _resolve_dotted(infos: dict[str, _ModuleInfo], dotted: str) -> list[FunctionKey]:
    """A dotted target (`agentarch.x.func`, `agentarch.x.Class`) → functions it names."""
    if dotted in infos:
        return []
    module, _, attr = dotted.rpartition(".")
    info = infos.get(module)
    if info is None:
        return []
    if attr in info.classes:
        return _constructed(module, info.classes[attr])
    if attr in info.functions:
        return [(module, attr)]
    if attr in info.aliases:  # re-exported name
        return _resolve_dotted(infos, info.aliases[attr])
    return []


def _project_typed_params(node: ast.AST, info: _ModuleInfo, infos: dict[str, _ModuleInfo]) -> set[str]:
    """Parameters annotated with a class (or protocol) defined in the project's modules."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return set()
    names: set[str] = set()
    params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    for arg in params:
        if arg.annotation is None:
            continue
        for part in ast.walk(arg.annotation):
            if not isinstance(part, ast.Name):
                continue
            if part.id in info.classes:
                names.add(arg.arg)
            elif part.id in info.aliases:
                module, _, attr = info.aliases[part.id].rpartition(".")
                if module in infos and attr in infos[module].classes:
                    names.add(arg.arg)
    return names


def boto3_actions(entry: str) -> set[str]:
    """IAM actions for the boto3 calls reachable from the functions of `entry`."""
    ops = operations()
    infos = _load(import_closure(entry))
    methods_by_name: dict[str, list[FunctionKey]] = {}
    for info in infos.values():
        for methods in info.classes.values():
            for method, key in methods.items():
                methods_by_name.setdefault(method, []).append((info.name, key))
    todo: list[FunctionKey] = [(entry, key) for key in infos[entry].functions] if entry in infos else []
    seen: set[FunctionKey] = set()
    actions: set[str] = set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        module, key = current
        info = infos[module]
        node = info.functions[key]
        owner = key.split(".")[0] if "." in key else None
        body = node.body if isinstance(node, ast.Module) else [node]
        typed = _project_typed_params(node, info, infos)
        for stmt in body:
            if key == "<module>" and isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            called = {id(node.func) for node in ast.walk(stmt) if isinstance(node, ast.Call)}
            for call in ast.walk(stmt):
                if (  # `obj.m` handed on uncalled (a bound method made a tool, a callback) runs later
                    isinstance(call, ast.Attribute)
                    and id(call) not in called
                    and not (isinstance(call.value, ast.Name) and call.value.id == "self")
                    and call.attr not in _COMMON_METHODS
                ):
                    todo.extend(methods_by_name.get(call.attr, []))
                if (  # a method passed on by reference (e.g. to an executor) is called later
                    isinstance(call, ast.Attribute)
                    and isinstance(call.value, ast.Name)
                    and call.value.id == "self"
                    and owner
                    and call.attr in info.classes.get(owner, {})
                ):
                    todo.append((module, info.classes[owner][call.attr]))
                if not isinstance(call, ast.Call):
                    continue
                func = call.func
                if isinstance(func, ast.Name):
                    name = func.id
                    if name in info.functions:
                        todo.append((module, name))
                    elif name in info.classes:
                        todo.extend(_constructed(module, info.classes[name]))
                    elif name in info.aliases and info.aliases[name] in LIBRARY_CLIENTS:
                        actions |= library_actions(info.aliases[name])
                    elif name in info.aliases:
                        todo.extend(_resolve_dotted(infos, info.aliases[name]))
                elif isinstance(func, ast.Attribute):
                    attr = func.attr
                    receiver = func.value
                    if attr in ops and module.startswith(BOTO3_CALLERS):
                        candidates = ops[attr]
                        for service in candidates:
                            if not info.clients or service in info.clients:
                                actions.add(f"{SERVICES[service]}:{candidates[service]}")
                    if isinstance(receiver, ast.Name) and receiver.id == "self" and owner:
                        method_key = info.classes.get(owner, {}).get(attr)
                        if method_key:
                            todo.append((module, method_key))
                            continue
                    if isinstance(receiver, ast.Name) and receiver.id in info.aliases:
                        target = info.aliases[receiver.id]
                        if target in infos:
                            todo.extend(_resolve_dotted(infos, f"{target}.{attr}"))
                            continue
                    typed_receiver = isinstance(receiver, ast.Name) and receiver.id in typed
                    if typed_receiver or attr not in _COMMON_METHODS:
                        todo.extend(methods_by_name.get(attr, []))
    return actions
