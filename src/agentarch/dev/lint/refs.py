"""Reference resolution, module-call arguments, variable hygiene and provider pins.

Every `var.`, `local.`, `module.X.Y`, `data.T.N.attr` and `T.N.attr` in an expression must name
something declared: Terraform reports these only at `validate`, which cannot run here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.hcl import BLOCK_MARK, COMMENTS, Block, TfModule, load_module, plain
from agentarch.dev.lint.schema import readable_attributes

MODULE_META = frozenset({"source", "version", "count", "for_each", "depends_on", "providers"})
REQUIRED_TERRAFORM = ">= 1.10"  # use_lockfile (S3 state locking) needs 1.10
REQUIRED_AWS = ">= 6.66, < 7.0"  # the schema subset is 6.66.0; 7.0 may break arguments

_HEAD = re.compile(r"(?<![\w.\-])(var|local|module|data|aws_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")
_TAIL = re.compile(r"(\[[^\[\]]*\]|\.\*|\.[A-Za-z_][\w-]*)")


@dataclass(frozen=True)
class Reference:
    """`kind.name` followed by the rest of the traversal, split into steps."""

    kind: str
    name: str
    steps: tuple[str, ...]

    def text(self) -> str:
        """The reference as written (without indexes' contents)."""
        return ".".join((self.kind, self.name)) + "".join(self.steps)

    def first_attribute(self, skip: int = 0) -> tuple[bool, str | None]:
        """(was the object indexed, first attribute name after `skip` attribute steps)."""
        indexed = False
        names_seen = 0
        for step in self.steps:
            if step.startswith("[") or step == ".*":
                if names_seen == skip:
                    indexed = True
                continue
            if names_seen == skip:
                return indexed, step[1:]
            names_seen += 1
        return indexed, None


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a parsed value (dict keys excluded, markers skipped)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key not in (BLOCK_MARK, COMMENTS):
                yield from strings_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings_in(inner)


def references_in(value: Any) -> Iterator[Reference]:
    """References in the expressions of a parsed value; plain literal strings are skipped."""
    for text in strings_in(value):
        if "${" not in text and "%{" not in text:
            continue
        for match in _HEAD.finditer(text):
            steps: list[str] = []
            pos = match.end()
            while True:
                tail = _TAIL.match(text, pos)
                if tail is None:
                    break
                steps.append(tail.group(1))
                pos = tail.end()
            yield Reference(match.group(1), match.group(2), tuple(steps))


def _counted(body: dict[str, Any]) -> bool:
    return "count" in body or "for_each" in body


def check_references(module: TfModule, schema: dict[str, Any]) -> list[Finding]:
    """Every reference in one directory resolves to something declared there."""
    findings: list[Finding] = []
    blocks = module.all_blocks()
    sources: list[tuple[Path, str, Any]] = [(b.file, b.address, b.body) for b in blocks if b.kind != "moved"]
    sources.extend((file, f"local.{name}", value) for name, (value, file) in module.locals.items())
    for block in blocks:  # `from` and `to` are addresses, not expressions: `from` is gone by design
        if block.kind == "moved":
            problem = _moved_target(module, plain(block.body).get("to"))
            if problem:
                findings.append(Finding(block.file, "reference", f"moved: {problem}"))
    for file, where, body in sources:
        seen: set[str] = set()
        for ref in references_in(body):
            message = _resolve(module, schema, ref)
            if message and (message not in seen):
                seen.add(message)
                findings.append(Finding(file, "reference", f"{where}: {message}"))
    return findings


def _resolve(module: TfModule, schema: dict[str, Any], ref: Reference) -> str | None:
    if ref.kind == "var":
        return None if ref.name in module.variables else f"var.{ref.name} is not declared"
    if ref.kind == "local":
        return None if ref.name in module.locals else f"local.{ref.name} is not declared"
    if ref.kind == "module":
        call = module.module_calls.get(ref.name)
        if call is None:
            return f"module.{ref.name} is not declared"
        indexed, output = ref.first_attribute()
        problem = _index_problem(call.body, indexed, f"module.{ref.name}", output)
        if problem:
            return problem
        target = _module_target(call)
        if output is not None and target is not None and output not in target.outputs:
            return f"module.{ref.name} has no output {output!r}"
        return None
    if ref.kind == "data":
        indexed, name = ref.first_attribute()
        if name is None:
            return f"data.{ref.name} is incomplete"
        block = module.data.get((ref.name, name))
        if block is None:
            return f"data.{ref.name}.{name} is not declared"
        indexed, attr = ref.first_attribute(skip=1)
        problem = _index_problem(block.body, indexed, f"data.{ref.name}.{name}", attr)
        if problem:
            return problem
        node = schema.get("data_sources", {}).get(ref.name)
        if attr is not None and node is not None and attr not in readable_attributes(node):
            return f"data.{ref.name}.{name} has no attribute {attr!r}"
        return None
    # a resource: aws_<type>.<name>
    resource = module.resources.get((ref.kind, ref.name))
    if resource is None:
        return f"{ref.kind}.{ref.name} is not declared"
    indexed, attr = ref.first_attribute()
    problem = _index_problem(resource.body, indexed, f"{ref.kind}.{ref.name}", attr)
    if problem:
        return problem
    node = schema.get("resources", {}).get(ref.kind)
    if attr is not None and node is not None and attr not in readable_attributes(node):
        return f"{ref.kind}.{ref.name} has no attribute {attr!r}"
    return None


def _moved_target(module: TfModule, to: Any) -> str | None:
    """Why a `moved` block's `to` names nothing this module declares (a resource here, or one a local
    module call declares, at any depth), or None."""
    text = str(to or "").strip()
    text = text[2:-1] if text.startswith("${") and text.endswith("}") else text
    parts = re.sub(r"\[[^\]]*\]", "", text).split(".")
    where = module
    while len(parts) >= 2 and parts[0] == "module":
        call = where.module_calls.get(parts[1])
        target = _module_target(call) if call is not None else None
        if call is None:
            return f"{text}: module.{parts[1]} is not declared"
        if target is None:
            return None  # a registry module: nothing here to check it against
        where, parts = target, parts[2:]
    if not parts or parts == [""]:
        return None if text.startswith("module.") else f"{text!r} is not an address"
    if len(parts) != 2 or (parts[0], parts[1]) not in where.resources:
        return f"{text} is not declared"
    return None


def _index_problem(body: dict[str, Any], indexed: bool, address: str, attr: str | None) -> str | None:
    # A whole collection (`for x in aws_t.n`, depends_on) is fine; reading an attribute is not.
    if _counted(body) and not indexed and attr is not None:
        return f"{address} has count/for_each: pick an instance ({address}[...]) or use a splat"
    if indexed and not _counted(body):
        return f"{address} has no count/for_each and cannot be indexed"
    return None


def _module_target(call: Block) -> TfModule | None:
    source = call.body.get("source")
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        return None
    target = (call.file.parent / source).resolve()
    return load_module(target) if target.is_dir() else None


def check_module_calls(module: TfModule) -> list[Finding]:
    """Module calls pass only declared variables, and every variable without a default."""
    findings: list[Finding] = []
    for name, call in module.module_calls.items():
        source = call.body.get("source")
        target = _module_target(call)
        if target is None:
            findings.append(
                Finding(call.file, "module-call", f"module.{name}: source {source!r} is not a local module")
            )
            continue
        if not target.files:
            findings.append(
                Finding(call.file, "module-call", f"module.{name}: {source!r} holds no .tf files")
            )
            continue
        passed = {k for k in call.body if k not in MODULE_META and k not in (BLOCK_MARK, COMMENTS)}
        for arg in sorted(passed - set(target.variables)):
            findings.append(
                Finding(call.file, "module-call", f"module.{name}: {source} declares no variable {arg!r}")
            )
        for var_name, var in sorted(target.variables.items()):
            if "default" not in var.body and var_name not in passed:
                findings.append(
                    Finding(
                        call.file,
                        "module-call",
                        f"module.{name}: required variable {var_name!r} is not passed",
                    )
                )
    return findings


def check_variables(module: TfModule) -> list[Finding]:
    """Variables have a type and a description; closed sets ("One of ...") have a validation."""
    findings: list[Finding] = []
    for name, var in sorted(module.variables.items()):
        if "type" not in var.body:
            findings.append(Finding(var.file, "variable", f"var.{name} has no type"))
        description = var.body.get("description")
        if not isinstance(description, str) or not description.strip():
            findings.append(Finding(var.file, "variable", f"var.{name} has no description"))
        elif "one of" in description.lower() and "validation" not in var.body:
            findings.append(
                Finding(
                    var.file, "variable", f"var.{name} lists a closed set of values but has no validation"
                )
            )
    for name, out in sorted(module.outputs.items()):
        description = out.body.get("description")
        if not isinstance(description, str) or not description.strip():
            findings.append(Finding(out.file, "output", f"output.{name} has no description"))
    return findings


def check_versions(module: TfModule) -> list[Finding]:
    """Terraform and the AWS provider are pinned to the versions the schema describes."""
    versions = module.path / "versions.tf"
    if not versions.exists():
        return [Finding(module.path, "versions", "no versions.tf (required_version and provider minimums)")]
    findings: list[Finding] = []
    terraform_blocks = [b for b in module.others if b.kind == "terraform" and b.file == versions]
    required_version = next(
        (b.body.get("required_version") for b in terraform_blocks if "required_version" in b.body), None
    )
    if required_version != REQUIRED_TERRAFORM:
        findings.append(Finding(versions, "versions", f"required_version should be {REQUIRED_TERRAFORM!r}"))
    aws: Any = None
    for block in terraform_blocks:
        for providers in block.body.get("required_providers", []):
            if isinstance(providers, dict) and "aws" in providers:
                aws = providers["aws"]
    if (
        not isinstance(aws, dict)
        or aws.get("source") != "hashicorp/aws"
        or aws.get("version") != REQUIRED_AWS
    ):
        findings.append(
            Finding(versions, "versions", f"required_providers.aws should be hashicorp/aws {REQUIRED_AWS!r}")
        )
    return findings
