"""Plan-time knowledge: a `count` or `for_each` decided by a value Terraform knows only after apply.

Terraform refuses such a plan ("Invalid count argument" / "Invalid for_each argument"). The rule
reads the source HCL (python-hcl2), walks every local module a root calls with the arguments it
passes, and classifies each value an argument, local or output holds:

- KNOWN: a literal, a root variable, a data source read at plan, a resource argument set to a known value;
- REFINED: unknown but known to be non-null: a string template with literal text around an unknown
  (`"${aws_s3_bucket.b.arn}/*"`; Terraform >= 1.6 refines it), so `x == null` is decided at plan;
- UNKNOWN: a resource attribute the configuration does not set (`aws_s3_bucket.b.id`), or anything
  derived from one (a module output, a local, a module input).

A map literal's keys are known whatever its values, so `for_each` over one is fine. Where it cannot
tell (a remote module, a value it cannot read), the rule stays quiet: it reports only what it can
trace to an apply-time attribute, and names that attribute. Calibrated against `terraform plan`
(tests/terraform/test_plan_time.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.hcl import BLOCK_MARK, COMMENTS, TfModule, line_of, load_module
from agentarch.dev.lint.model import module_instance

KNOWN, REFINED, UNKNOWN = 0, 1, 2
RULE_ID = "plan-time-unknown"
HINT = (
    "Decide the count from a value known at plan (a variable or a literal: e.g. a create_x = false "
    "flag beside the name another resource creates), or key for_each by known strings."
)
_REF = re.compile(
    r"(?<![\w.\"])(?:"
    r"(?P<var>var\.\w+)|(?P<local>local\.\w+)|(?P<module>module\.\w+(?:\[[^\]]*\])?\.\w+)"
    r"|(?P<data>data\.\w+\.\w+(?:\[[^\]]*\])?\.\w+)"
    r"|(?P<res>[a-z][a-z0-9]*_\w+\.\w+(?:\[[^\]]*\])?\.\w+)"
    r")"
)
_NULL_AFTER = re.compile(r"\s*[!=]=\s*null\b")
_NULL_BEFORE = re.compile(r"\bnull\s*[!=]=\s*$")
_INDEX = re.compile(r"\[[^\]]*\]")

Verdict = tuple[int, str]  # (status, the apply-time attribute it comes from)


@dataclass(eq=False)
class Scope:
    """One module instance: its parsed files, its address, and the call (with the caller's scope)."""

    module: TfModule
    address: str  # "" for the root, else module.a.module.b
    caller: Scope | None = None
    args: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Verdict] = field(default_factory=dict)
    children: dict[str, Scope | None] = field(default_factory=dict)

    def prefix(self, name: str) -> str:
        return f"{self.address}.{name}" if self.address else name


def _single_interpolation(text: str) -> str | None:
    """The inner expression when `text` is exactly one `${...}`, else None."""
    if not (text.startswith("${") and text.endswith("}")):
        return None
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return None
    return text[2:-1]


def _local_source(scope: Scope, source: Any) -> Path | None:
    if isinstance(source, str) and source.startswith(("./", "../")):
        path = (scope.module.path / source).resolve()
        return path if path.is_dir() else None
    return None


def child_scope(scope: Scope, call: str) -> Scope | None:
    """The scope of `module.<call>` (one per call, so its values are worked out once)."""
    if call not in scope.children:
        scope.children[call] = _new_child(scope, call)
    return scope.children[call]


def _new_child(scope: Scope, call: str) -> Scope | None:
    block = scope.module.module_calls.get(call)
    if block is None:
        return None
    path = _local_source(scope, block.body.get("source"))
    if path is None:
        return None
    args = {k: v for k, v in block.body.items() if k not in (BLOCK_MARK, COMMENTS)}
    return Scope(load_module(path), scope.prefix(f"module.{call}"), scope, args)


def value_status(scope: Scope, value: Any) -> Verdict:
    """How much Terraform knows of `value` (an argument, local or output value) at plan."""
    if isinstance(value, dict):
        return KNOWN, ""  # an object or map literal: its keys (and so its length) are known
    if isinstance(value, list):
        verdicts = [value_status(scope, v) for v in value]
        return max(verdicts, default=(KNOWN, ""))
    if not isinstance(value, str) or "${" not in value:
        return KNOWN, ""
    inner = _single_interpolation(value)
    if inner is None:  # a template with literal text: never null, whatever it holds
        worst = expression_status(scope, value.replace("${", "(").replace("}", ")"))
        return (REFINED, worst[1]) if worst[0] > KNOWN else (KNOWN, "")
    return expression_status(scope, inner)


