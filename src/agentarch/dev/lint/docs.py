"""Inputs/Outputs tables for module and example READMEs, generated from the parsed HCL.

terraform-docs is not reachable here, so the project renders the same kind of tables itself between
`<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`; a check fails when a README drifts.
"""

from __future__ import annotations

import json
from typing import Any

from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.hcl import TfModule, plain

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def _expr(value: Any) -> str:
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return json.dumps(plain(value), sort_keys=False) if not isinstance(value, str) else json.dumps(value)


def _type(value: Any) -> str:
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return str(value)


def _cell(text: str) -> str:
    escaped = text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\n", " ").strip()


def render_tables(module: TfModule) -> str:
    """The markdown between the markers (markers excluded), ending with a newline."""
    lines = ["## Inputs", ""]
    if module.variables:
        lines += [
            "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|",
        ]
        for name, var in sorted(module.variables.items()):
            body = var.body
            vtype = _type(body.get("type", "any"))
            default = f"`{_cell(_expr(body['default']))}`" if "default" in body else "n/a"
            required = "no" if "default" in body else "yes"
            description = _cell(str(body.get("description", "")))
            lines.append(f"| {name} | {description} | `{_cell(vtype)}` | {default} | {required} |")
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if module.outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        for name, out in sorted(module.outputs.items()):
            lines.append(f"| {name} | {_cell(str(out.body.get('description', '')))} |")
    else:
        lines.append("No outputs.")
    return "\n".join(lines) + "\n"


def readme_with_tables(readme_text: str, module: TfModule) -> str | None:
    """The README with fresh tables between the markers, or None when the markers are missing."""
    start = readme_text.find(BEGIN)
    end = readme_text.find(END)
    if start < 0 or end < start:
        return None
    return readme_text[: start + len(BEGIN)] + "\n" + render_tables(module) + readme_text[end:]


def check_readme(module: TfModule, require_markers: bool) -> list[Finding]:
    """The README exists, has the markers (when required) and its tables match the HCL."""
    readme = module.path / "README.md"
    if not readme.exists():
        return [Finding(module.path, "readme", "no README.md")]
    text = readme.read_text(encoding="utf-8")
    fresh = readme_with_tables(text, module)
    if fresh is None:
        if require_markers:
            return [Finding(readme, "readme", f"no {BEGIN} / {END} markers for the generated tables")]
        return []
    if fresh != text:
        return [
            Finding(
                readme, "readme-drift", "Inputs/Outputs tables are out of date: run scripts/terraform_docs.py"
            )
        ]
    return []


def update_readme(module: TfModule) -> bool:
    """Rewrite the tables of one README in place; True when the file changed."""
    readme = module.path / "README.md"
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    fresh = readme_with_tables(text, module)
    if fresh is None or fresh == text:
        return False
    readme.write_text(fresh, encoding="utf-8")
    return True
