"""Evaluate a Terraform tree into resources with resolved values, for the architecture rules.

tfparse (Cloud Custodian's binding to Aqua's Terraform evaluator) does the work: it follows local
module sources, applies variable defaults, module inputs, locals, `count`/`for_each` and dynamic
blocks, and replaces a reference to another resource by that resource's `id`, so the rules can
follow a link (`provider_arns` → the user pool) by id. Each resource and nested block carries its
file and lines.

Where tfparse falls short we say so rather than guess: a value it could not compute stays `None`
(or a `{"__attribute__": ...}` marker), and a dynamic block it dropped because its `for_each` or
its content depends on an unknown (a module output built from a data source, say) is listed in
`Resource.dropped_dynamic`. For such a block we resolve one case ourselves (`dynamic_from_input`): a
`for_each` that reads one module input or local is judged by that value.

python-hcl2 (the repository's own parser) reads every file first, so a syntax error is reported
with its file and line; tfparse would return nothing for such a tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentarch.dev.lint.hcl import BLOCK_MARK, parse_text

_INPUT = re.compile(r"\b((?:var|local)\.[A-Za-z_][\w-]*)")
_REMOTE = re.compile(r"^(?!\.{1,2}/)")


class UnreadableInput(Exception):
    """The tree cannot be read: `file`, `line` (0 when unknown) and the reason."""

    def __init__(self, file: Path, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


@dataclass
class Resource:
    """One resource or data source instance, as tfparse evaluated it."""

    type: str
    address: str
    file: Path
    line: int
    body: dict[str, Any]
    mode: str = "resource"
    dropped_dynamic: dict[str, str] = field(default_factory=dict)  # block name -> for_each text
    inputs: dict[str, Any] = field(default_factory=dict)  # `var.x` and `local.x` of its module

    @property
    def id(self) -> str | None:
        value = self.body.get("id")
        return value if isinstance(value, str) else None

    def get(self, *path: str) -> Any:
        """A nested value (blocks given once are dicts, repeated ones lists: the first is taken)."""
        value: Any = self.body
        for key in path:
            if isinstance(value, list):
                value = value[0] if value else None
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def blocks(self, name: str) -> list[dict[str, Any]]:
        """Every nested block `name` (tfparse gives one as a dict and several as a list)."""
        value = self.body.get(name)
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
        return []


@dataclass
class Tree:
    """Every evaluated resource of one root, plus what could not be resolved."""

    root: Path
    resources: list[Resource] = field(default_factory=list)
    remote_modules: list[tuple[str, str, Path, int]] = field(default_factory=list)  # address, source

    def of(self, rtype: str) -> list[Resource]:
        return [r for r in self.resources if r.type == rtype]

    def by_id(self, value: Any) -> Resource | None:
        if not isinstance(value, str):
            return None
        return next((r for r in self.resources if r.id == value), None)


def unresolved(value: Any) -> bool:
    """True when tfparse could not compute `value`."""
    return value is None or (isinstance(value, dict) and "__attribute__" in value)


def check_syntax(root: Path) -> None:
    """Parse every .tf file under `root` (skipping .terraform); raise UnreadableInput on the first error."""
    if not root.exists():
        raise UnreadableInput(root, 0, "no such file or directory")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)
    if not files:
        raise UnreadableInput(root, 0, "no .tf files found")
    for file in files:
        try:
            parse_text(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise UnreadableInput(file, 0, f"not UTF-8 text ({exc.reason})") from exc
        except Exception as exc:  # lark raises several kinds
            line = int(getattr(exc, "line", 0) or 0)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UnreadableInput(file, line, f"not valid HCL: {first}") from exc


def load_tree(root: Path) -> Tree:
    """Evaluate the Terraform root `root` (a directory) with tfparse, after a syntax check."""
    import tfparse

    root = root.resolve()
    check_syntax(root)
    raw: dict[str, list[dict[str, Any]]] = tfparse.load_from_path(str(root))
    tree = Tree(root=root)
    # Keyed by the module path without instance keys (`module.a.module.b`), as `module_of` gives it.
    modules = {_plain_path(m["__tfmeta"].get("path", "")): m for m in raw.get("module", [])}
    defaults: dict[str, dict[str, Any]] = {}  # module path -> variable defaults
    for variable in raw.get("variable", []):
        path = str(variable["__tfmeta"].get("path", ""))
        module_path, _, name = path.rpartition("variable.")
        if "default" in variable:
            defaults.setdefault(_plain_path(module_path), {})[f"var.{name}"] = variable["default"]
    for block in raw.get("locals", []):
        module_path = str(block["__tfmeta"].get("path", "")).removesuffix("locals")
        for name, value in block.items():
            if name not in ("__tfmeta", "id"):
                defaults.setdefault(_plain_path(module_path), {})[f"local.{name}"] = value
    calls = {path: _call_inputs(call, defaults.get(_caller_of(path), {})) for path, call in modules.items()}
    for module in raw.get("module", []):
        source = module.get("source")
        meta = module["__tfmeta"]
        if isinstance(source, str) and _REMOTE.match(source):
            tree.remote_modules.append(
                (
                    meta.get("path", ""),
                    source,
                    root / meta.get("filename", ""),
                    int(meta.get("line_start", 0)),
                )
            )
    for rtype, items in raw.items():
        if rtype in ("module", "variable", "output", "locals", "provider", "terraform"):
            continue
        for item in items:
            meta = item.get("__tfmeta", {})
            address = str(meta.get("path", rtype))
            module_path = module_of(address)
            call = calls.get(module_path, {})
            tree.resources.append(
                Resource(
                    type=rtype,
                    address=address,
                    file=(root / str(meta.get("filename", ""))).resolve(),
                    line=int(meta.get("line_start", 0)),
                    body=item,
                    mode=str(meta.get("type", "resource")),
                    inputs={**defaults.get(module_path, {}), **call},
                )
            )
    _find_dropped_dynamic_blocks(tree)
    return tree


_MODULE_PREFIX = re.compile(r"^(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*")


def module_instance(address: str) -> str:
    """`module.a["k"].module.b` for `module.a["k"].module.b.aws_t.n[0]`, the module instance as a user
    reads it in a plan; "" for a resource of the root itself. A module call's own address names the
    module that holds the call: `module.a` for `module.a.module.vpc`."""
    prefix = _MODULE_PREFIX.match(address)
    return prefix.group(0).rstrip(".") if prefix else ""


def _plain_path(path: str) -> str:
    """A module path without instance keys or a trailing dot: `module.a.module.b`."""
    return re.sub(r"\[[^\]]*\]", "", path).rstrip(".")


def _caller_of(path: str) -> str:
    """The module holding the call `path`: `module.a` for `module.a.module.b`, "" for `module.a`."""
    return path.rpartition(".module.")[0] if ".module." in path else ""


def _call_inputs(call: dict[str, Any], caller: dict[str, Any]) -> dict[str, Any]:
    """The `var.x` a module call passes. tfparse leaves an argument that reads one of the caller's
    own inputs unevaluated when that input is null (`x = var.x` with `default = null`): it is taken
    from the caller's inputs here."""
    inputs: dict[str, Any] = {}
    for name, value in call.items():
        if name == "__tfmeta":
            continue
        read = value.get("__attribute__") if isinstance(value, dict) else None
        if isinstance(read, str) and read in caller and _INPUT.fullmatch(read):
            value = caller[read]
        inputs[f"var.{name}"] = value
    return inputs


