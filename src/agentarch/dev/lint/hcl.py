"""Parse Terraform directories with python-hcl2 into a small model the checks walk.

Blocks keep python-hcl2's `__is_block__` marker (explicit_blocks=True) so that a nested block
(`network_configuration { ... }`) can be told apart from an argument holding a list of objects
(`lifecycle_configuration = [{ ... }]`): Terraform treats the two differently, and so do we.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from agentarch.dev.lint.findings import Finding

BLOCK_MARK = "__is_block__"
COMMENTS = "__comments__"
_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)


def parse_text(text: str) -> dict[str, Any]:
    """Parse one .tf document; raises whatever python-hcl2 raises on a syntax error."""
    result: dict[str, Any] = hcl2.loads(text, serialization_options=_OPTIONS)
    return result


def is_block_list(value: object) -> bool:
    """True when `value` is how python-hcl2 renders one or more nested blocks of the same type."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get(BLOCK_MARK) for item in value)
    )


def plain(value: Any) -> Any:
    """`value` without python-hcl2's markers, for printing and for reading literal values."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in (BLOCK_MARK, COMMENTS)}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Block:
    """A top-level block: `resource "t" "n"`, `variable "x"`, `module "m"`, ..."""

    kind: str
    labels: tuple[str, ...]
    body: dict[str, Any]
    file: Path

    @property
    def address(self) -> str:
        """How Terraform names it in messages: `aws_s3_bucket.this`, `var.name`, `module.chat`."""
        if self.kind == "resource":
            return ".".join(self.labels)
        prefix = {"data": "data", "variable": "var", "module": "module", "output": "output"}.get(self.kind)
        return ".".join((prefix, *self.labels)) if prefix else self.kind


@dataclass
class TfModule:
    """Every block of one directory of .tf files (a module or a root configuration)."""

    path: Path
    files: list[Path] = field(default_factory=list)
    resources: dict[tuple[str, str], Block] = field(default_factory=dict)
    data: dict[tuple[str, str], Block] = field(default_factory=dict)
    variables: dict[str, Block] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)
    locals: dict[str, tuple[Any, Path]] = field(default_factory=dict)
    module_calls: dict[str, Block] = field(default_factory=dict)
    others: list[Block] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)

    def all_blocks(self) -> list[Block]:
        """Every block with a body that may hold expressions."""
        blocks: list[Block] = [
            *self.resources.values(),
            *self.data.values(),
            *self.variables.values(),
            *self.outputs.values(),
            *self.module_calls.values(),
            *self.others,
        ]
        return blocks


def _labelled(entries: list[dict[str, Any]], depth: int) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Unfold python-hcl2's nesting of labelled blocks: `{type: {name: body}}` for depth 2."""
    out: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for entry in entries:
        for label, inner in entry.items():
            if label in (BLOCK_MARK, COMMENTS):
                continue
            if depth == 1:
                out.append(((label,), inner))
            else:
                for labels, body in _labelled([inner], depth - 1):
                    out.append(((label, *labels), body))
    return out


def line_of(file: Path, header: str, key: str | None = None) -> int:
    """The line of `key = ...`, `key {` or `dynamic "key" {` in the top-level block that starts with
    `header` (`resource "aws_s3_bucket" "b"`), else the header's own line; 0 when not found."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    start = next((i for i, line in enumerate(lines) if " ".join(line.split()).startswith(header)), None)
    if start is None:
        return 0
    if key:
        pattern = re.compile(rf'^\s*(?:{re.escape(key)}\s*[={{]|dynamic\s+"{re.escape(key)}")')
        for i in range(start + 1, len(lines)):
            if lines[i].startswith("}"):
                break
            if pattern.match(lines[i]):
                return i + 1
    return start + 1


def load_module(path: Path) -> TfModule:
    """Parse every `*.tf` file directly under `path` (Terraform does not recurse either)."""
    return _load_module_cached(path.resolve())


@lru_cache(maxsize=256)
def _load_module_cached(path: Path) -> TfModule:
    module = TfModule(path=path)
    for file in sorted(path.glob("*.tf")):
        module.files.append(file)
        text = file.read_text(encoding="utf-8")
        try:
            doc = parse_text(text)
        except Exception as exc:  # python-hcl2 raises lark errors of several kinds
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            module.errors.append(Finding(file, "parse", f"not valid HCL: {first_line}"))
            continue
        module.errors.extend(redefined_arguments(file, text))
        _collect(module, file, doc)
    return module


def redefined_arguments(file: Path, text: str) -> list[Finding]:
    """An argument set twice in one block: Terraform refuses it ("Attribute redefined"), while the
    parsed document silently keeps the last one, so it is found on the syntax tree."""
    findings = []
    for body in hcl2.parses_to_tree(text).find_data("body"):
        seen: set[str] = set()
        for attribute in (child for child in body.children if getattr(child, "data", None) == "attribute"):
            name = attribute.children[0].children[0]
            if str(name) in seen:
                line = getattr(name, "line", 0) or 0
                findings.append(
                    Finding(file, "duplicate", f"the argument {name} is set twice in one block", line=line)
                )
            seen.add(str(name))
    return findings


def clear_cache() -> None:
    """Forget parsed directories (tests rewrite files in temporary directories)."""
    _load_module_cached.cache_clear()


def _collect(module: TfModule, file: Path, doc: dict[str, Any]) -> None:
    for kind, entries in doc.items():
        if kind in (COMMENTS, BLOCK_MARK) or not isinstance(entries, list):
            continue
        if kind in ("resource", "data"):
            _collect_named(
                module,
                file,
                kind,
                _labelled(entries, 2),
                module.resources if kind == "resource" else module.data,
            )
        elif kind in ("variable", "output", "module"):
            table = {"variable": module.variables, "output": module.outputs, "module": module.module_calls}[
                kind
            ]
            _collect_named(module, file, kind, _labelled(entries, 1), table)
        elif kind == "locals":
            _collect_locals(module, file, entries)
        elif kind == "provider":
            module.others.extend(Block(kind, (name,), body, file) for (name,), body in _labelled(entries, 1))
        else:
            module.others.extend(Block(kind, (), body, file) for body in entries)


def _collect_named(
    module: TfModule,
    file: Path,
    kind: str,
    labelled: Iterable[tuple[tuple[str, ...], Any]],
    table: dict[Any, Block],
) -> None:
    """Blocks keyed by their labels (a resource's type and name, a variable's name); a second one is an error."""
    for labels, body in labelled:
        block = Block(kind, labels, body, file)
        key = labels if len(labels) > 1 else labels[0]
        if key in table:
            module.errors.append(Finding(file, "duplicate", f"{block.address} is declared twice"))
        table[key] = block


def _collect_locals(module: TfModule, file: Path, entries: list[Any]) -> None:
    for body in entries:
        for name, value in body.items():
            if name in (BLOCK_MARK, COMMENTS):
                continue
            if name in module.locals:
                module.errors.append(Finding(file, "duplicate", f"local.{name} is declared twice"))
            module.locals[name] = (value, file)


def terraform_dirs(root: Path) -> list[Path]:
    """Every directory under `root/terraform` that holds .tf files, sorted."""
    base = root / "terraform"
    dirs = {p.parent for p in base.rglob("*.tf") if ".terraform" not in p.parts}
    return sorted(dirs)
