"""Static checks over the project's Terraform: what `terraform validate` and terraform-docs would
say, without a registry or a cloud account.

`run_all(root)` parses every directory under `root/terraform`, checks resources and data sources
against the AWS provider schema subset kept in the repository, resolves every reference, checks
module calls against the called module's variables, variable hygiene, version pins, and the
generated README tables. `main(argv)` prints the findings and exits 1 when there are any.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from agentarch.lint import docs, refs, schema
from agentarch.lint.findings import Finding
from agentarch.lint.hcl import clear_cache, load_module, terraform_dirs

__all__ = ["Finding", "main", "run_all"]


def _is_module(path: Path, root: Path) -> bool:
    """Modules (not examples) must carry the generated tables."""
    return path.resolve().is_relative_to((root / "terraform" / "modules").resolve())


def run_all(root: Path) -> list[Finding]:
    """Every finding for the Terraform tree under `root/terraform`, sorted by file."""
    clear_cache()
    schema_path = root / schema.SCHEMA_RELPATH
    if not schema_path.exists():
        return [
            Finding(
                schema_path,
                "schema",
                "provider schema subset is missing: run scripts/refresh_provider_schema.py",
            )
        ]
    provider = schema.load_schema(schema_path)
    findings: list[Finding] = []
    dirs = terraform_dirs(root)
    if not dirs:
        return [Finding(root / "terraform", "parse", "no .tf files found")]
    for path in dirs:
        module = load_module(path)
        findings.extend(module.errors)
        findings.extend(schema.check_module(module, provider))
        findings.extend(refs.check_references(module, provider))
        findings.extend(refs.check_module_calls(module))
        findings.extend(refs.check_variables(module))
        findings.extend(refs.check_versions(module))
        findings.extend(docs.check_readme(module, require_markers=_is_module(path, root)))
    return sorted(set(findings))


def main(argv: Sequence[str] | None = None) -> int:
    """`agentarch lint [--root DIR]`: print the findings, exit 1 when there is any."""
    parser = argparse.ArgumentParser(
        prog="agentarch lint", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (holds terraform/)")
    args = parser.parse_args(argv)
    root: Path = args.root
    findings = run_all(root)
    for finding in findings:
        print(finding.render(root))
    if findings:
        print(f"{len(findings)} finding(s)", file=sys.stderr)
        return 1
    print(f"terraform: {len(terraform_dirs(root))} directories checked, no findings")
    return 0
