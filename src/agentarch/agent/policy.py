"""Tool policy in Cedar: which tool calls an actor may make, decided before any tool code runs.

A policy folder holds one schema (`*.cedarschema`) and any number of policy files (`*.cedar`). It is
parsed and validated against the schema once per process (`load_tool_policy`); an invalid folder
raises `PolicyError` whose message names the file and line, so the agent refuses to start with the
same words `agentarch policy validate` prints.

The request for one call: principal = `Agentarch::User::"<sub>"` in its `Agentarch::Group`s,
action = `Agentarch::Action::"<tool>"`, resource = `Agentarch::Agent::"agent"`, context = the
call's arguments (`args`), `history` (calls per tool this turn and this session, the tools used,
the UTC hour and weekday, whether the user approved exactly this call, and whether untrusted content
has entered the conversation: `untrusted_seen`) and `traced` (per argument, whether its value traces
to the user — `agent/provenance.py`). Default deny; anything the engine cannot evaluate is a deny
too (fail closed).

Which ticket a user may read is the policy's too: action `read_ticket` on an `Agentarch::Ticket`
whose `author` is a user (`may_read`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cedarpy

from agentarch.core.decisions import Decision, PolicyMode
from agentarch.core.identity import Actor

DEFAULT_POLICY_DIR = Path(__file__).with_name("policies")
NAMESPACE = "Agentarch"
DEFAULT_DENY = "default-deny"  # the name of a deny no policy decided: nothing permits the call
AGENT_ENTITY = {"type": f"{NAMESPACE}::Agent", "id": "agent"}
_SAFE_ID = re.compile(r"[^\x00-\x1f\\\"]{1,255}")
RESOURCE_ACTIONS = ("read_ticket",)  # actions on a resource, decided for a tool's results: not tools


class PolicyError(ValueError):
    """The policy folder cannot be used: unreadable, a syntax error, or a policy the schema refutes."""


@dataclass(frozen=True)
class CallHistory:
    """What is known about earlier calls and the moment of this one."""

    turn_calls: Mapping[str, int] = field(default_factory=dict)
    session_calls: Mapping[str, int] = field(default_factory=dict)
    approved: bool = False
    now: datetime | None = None
    untrusted_seen: bool = False

    def context(self, tools: Iterable[str]) -> dict[str, Any]:
        """The `history` record of the Cedar context (every tool counted, absent ones as 0)."""
        names = sorted(tools)
        now = (self.now or datetime.now(UTC)).astimezone(UTC)
        return {
            "turn_calls": {name: int(self.turn_calls.get(name, 0)) for name in names},
            "turn_total": sum(int(n) for n in self.turn_calls.values()),
            "session_calls": {name: int(self.session_calls.get(name, 0)) for name in names},
            "session_tools": sorted(name for name, n in self.session_calls.items() if n > 0),
            "now": {"hour": now.hour, "weekday": now.strftime("%A")},
            "approved": self.approved,
            "untrusted_seen": self.untrusted_seen,
        }


@dataclass(frozen=True)
class PolicyAnswer:
    """The engine's answer for one call: allowed or not, and the policies that decided it."""

    allowed: bool
    policies: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Statement:
    file: Path
    line: int
    text: str