def expression_status(scope: Scope, expr: str) -> Verdict:
    """Status of an expression: the worst of the references it reads, where a reference compared
    only with null counts as known when it is REFINED (a template is never null)."""
    bare = _REF.fullmatch(expr.strip())
    if bare:
        return ref_status(scope, bare.group(0))
    branches = _conditional(expr)
    if branches is not None:
        condition = expression_status(scope, branches[0])
        if condition[0] == UNKNOWN:
            return condition
        chosen = _decide(scope, branches[0])
        if chosen is not None:
            return expression_status(scope, branches[1] if chosen else branches[2])
        # A known condition picks one branch; when it is not one we can evaluate, the result is
        # unknown only if both are (precision first: the rule never guesses the branch).
        return min(expression_status(scope, branches[1]), expression_status(scope, branches[2]))
    expr = _LENGTH.sub(lambda m: "0" if shape_known(scope, m.group(1)) else m.group(0), expr)
    worst: Verdict = (KNOWN, "")
    uses: dict[str, list[bool]] = {}
    for match in _REF.finditer(expr):
        null_compared = bool(
            _NULL_AFTER.match(expr, match.end()) or _NULL_BEFORE.search(expr, 0, match.start())
        )
        uses.setdefault(match.group(0), []).append(null_compared)
    for ref, compared in uses.items():
        status, why = ref_status(scope, ref)
        if all(compared) and status <= REFINED:
            status = KNOWN
        if status > worst[0]:
            worst = (status, why)
    return worst


_LENGTH = re.compile(r"\blength\(\s*((?:var|local)\.\w+)\s*\)")


def shape_known(scope: Scope, ref: str, depth: int = 0) -> bool:
    """Is the length of the list or map `ref` (`var.x`, `local.x`) known at plan, whatever its
    elements hold? True when it is a list or map literal (`[aws_s3_bucket.b.arn]` has one element),
    a root variable or a default, or a bare reference to another such input; False when unsure."""
    if depth > 20:
        return False
    kind, _, name = ref.partition(".")
    if kind == "var":
        if scope.caller is None or name not in scope.args:
            return True  # a root variable, or a default: given at plan
        value, owner = scope.args[name], scope.caller
    else:
        if name not in scope.module.locals:
            return False
        value, owner = scope.module.locals[name][0], scope
    if isinstance(value, list | dict):
        return True
    inner = _single_interpolation(value) if isinstance(value, str) else None
    bare = _BARE_INPUT.match(inner) if inner is not None else None
    return bare is not None and shape_known(owner, f"{bare.group(1)}.{bare.group(2)}", depth + 1)


def _conditional(expr: str) -> tuple[str, str, str] | None:
    """(condition, then, else) of a top-level `c ? a : b`, outside brackets and strings."""
    depth, quoted, question, colon = 0, False, -1, -1
    nested = 0
    for i, ch in enumerate(expr):
        if ch == '"' and (i == 0 or expr[i - 1] != "\\"):
            quoted = not quoted
        if quoted:
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == "?":
            if question < 0:
                question = i
            else:
                nested += 1
        elif depth == 0 and ch == ":" and question >= 0:
            if nested:
                nested -= 1
            elif colon < 0:
                colon = i
    if question < 0 or colon < 0:
        return None
    return expr[:question], expr[question + 1 : colon], expr[colon + 1 :]


_NULL_TEST = re.compile(r"^\s*var\.(\w+)\s*(==|!=)\s*null\s*$")
_BARE_INPUT = re.compile(r"^\s*(var|local)\.(\w+)\s*$")


def _given(scope: Scope, name: str) -> tuple[bool, Any]:
    """(decided?, value) of `var.<name>` in this module instance: a literal passed, or the default."""
    if scope.caller is not None and name in scope.args:
        given = scope.args[name]
        if isinstance(given, str) and "${" in given:
            return (True, None) if given.replace(" ", "") == "${null}" else (False, None)
        return True, given
    if scope.caller is None or name not in scope.module.variables:
        return False, None  # a root variable: its value is the user's
    block = scope.module.variables[name].body
    return ("default" in block), block.get("default")