def module_of(address: str) -> str:
    """`module.a.module.b` for `module.a.module.b.aws_t.n["k"]` (or `...data.aws_t.n`); "" at the root."""
    parts = re.sub(r"\[[^\]]*\]", "", address).split(".")
    cut = len(parts) - 2
    if cut > 0 and parts[cut - 1] == "data":
        cut -= 1
    return ".".join(parts[: max(cut, 0)])


def _source_block(res: Resource, cache: dict[Path, dict[str, Any]]) -> dict[str, Any] | None:
    if res.file not in cache:
        try:
            cache[res.file] = parse_text(res.file.read_text(encoding="utf-8"))
        except Exception:
            cache[res.file] = {}
    kind = "data" if res.mode == "data" else "resource"
    name = re.sub(r"\[.*\]$", "", res.address).rsplit(".", 1)[-1]
    for entry in cache[res.file].get(kind, []):
        body = entry.get(res.type, {}).get(name) if isinstance(entry, dict) else None
        if isinstance(body, dict):
            return body
    return None


def _find_dropped_dynamic_blocks(tree: Tree) -> None:
    cache: dict[Path, dict[str, Any]] = {}
    for res in tree.resources:
        source = _source_block(res, cache)
        if source is None:
            continue
        for dyn in source.get("dynamic", []):
            for name, spec in dyn.items():
                if name == BLOCK_MARK or not isinstance(spec, dict):
                    continue
                if name in res.body and not _reads_its_iterator(res.body[name], name):
                    continue
                for_each = str(spec.get("for_each", ""))
                res.dropped_dynamic[name] = for_each