class ToolPolicy:
    """A validated policy set and its schema, parsed once, evaluated per call."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        schema_files = sorted(folder.glob("*.cedarschema"))
        if len(schema_files) != 1:
            raise PolicyError(f"{folder}: expected exactly one *.cedarschema file, found {len(schema_files)}")
        self._schema_text = _read(schema_files[0])
        try:
            self._schema = cedarpy.Schema.from_str(self._schema_text)
        except ValueError as exc:
            raise PolicyError(f"{schema_files[0]}: {exc}") from None
        self.tools = tuple(a for a in _actions(self._schema_text) if a not in RESOURCE_ACTIONS)
        policy_files = sorted(folder.glob("*.cedar"))
        if not policy_files:
            raise PolicyError(f"{folder}: no *.cedar policy files")
        self._statements = [s for path in policy_files for s in _statements(path, _read(path))]
        text = "\n".join(s.text for s in self._statements)
        try:
            self._policies = cedarpy.PolicySet.from_str(text)
        except ValueError:
            raise PolicyError(self._locate_syntax_error()) from None
        self.names = self._policy_names(text)
        self._validate(text)

    # --- loading -------------------------------------------------------------------------------

    def _locate_syntax_error(self) -> str:
        for statement in self._statements:
            try:
                cedarpy.PolicySet.from_str(statement.text)
            except ValueError as exc:
                return f"{statement.file}:{statement.line}: {exc}"
        return f"{self.folder}: the policies cannot be parsed together"

    def _policy_names(self, text: str) -> dict[str, str]:
        """policyN (the engine's ids, in order) -> the policy's @id, or file:line when it has none."""
        names: dict[str, str] = {}
        seen: dict[str, _Statement] = {}
        for index, statement in enumerate(self._statements):
            head = re.split(r"\b(?:permit|forbid)\b", statement.text, maxsplit=1)[0]
            annotated = re.search(r'@id\(\s*"((?:[^"\\]|\\.)*)"\s*\)', head)
            name = annotated.group(1) if annotated else f"{statement.file.name}:{statement.line}"
            if name in seen:
                first = seen[name]
                raise PolicyError(
                    f"{statement.file}:{statement.line}: policy id {name!r} is already used at "
                    f"{first.file}:{first.line}"
                )
            seen[name] = statement
            names[f"policy{index}"] = name
        return names

    def _validate(self, text: str) -> None:
        result = cedarpy.validate_policies(text, self._schema)
        if result.validation_passed:
            return
        error = result.errors[0]
        where = self._where(error.policy_id)
        raise PolicyError(
            f"{where}: {error.error} (policy {self.names.get(error.policy_id, error.policy_id)})"
        )

    def _where(self, engine_id: str) -> str:
        index = int(engine_id.removeprefix("policy")) if engine_id.startswith("policy") else -1
        if 0 <= index < len(self._statements):
            statement = self._statements[index]
            return f"{statement.file}:{statement.line}"
        return str(self.folder)

    # --- evaluation ----------------------------------------------------------------------------

    def is_allowed(
        self,
        principal: Actor,
        tool: str,
        args: Mapping[str, Any],
        history: CallHistory,
        traced: Mapping[str, bool] | None = None,
    ) -> PolicyAnswer:
        """Evaluate one call. Unknown tool, bad identity or any engine error: a deny (fail closed).

        `traced`: per argument, whether it traces to the user; absent arguments count as not traced.
        """
        if tool not in self.tools or not principal.id:
            return PolicyAnswer(False, errors=(f"no policy can permit {tool!r} without an identity",))
        request = {
            "principal": {"type": f"{NAMESPACE}::User", "id": principal.id},
            "action": {"type": f"{NAMESPACE}::Action", "id": tool},
            "resource": AGENT_ENTITY,
            "context": {
                "args": _cedar_values(args),
                "history": history.context(self.tools),
                "traced": {str(name): bool((traced or {}).get(str(name), False)) for name in args},
            },
        }
        try:
            result = cedarpy.is_authorized(request, self._policies, _entities(principal), self._schema)
        except Exception as exc:
            return PolicyAnswer(False, errors=(f"the policy engine failed: {exc}",))
        diagnostics = result.diagnostics
        policies = tuple(self.names.get(reason, reason) for reason in diagnostics.reasons)
        return PolicyAnswer(result.allowed, policies, tuple(diagnostics.errors))

    def may_read(self, principal: Actor, author_id: str) -> bool:
        """Whether the principal may read a ticket this user wrote (`read_ticket`); any error: no."""
        if not principal.id or not author_id:
            return False
        ticket = {"type": f"{NAMESPACE}::Ticket", "id": "ticket"}
        author = {"type": f"{NAMESPACE}::User", "id": author_id}
        entities = [
            *(e for e in _entities(principal) if e["uid"] != AGENT_ENTITY),
            {"uid": ticket, "attrs": {"author": {"__entity": author}}, "parents": []},
        ]
        if author_id != principal.id:
            entities.append({"uid": author, "attrs": {}, "parents": []})
        request = {
            "principal": {"type": f"{NAMESPACE}::User", "id": principal.id},
            "action": {"type": f"{NAMESPACE}::Action", "id": "read_ticket"},
            "resource": ticket,
            "context": {},
        }
        try:
            return bool(cedarpy.is_authorized(request, self._policies, entities, self._schema).allowed)
        except Exception:
            return False

    def may_ever_allow(self, principal: Actor, tool: str) -> bool:
        """False when no context could permit this tool for this principal (partial evaluation).

        Used to keep such tools from the model altogether; every call is still decided in full.
        """
        if tool not in self.tools or not principal.id:
            return False
        partial = self._without_context(principal, tool)
        # Undecidable (an id no entity literal can hold, an engine error): offer it, enforcement decides.
        return partial is None or partial.decision != cedarpy.Decision.Deny

    def candidates(self, principal: Actor, tool: str) -> tuple[str, ...]:
        """The policies that could decide this tool for this principal, whatever the context."""
        partial = self._without_context(principal, tool)
        if partial is None:
            return ()
        found = [*partial.diagnostics.reasons, *partial.diagnostics.may_be_determining]
        return tuple(dict.fromkeys(self.names.get(p, p) for p in found))

    def _without_context(self, principal: Actor, tool: str) -> cedarpy.PartialAuthzResult | None:
        """Partial evaluation of the call with the context unknown; None when it cannot be asked."""
        if not all(_SAFE_ID.fullmatch(value) for value in (principal.id, *principal.groups)):
            return None  # the partial API takes entity literals only
        request = {
            "principal": f"{NAMESPACE}::User::{json.dumps(principal.id, ensure_ascii=False)}",
            "action": f'{NAMESPACE}::Action::"{tool}"',
            "resource": f'{NAMESPACE}::Agent::"agent"',
        }
        try:
            return cedarpy.is_authorized_partial(request, self._policies, _entities(principal), self._schema)
        except Exception:  # whatever the engine raises: no answer
            return None


def decide(
    policy: ToolPolicy,
    principal: Actor,
    tool: str,
    args: Mapping[str, Any],
    history: CallHistory,
    *,
    mode: PolicyMode = PolicyMode.ENFORCE,
    approvals_possible: bool = True,
    traced: Mapping[str, bool] | None = None,
) -> tuple[Decision, PolicyAnswer]:
    """The decision for one call: allowed, denied, or allowed only with the user's approval.

    A call the policies permit only when `approved` is true needs the user's approval: that is
    `pending_approval` (or `deny` when nowhere can hold an approval, as in pattern 2). In LOG_ONLY
    every call that is not allowed becomes `log_only_deny` and runs.
    """
    answer = policy.is_allowed(principal, tool, args, history, traced)
    if answer.allowed:
        return (Decision.APPROVED if history.approved else Decision.ALLOW), answer
    decision = Decision.DENY
    if not answer.policies and not answer.errors:
        answer = PolicyAnswer(False, (DEFAULT_DENY,))
    needs_approval = not history.approved and not answer.errors
    if needs_approval and policy.is_allowed(principal, tool, args, _approved(history), traced).allowed:
        if approvals_possible:
            decision = Decision.PENDING_APPROVAL  # the policies that ask for the approval stay named
        else:
            answer = PolicyAnswer(False, errors=("approvals need conversation storage, which is off",))
    if mode is PolicyMode.LOG_ONLY and decision is not Decision.ALLOW:
        return Decision.LOG_ONLY_DENY, answer
    return decision, answer


def load_tool_policy(folder: Path | None = None) -> ToolPolicy:
    """Parse and validate a policy folder (the packaged default when None)."""
    return ToolPolicy(Path(folder) if folder else DEFAULT_POLICY_DIR)


def _approved(history: CallHistory) -> CallHistory:
    return CallHistory(history.turn_calls, history.session_calls, True, history.now, history.untrusted_seen)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot be read ({exc})") from None


def _entities(principal: Actor) -> list[dict[str, Any]]:
    groups = [{"type": f"{NAMESPACE}::Group", "id": group} for group in principal.groups]
    return [
        {"uid": {"type": f"{NAMESPACE}::User", "id": principal.id}, "attrs": {}, "parents": groups},
        *({"uid": group, "attrs": {}, "parents": []} for group in groups),
        {"uid": AGENT_ENTITY, "attrs": {}, "parents": []},
    ]


def _cedar_values(args: Mapping[str, Any]) -> dict[str, Any]:
    """Tool arguments as Cedar values: floats become decimals (4 places, Cedar's precision)."""

    def convert(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, float):
            return {"__extn": {"fn": "decimal", "arg": f"{value:.4f}"}}
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [convert(v) for v in value]
        return value

    return {str(k): convert(v) for k, v in args.items()}


def _actions(schema_text: str) -> list[str]:
    return re.findall(r'^\s*action\s+"?([A-Za-z_][A-Za-z0-9_]*)"?\s+appliesTo', schema_text, re.MULTILINE)


def _statements(path: Path, text: str) -> list[_Statement]:
    """Split a policy file into statements (each ends with a top-level `;`), with their first line."""
    statements: list[_Statement] = []
    start: int | None = None
    depth, index, in_string = 0, 0, False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif text.startswith("//", index):
            index = text.find("\n", index)
            if index < 0:
                break
        elif not char.isspace():
            if start is None:
                start = index
            if char == '"':
                in_string = True
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
            elif char == ";" and depth <= 0:
                statements.append(_Statement(path, text.count("\n", 0, start) + 1, text[start : index + 1]))
                start, depth = None, 0
        index += 1
    if start is not None and text[start:].strip():
        statements.append(_Statement(path, text.count("\n", 0, start) + 1, text[start:]))
    return statements
