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
    """A JSON object: `findings` (rule, severity, file, line, message, hint) and counts by severity."""
    items = [
        {
            "rule": f.rule,
            "severity": f.severity,
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
    results: list[dict[str, Any]] = []
    for f in findings:
        shown = f.shown_path(base)
        location: dict[str, Any] = {
            "artifactLocation": {"uri": shown.as_posix()}
            if not shown.is_absolute()
            else {"uri": shown.as_uri()}
        }
        if f.line > 0:
            location["region"] = {"startLine": f.line}
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _LEVEL.get(f.severity, "error"),
            "message": {"text": f"{f.message}. Fix: {f.hint}" if f.hint else f.message},
            "locations": [{"physicalLocation": location}],
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        results.append(result)
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


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif}