def _reads_its_iterator(value: Any, block: str) -> bool:
    """Whether a dynamic block tfparse kept still holds `<block>.value...` unevaluated: with several
    dynamic blocks in one resource it sometimes keeps one without resolving its iterator, which is as
    good as dropped (our own reading then applies)."""
    if isinstance(value, dict):
        attribute = value.get("__attribute__")
        if isinstance(attribute, str) and attribute.startswith(f"{block}.value"):
            return True
        return any(_reads_its_iterator(v, block) for v in value.values())
    if isinstance(value, list):
        return any(_reads_its_iterator(v, block) for v in value)
    return False


def dynamic_from_input(res: Resource, block: str) -> tuple[bool | None, Any]:
    """For a dropped dynamic `block` whose `for_each` reads one `var.x` or `local.x`: (present?, its value).

    Our own resolution where tfparse gave up: the block is taken to be present when that value is
    non-null (the `var.x == null ? [] : [var.x]` and `length(local.x) > 0 ? [1] : []` idioms), and its
    content to be that value. (None, None) when the `for_each` reads anything else, or no value is known.
    """
    for_each = res.dropped_dynamic.get(block)
    if for_each is None:
        return (True, res.body.get(block)) if block in res.body else (False, None)
    names = set(_INPUT.findall(for_each))
    if len(names) != 1:
        return None, None
    name = names.pop()
    if name not in res.inputs:
        return None, None
    value = res.inputs[name]
    if name.startswith("local.") and value in ({}, []):
        present, value = _recheck_empty_local(res, name.removeprefix("local."))
        if present is not True:
            return present, None
    if value is None:
        return False, None
    return True, value


def _recheck_empty_local(res: Resource, name: str) -> tuple[bool | None, Any]:
    """tfparse evaluates some locals to `{}` when an input holds an unknown (`merge(x, var.env)`).

    An empty local that reads a non-empty input is not believed: for `merge(...)` we merge the map
    inputs it reads ourselves (its other operands, conditional maps, are left out); otherwise it is
    unresolved.
    """
    from agentarch.dev.lint.hcl import load_module

    expression, _ = load_module(res.file.parent).locals.get(name, ("", None))
    read = [res.inputs.get(ref) for ref in _INPUT.findall(str(expression))]
    if not any(v not in (None, {}, [], False) for v in read):
        return False, None
    if str(expression).startswith("${merge("):
        merged: dict[str, Any] = {}
        for value in read:
            if isinstance(value, dict):
                merged.update(value)
        return True, merged
    return None, None
