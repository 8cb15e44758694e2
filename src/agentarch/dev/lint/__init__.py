"""Static checks over Terraform: architecture rules on any tree, and (with no PATH) what
`terraform validate` and terraform-docs would say about this repository, without a registry or a cloud.

`lint_paths(paths)` evaluates every Terraform root under the paths (tfparse, see `model.py`) and
runs the architecture rules of `rules.py`: the bypass gap and its cousins.

`run_all(root)` parses every directory under `root/terraform`, checks resources and data sources
against the AWS provider schema subset kept in the repository, resolves every reference, checks
module calls against the called module's variables, variable hygiene, version pins, and the
generated README tables. `main(argv)` prints the findings and exits 1 when there are any.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from agentarch.dev.lint import docs, plantime, refs, schema
from agentarch.dev.lint.findings import SEVERITIES, Finding
from agentarch.dev.lint.hcl import clear_cache, load_module, terraform_dirs
from agentarch.dev.lint.model import UnreadableInput, check_syntax, load_tree
from agentarch.dev.lint.report import RENDERERS
from agentarch.dev.lint.rules import run_rules

__all__ = ["Finding", "lint_paths", "main", "run", "run_all"]


def _is_module(path: Path, root: Path) -> bool:
    """Modules (not examples) must carry the generated tables."""
    return path.resolve().is_relative_to((root / "terraform" / "modules").resolve())


def run_all(root: Path) -> list[Finding]:
    """Every finding for the Terraform tree under `root/terraform`, sorted by file."""
    clear_cache()
    dirs = terraform_dirs(root)
    if not dirs:
        return [
            Finding(
                root / "terraform",
                "parse",
                "no .tf files found: to check any other Terraform tree, give it as PATH (agentarch lint PATH)",
            )
        ]
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


def find_roots(path: Path) -> list[Path]:
    """The Terraform roots under `path`: itself when it holds .tf files, else every directory with
    .tf files that no other directory there calls as a local module."""
    path = path.resolve()
    if path.is_file():
        return [path.parent]
    dirs = sorted({p.parent for p in path.rglob("*.tf") if ".terraform" not in p.parts})
    if path in dirs:
        return [path]
    called: set[Path] = set()
    for directory in dirs:
        for call in load_module(directory).module_calls.values():
            source = call.body.get("source")
            if isinstance(source, str) and source.startswith(("./", "../")):
                called.add((directory / source).resolve())
    return [d for d in dirs if d not in called]


def root_label(root: Path) -> str:
    """How a finding names the root (module or example) it came from: its path from the working
    directory when it lies below it, else its absolute path."""
    try:
        return str(root.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(root.resolve())


VALIDATE_HINT = "terraform validate would refuse this; fix the name or the block"


def tree_checks(path: Path, also: Iterable[Path] = ()) -> list[Finding]:
    """Schema, reference and local module-call checks on every directory under `path`, and on the
    directories in `also` (the local modules its roots call from outside it).

    The AWS provider schema subset ships with the package; resource types it does not describe
    are skipped, and registry modules are left to the `unresolved` note.
    """
    provider = schema.load_schema(schema.PACKAGED_SCHEMA)
    path = path.resolve()
    dirs = (
        {path.parent}
        if path.is_file()
        else {p.parent for p in path.rglob("*.tf") if ".terraform" not in p.parts}
    )
    found: list[Finding] = []
    for directory in sorted(dirs | {d.resolve() for d in also}):
        module = load_module(directory)
        found += schema.check_known_types(module, provider)
        found += refs.check_references(module, provider)
        found += [f for f in refs.check_module_calls(module) if "is not a local module" not in f.message]
    return [Finding(f.file, f.rule, f.message, "error", f.line, VALIDATE_HINT) for f in found]


def reached_dirs(root: Path) -> dict[Path, str]:
    """Every directory the root evaluates: itself ("") and each local module it calls, transitively,
    with the address of the (first) call that reaches it (`module.a.module.b`)."""
    seen = {root.resolve(): ""}
    pending = [root.resolve()]
    while pending:
        directory = pending.pop()
        for name, call in load_module(directory).module_calls.items():
            source = call.body.get("source")
            if not (isinstance(source, str) and source.startswith(("./", "../"))):
                continue
            child = (directory / source).resolve()
            if child not in seen and child.is_dir():
                seen[child] = f"{seen[directory]}.module.{name}".lstrip(".")
                pending.append(child)
    return seen


def _placed(checked: Iterable[Finding], roots: Sequence[Path]) -> set[Finding]:
    """Tree-check findings (made once per directory) named by every root that evaluates their
    directory, with the module call that reaches it; one a root never reaches keeps its directory."""
    placed: set[Finding] = set()
    reach = [(root_label(root), reached_dirs(root)) for root in roots]
    for finding in checked:
        directory = finding.file.resolve()
        directory = directory if directory.is_dir() else directory.parent
        hits = [
            replace(finding, root=label, module=dirs[directory]) for label, dirs in reach if directory in dirs
        ]
        placed.update(hits or [replace(finding, root=root_label(directory))])
    return placed


def lint_paths(paths: Sequence[Path]) -> list[Finding]:
    """Rule and tree-check findings for every root under `paths`, each naming the root (and module
    instance) it came from; raises UnreadableInput."""
    clear_cache()
    findings: set[Finding] = set()
    for path in paths:
        check_syntax(path)
        roots = find_roots(path)
        called = {d for root in roots for d in reached_dirs(root)}
        findings.update(_placed(tree_checks(path, called), roots))
        for root in roots:
            label = root_label(root)
            findings.update(run_rules(load_tree(root), root=label))
            findings.update(plantime.check_root(root, label))
    return sorted(findings, key=lambda f: (f.file, f.line, f.rule, f.root, f.module, f.message))


def report(args: argparse.Namespace) -> int:
    """Print the findings; exit 0 clean, 1 findings at or above --fail-on, 2 unreadable input."""
    base = Path.cwd()
    if not args.paths:
        root: Path = args.root
        findings = run_all(root)
        if args.format != "text":
            sys.stdout.write(RENDERERS[args.format](findings, root))
        else:
            for finding in findings:
                print(finding.render(root))
        if findings:
            print(f"{len(findings)} finding(s)", file=sys.stderr)
            return 1
        if args.format == "text":
            print(f"terraform: {len(terraform_dirs(root))} directories checked, no findings")
        return 0
    try:
        findings = lint_paths(args.paths)
    except UnreadableInput as exc:
        print(f"agentarch lint: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(RENDERERS[args.format](findings, base))
    threshold = SEVERITIES.index(args.fail_on)
    failing = [f for f in findings if SEVERITIES.index(f.severity) >= threshold]
    counts = ", ".join(f"{sum(1 for f in findings if f.severity == s)} {s}(s)" for s in reversed(SEVERITIES))
    print(f"agentarch lint: {counts}; failing at --fail-on {args.fail_on}: {len(failing)}", file=sys.stderr)
    return 1 if failing else 0
