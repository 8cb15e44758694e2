"""Check resources, data sources and their nested blocks against the AWS provider schema.

What `terraform validate` would say without a registry: an argument or block the provider does
not have, an argument given as a block (or the reverse), a block repeated where only one is
allowed, and a required argument or block left out.

Schema format (see terraform/schema/README.md):
NODE = {"args": {name: {"required": bool}}, "blocks": {name: {"required", "list", "node"}},
        "attrs": [...]}; a block whose node has `"opaque": true` is too deep for the provider's
type assembly to describe (`statement` of a WAF rule): its contents are not checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.hcl import BLOCK_MARK, COMMENTS, Block, TfModule, is_block_list, line_of

SCHEMA_RELPATH = Path("terraform/schema/aws-provider.subset.json")
PACKAGED_SCHEMA = Path(__file__).with_name("aws-provider.subset.json")  # a link to the file above

RESOURCE_META = frozenset(
    {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}
)
DATA_META = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})
_MARKERS = frozenset({BLOCK_MARK, COMMENTS})

Node = dict[str, Any]


@lru_cache(maxsize=8)
def load_schema(path: Path) -> dict[str, Any]:
    """Read the schema subset kept in the repository."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check_module(module: TfModule, schema: dict[str, Any]) -> list[Finding]:
    """Every resource and data source of one directory against the provider schema."""
    findings: list[Finding] = []
    for block in module.resources.values():
        findings.extend(_check_top(block, schema.get("resources", {}), RESOURCE_META, "resource type"))
    for block in module.data.values():
        findings.extend(_check_top(block, schema.get("data_sources", {}), DATA_META, "data source"))
    return findings


def check_known_types(module: TfModule, schema: dict[str, Any]) -> list[Finding]:
    """Like `check_module`, for someone else's tree: types the schema subset lacks are skipped."""
    findings: list[Finding] = []
    for block in module.resources.values():
        if block.labels[0] in schema.get("resources", {}):
            findings.extend(_check_top(block, schema["resources"], RESOURCE_META, "resource type"))
    for block in module.data.values():
        if block.labels[0] in schema.get("data_sources", {}):
            findings.extend(_check_top(block, schema["data_sources"], DATA_META, "data source"))
    return findings


def _check_top(block: Block, table: dict[str, Node], meta: frozenset[str], what: str) -> list[Finding]:
    rtype = block.labels[0]
    node = table.get(rtype)
    header = " ".join([block.kind, *(f'"{label}"' for label in block.labels)])
    if node is None:
        hint = "" if rtype.startswith("aws_") else " (only the AWS provider is used here)"
        return [
            Finding(
                block.file,
                "schema",
                f"{block.address}: unknown {what} {rtype!r}{hint}; if it is new, run "
                "scripts/refresh_provider_schema.py",
                line=line_of(block.file, header),
            )
        ]
    return [
        replace(f, line=line_of(block.file, header, _first_quoted(f.message))) if not f.line else f
        for f in check_body(block.body, node, block.address, block.file, meta)
    ]


def _first_quoted(message: str) -> str | None:
    """The argument or block a schema message is about (`unknown argument 'x'`): where to point."""
    match = re.search(r"'([\w-]+)'", message)
    return match.group(1) if match else None


def check_body(
    body: dict[str, Any], node: Node, where: str, file: Path, meta: frozenset[str] = frozenset()
) -> list[Finding]:
    """Check one block body (and, recursively, its nested blocks) against a schema node."""
    if node.get("opaque"):
        return []
    args: dict[str, Any] = node.get("args", {})
    blocks: dict[str, Any] = node.get("blocks", {})
    messages: list[str] = []
    findings: list[Finding] = []
    present_blocks: set[str] = set()
    for key, value in body.items():
        if key in _MARKERS or key in meta:
            continue
        if key == "dynamic" and isinstance(value, list):
            findings += _check_dynamic(value, node, where, file, messages, present_blocks)
        elif is_block_list(value):
            findings += _check_nested(key, value, args, blocks, where, file, messages, present_blocks)
        elif key not in args:
            messages.append(
                f"{key!r} is a block, not an argument: write `{key} {{ ... }}`"
                if key in blocks
                else f"unknown argument {key!r}"
            )
    messages += [
        f"missing required argument {n!r}"
        for n, spec in args.items()
        if spec.get("required") and n not in body
    ]
    messages += [
        f"missing required block {n!r}"
        for n, spec in blocks.items()
        if spec.get("required") and n not in present_blocks
    ]
    return [Finding(file, "schema", f"{where}: {message}") for message in messages] + findings


def _check_dynamic(
    entries: list[Any], node: Node, where: str, file: Path, messages: list[str], present: set[str]
) -> list[Finding]:
    """`dynamic "label" { content { ... } }`: the label must be a block of this type; its content is one."""
    blocks: dict[str, Any] = node.get("blocks", {})
    findings: list[Finding] = []
    for entry in entries:
        for label, dyn in entry.items() if isinstance(entry, dict) else ():
            if label in _MARKERS:
                continue
            if label not in blocks:
                messages.append(
                    f"dynamic block {label!r} is not a block of this type"
                    + (
                        f": it is an argument, write `{label} = [...]`"
                        if label in node.get("args", {})
                        else ""
                    )
                )
                continue
            present.add(label)
            for content in dyn.get("content", []) if isinstance(dyn, dict) else []:
                findings.extend(check_body(content, blocks[label]["node"], f"{where}.{label}", file))
    return findings


def _check_nested(
    key: str,
    value: list[Any],
    args: dict[str, Any],
    blocks: dict[str, Any],
    where: str,
    file: Path,
    messages: list[str],
    present: set[str],
) -> list[Finding]:
    """A nested block: known to the schema, not repeated when it may appear once, each body checked."""
    if key not in blocks:
        messages.append(
            f"{key!r} is an argument, not a block: write `{key} = ...`"
            if key in args
            else f"unknown block {key!r}"
        )
        return []
    present.add(key)
    spec = blocks[key]
    if not spec.get("list", True) and len(value) > 1:
        messages.append(f"block {key!r} may appear only once")
    return [finding for item in value for finding in check_body(item, spec["node"], f"{where}.{key}", file)]


def readable_attributes(node: Node) -> set[str]:
    """Names a reference `type.name.<attr>` may read."""
    names = set(node.get("attrs", [])) | set(node.get("args", {})) | set(node.get("blocks", {}))
    names.add("id")
    return names


def used_types(modules: list[TfModule]) -> tuple[set[str], set[str]]:
    """Resource types and data source types the given directories declare."""
    resources = {rtype for m in modules for (rtype, _name) in m.resources}
    data = {rtype for m in modules for (rtype, _name) in m.data}
    return resources, data