def _decide(scope: Scope, condition: str, depth: int = 0) -> bool | None:
    """The value of a condition built of `var.x == null`, `var.x != null`, a bool input or a local
    holding one, or a conditional of them, when the call or the defaults decide it; else None."""
    if depth > 20:
        return None
    match = _NULL_TEST.match(condition)
    if match:
        decided, value = _given(scope, match.group(1))
        if not decided:
            return None
        return (value is None) if match.group(2) == "==" else (value is not None)
    match = _BARE_INPUT.match(condition)
    if match and match.group(1) == "var":
        decided, value = _given(scope, match.group(2))
        return value if decided and isinstance(value, bool) else None
    if match and match.group(2) in scope.module.locals:
        inner = _single_interpolation(str(scope.module.locals[match.group(2)][0]))
        return None if inner is None else _decide(scope, inner, depth + 1)
    branches = _conditional(condition)
    if branches is not None:
        first = _decide(scope, branches[0], depth + 1)
        if first is not None:
            return _decide(scope, branches[1] if first else branches[2], depth + 1)
    return None


def ref_status(scope: Scope, ref: str) -> Verdict:
    if ref in scope.memo:
        return scope.memo[ref]
    scope.memo[ref] = (KNOWN, "")  # a cycle is Terraform's to report
    scope.memo[ref] = verdict = _ref_status(scope, ref)
    return verdict


def _ref_status(scope: Scope, ref: str) -> Verdict:
    parts = _INDEX.sub("", ref).split(".")
    module = scope.module
    if parts[0] == "var":
        if scope.caller is None or parts[1] not in scope.args:
            return KNOWN, ""  # a root variable, or a default: given at plan
        return value_status(scope.caller, scope.args[parts[1]])
    if parts[0] == "local":
        if parts[1] not in module.locals:
            return KNOWN, ""
        return value_status(scope, module.locals[parts[1]][0])
    if parts[0] == "module":
        child = child_scope(scope, parts[1])
        output = child.module.outputs.get(parts[2]) if child else None
        if child is None or output is None:
            return KNOWN, ""  # a remote module or a missing output: not ours to guess
        return value_status(child, output.body.get("value"))
    if parts[0] == "data":
        block = module.data.get((parts[1], parts[2]))
        if block is None:
            return KNOWN, ""
        args = [v for k, v in block.body.items() if k not in (BLOCK_MARK, COMMENTS, "depends_on")]
        return max((value_status(scope, v) for v in args), default=(KNOWN, ""))
    block = module.resources.get((parts[0], parts[1]))
    if block is None:
        return KNOWN, ""
    attribute = parts[2]
    if attribute in block.body:  # an argument the configuration sets: as known as its value
        return value_status(scope, block.body[attribute])
    return UNKNOWN, scope.prefix(f"{parts[0]}.{parts[1]}.{attribute}")


def _counted_blocks(scope: Scope) -> Iterator[tuple[str, Path, str, str, Any]]:
    """(address, file, header, argument, value) of every count/for_each of the module's blocks."""
    module = scope.module
    for (rtype, name), block in module.resources.items():
        for arg in ("count", "for_each"):
            if arg in block.body:
                yield (
                    scope.prefix(f"{rtype}.{name}"),
                    block.file,
                    f'resource "{rtype}" "{name}"',
                    arg,
                    block.body[arg],
                )
    for (rtype, name), block in module.data.items():
        for arg in ("count", "for_each"):
            if arg in block.body:
                yield (
                    scope.prefix(f"data.{rtype}.{name}"),
                    block.file,
                    f'data "{rtype}" "{name}"',
                    arg,
                    block.body[arg],
                )
    for name, block in module.module_calls.items():
        for arg in ("count", "for_each"):
            if arg in block.body:
                yield scope.prefix(f"module.{name}"), block.file, f'module "{name}"', arg, block.body[arg]


def check_root(root: Path, shown_root: str | None = None) -> list[Finding]:
    """Every count/for_each under the root `root` (its local modules included) Terraform cannot decide at plan."""
    findings: list[Finding] = []
    label = shown_root or root.name
    pending = [Scope(load_module(root), "")]
    seen = 0
    while pending and seen < 500:  # a module calling itself is Terraform's to refuse
        scope = pending.pop()
        seen += 1
        for address, file, header, arg, value in _counted_blocks(scope):
            status, why = value_status(scope, value)
            if status != UNKNOWN:
                continue
            error = "Invalid count argument" if arg == "count" else "Invalid for_each argument"
            findings.append(
                Finding(
                    file,
                    RULE_ID,
                    (
                        f"{address}: its {arg} depends on {why}, known only after apply; "
                        f'`terraform plan` stops with "{error}"'
                    ),
                    "error",
                    line_of(file, header, arg),
                    HINT,
                    label,
                    module_instance(address),
                )
            )
        for call in scope.module.module_calls:
            child = child_scope(scope, call)
            if child is not None:
                pending.append(child)
    return findings
