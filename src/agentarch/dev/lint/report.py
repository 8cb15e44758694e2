"""Render findings as text, JSON or SARIF 2.1.0 (what code-scanning tools read)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TREE_CHECKS = {  # the checks `terraform validate` would make, run on every directory of a PATH
    "parse": "A .tf file is not valid HCL.",
    "schema": "A resource or block does not match the AWS provider schema.",
    "reference": "An expression refers to something not declared.",
    "module-call": "A local module call passes an undeclared variable or misses a required one.",
    "plan-time-unknown": "A count or for_each depends on a value known only after apply: the plan fails.",
}
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def render_text(findings: Sequence[Finding], base: Path) -> str:
    """One finding per line (`file:line: severity [rule] message`), its fix hint below it."""
    return "".join(f.render(base) + "\n" for f in findings)


def render_json(findings: Sequence[Finding], base: Path) -> str:
    """A JSON object: `findings` (rule, severity, root, module, file, line, message, hint) and counts
    by severity. `root` is the root module (example) the finding came from, `module` the module
    instance inside it (null for the root's own resources)."""
    items = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "root": f.root or None,
            "module": f.module or None,
            "file": f.shown_path(base).as_posix(),
            "line": f.line or None,
            "message": f.message,
            "hint": f.hint or None,
        }
        for f in findings
    ]
    counts = {sev: sum(1 for f in findings if f.severity == sev) for sev in ("error", "warning", "note")}
    return json.dumps({"findings": items, "counts": counts}, indent=2) + "\n"


def render_sarif(findings: Sequence[Finding], base: Path) -> str:
    """A SARIF 2.1.0 log with one run; every rule is described in the driver."""
    rules: list[dict[str, Any]] = [
        {
            "id": rule.id,
            "shortDescription": {"text": rule.summary},
            "help": {"text": rule.hint},
            "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        }
        for rule in RULES
    ]
    rules += [
        {"id": rule_id, "shortDescription": {"text": text}, "defaultConfiguration": {"level": "error"}}
        for rule_id, text in TREE_CHECKS.items()
    ]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_sarif_result(f, base, index) for f in findings]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "agentarch lint",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _artifact(path: Path, base: Path, directory: bool = False) -> dict[str, str]:
    """A SARIF artifactLocation: relative to `base` when the path lies under it, else a file URI;
    a directory's URI ends with a slash."""
    path = path if path.is_absolute() else base / path
    try:
        uri = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        uri = path.resolve().as_uri()
    return {"uri": uri.rstrip("/") + "/" if directory else uri}


def _sarif_result(f: Finding, base: Path, index: dict[str, int]) -> dict[str, Any]:
    """One result. The root it came from is a related location (id 1, the root's directory, linked
    from the message) and, with the module instance, the location's logical location
    (`terraform/examples/3-full/module.api`, kind `module`)."""
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": _artifact(f.file, base)}}
    if f.line > 0:
        location["physicalLocation"]["region"] = {"startLine": f.line}
    text = f"{f.message}. Fix: {f.hint}" if f.hint else f.message
    result: dict[str, Any] = {"ruleId": f.rule, "level": _LEVEL.get(f.severity, "error")}
    if f.root:
        instance = f.module or "root module"
        location["logicalLocations"] = [
            {
                "name": f.module or f.root,
                "fullyQualifiedName": f"{f.root}/{f.module}" if f.module else f.root,
                "kind": "module",
            }
        ]
        result["relatedLocations"] = [
            {
                "id": 1,
                "physicalLocation": {"artifactLocation": _artifact(Path(f.root), base, directory=True)},
                "message": {"text": f"root module {f.root}"},
            }
        ]
        text = f"{text} (root [{f.root}](1), {instance})"
    result["message"] = {"text": text}
    result["locations"] = [location]
    if f.rule in index:
        result["ruleIndex"] = index[f.rule]
    return result


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif}
