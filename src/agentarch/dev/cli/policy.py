"""`agentarch policy validate|test|explain`: the tool policy author's tools; `agentarch policy
lock|unlock|locks`: the kill switch (services/locks.py), on the local stack or a deployed table.

The decisions are the agent's own: the same folder loader, the same argument normalisation (each
tool's argument schema) and the same `decide` the agent's authorizer step calls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentarch.agent.policy import (
    DEFAULT_POLICY_DIR,
    CallHistory,
    PolicyError,
    ToolPolicy,
    decide,
    load_tool_policy,
)
from agentarch.config import Env
from agentarch.core.decisions import Decision, PolicyMode
from agentarch.core.identity import Actor
from agentarch.services.locks import REASON_MAX_CHARS


class PolicyCase(BaseModel):
    """One row of a policy test table: a call and the decision it must get."""

    model_config = ConfigDict(extra="forbid")

    name: str
    user: str = "user-1"
    groups: list[str] = Field(default_factory=list)
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    turn_calls: dict[str, int] = Field(default_factory=dict)
    session_calls: dict[str, int] = Field(default_factory=dict)
    approved: bool = False
    at: datetime | None = None
    mode: PolicyMode = PolicyMode.ENFORCE
    approvals_possible: bool = True
    untrusted_seen: bool = False  # others' words are in the context
    untraced: list[str] = Field(default_factory=list)  # arguments that do not trace to the user
    expect: Decision
    expect_policies: list[str] | None = None


class PolicyCases(BaseModel):
    """A test file: `[[case]]` tables."""

    model_config = ConfigDict(extra="forbid")

    case: list[PolicyCase] = Field(min_length=1)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`agentarch policy validate|test|explain`."""
    configure_parser(
        sub.add_parser(
            "policy",
            help="validate, test and explain the agent's Cedar tool policies",
            description="Tools for the agent's tool policies (Cedar): validate a folder, run a table of "
            "cases, or explain one call's decision.",
        )
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """`agentarch policy …`."""
    sub = parser.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    validate = sub.add_parser(
        "validate",
        help="parse the policies and check them against the schema",
        description="Parse every *.cedar file of DIR and validate it against DIR's *.cedarschema. Exit 0 "
        "when valid; 2 with FILE:LINE and the Cedar engine's message otherwise (the agent refuses to start "
        "on the same error).",
    )
    validate.add_argument("folder", nargs="?", type=Path, default=DEFAULT_POLICY_DIR, metavar="DIR")
    test = sub.add_parser(
        "test",
        help="run a table of cases (TOML) against the policies",
        description="Each [[case]] of FILE names a call (user, groups, tool, args, turn_calls, "
        "session_calls, approved, at, mode, untrusted_seen, untraced) and the decision it must get (expect: allow, deny, "
        "pending_approval, approved, log_only_deny; optional expect_policies). Exit 0 when every case "
        "passes, 1 when one fails, 2 when FILE or the policies cannot be read.",
    )
    test.add_argument("file", type=Path, metavar="FILE")
    test.add_argument("--policies", type=Path, default=DEFAULT_POLICY_DIR, metavar="DIR")
    explain = sub.add_parser(
        "explain",
        help="show which policies decide one call, and which could",
        description="Decide one call as the agent would and name the policies that decided it, plus "
        "every policy that could decide this tool for this user in some context.",
    )
    explain.add_argument("--user", default="user-1", help="the caller's sub")
    explain.add_argument(
        "--group", dest="groups", action="append", default=[], help="a Cognito group (repeat)"
    )
    explain.add_argument("--tool", required=True)
    explain.add_argument("--args", default="{}", help="the tool's arguments as a JSON object")
    explain.add_argument("--approved", action="store_true", help="the user approved exactly this call")
    explain.add_argument(
        "--turn-calls", default="{}", help='calls earlier in the turn, e.g. {"calculator": 3}'
    )
    explain.add_argument("--session-calls", default="{}", help="calls earlier in the session, as JSON")
    explain.add_argument(
        "--at", type=datetime.fromisoformat, default=None, help="the time (ISO 8601; default now)"
    )
    explain.add_argument("--mode", choices=[m.value for m in PolicyMode], default=PolicyMode.ENFORCE.value)
    explain.add_argument("--policies", type=Path, default=DEFAULT_POLICY_DIR, metavar="DIR")
    where = argparse.ArgumentParser(add_help=False)
    place = where.add_argument_group("where the locks are (default: the local stack's state directory)")
    place.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get(Env.STATE_DIR, ".agentarch/state")),
        help="the local stack's state directory; its SQLite file holds the locks and the audit trail",
    )
    place.add_argument("--table", help="a deployed locks table instead (terraform output locks_table_name)")
    place.add_argument("--audit-table", help="with --table: the audit table the lock is recorded in")
    place.add_argument(
        "--runtime-arn", help="with --table: stop the scope's sessions in flight (StopRuntimeSession)"
    )
    place.add_argument("--region", help="the tables' AWS region (default: your AWS configuration's)")
    place.add_argument("--by", default=os.environ.get("USER", "admin"), help="who sets it (the audit record)")
    for action, text in (
        ("lock", "refuse every model call, tool call and new turn of a scope"),
        ("unlock", "lift a lock"),
    ):
        parser_ = sub.add_parser(
            action,
            parents=[where],
            help=text,
            description=f"{text[0].upper()}{text[1:]}, within a second on every runtime (the agent reads "
            "the lock table before each model call and tool call, the chat service before each turn). "
            "Recorded in the audit trail (session `kill-switch`).",
        )
        scope = parser_.add_mutually_exclusive_group(required=True)
        scope.add_argument("--user", help="a user's `sub`")
        scope.add_argument("--session", help="a session id")
        scope.add_argument("--all", action="store_true", help="everyone, every session")
        if action == "lock":
            parser_.add_argument("--reason", default="", help=f"why (at most {REASON_MAX_CHARS} characters)")
    sub.add_parser("locks", parents=[where], help="list the locks in force", description="List every lock.")


def run(args: argparse.Namespace) -> int:
    """Run one `agentarch policy` action."""
    if args.policy_command in ("lock", "unlock", "locks"):
        return _kill_switch(args)
    folder = args.folder if args.policy_command == "validate" else args.policies
    try:
        policy = load_tool_policy(folder)
    except PolicyError as exc:
        print(f"agentarch policy: {exc}", file=sys.stderr)
        return 2
    if args.policy_command == "validate":
        print(f"{folder}: valid ({len(policy.names)} policies; tools: {', '.join(policy.tools)})")
        return 0
    if args.policy_command == "test":
        return _run_cases(policy, args.file)
    return _explain(policy, args)


def _kill_switch(args: argparse.Namespace) -> int:
    from agentarch.adapters import wiring
    from agentarch.config import StorageSettings
    from agentarch.core.errors import AccessDenied, InvalidInput, StorageUnavailable
    from agentarch.services import locks

    if args.table:
        values = {Env.STORAGE_BACKEND: "aws", Env.LOCKS_TABLE: args.table, Env.AUDIT_TABLE: args.audit_table}
        values |= {Env.AGENT_RUNTIME_ARN: args.runtime_arn, Env.AWS_REGION: args.region}
    else:
        from agentarch.dev.sqlite import DATABASE_FILE, register

        register()
        values = {Env.STORAGE_BACKEND: "sqlite", Env.SQLITE_PATH: str(args.state_dir / DATABASE_FILE)}
    settings = StorageSettings.model_validate({k.value: v for k, v in values.items() if v is not None})
    try:
        store = wiring.lock_store(settings)
        assert store is not None  # a storage backend is always named here
        if args.policy_command == "locks":
            for lock in store.list_all():
                print(f"{lock.key}\t{lock.locked_at.isoformat()}\t{lock.locked_by}\t{lock.reason}")
            return 0
        trail = wiring.audit_trail(settings) if (not args.table or args.audit_table) else None
        scope, target = (
            ("user", args.user) if args.user else ("session", args.session) if args.session else ("all", None)
        )
        if args.policy_command == "lock":
            lock = locks.make_lock(scope, target, args.by, args.reason)
            trail_store = trail.store if trail is not None else None
            stopped = locks.set_lock(
                store,
                lock,
                trail,
                wiring.session_stopper(settings),
                (lambda lock: locks.sessions_in_flight(trail_store, lock))
                if trail_store is not None
                else None,
            )
            print(
                f"locked {lock.key}" + (f"; stopped {len(stopped)} session(s) in flight" if stopped else "")
            )
            return 0
        removed = locks.remove_lock(store, scope, target, args.by, trail)
        print(f"unlocked {locks.make_lock(scope, target, args.by).key}" if removed else "no such lock")
        return 0 if removed else 1
    except InvalidInput as exc:
        print(f"agentarch policy {args.policy_command}: {exc}", file=sys.stderr)
        return 2
    except AccessDenied as exc:
        print(
            f"agentarch policy {args.policy_command}: {exc}: check the AWS credentials and what their role may do",
            file=sys.stderr,
        )
        return 3
    except StorageUnavailable as exc:
        print(
            f"agentarch policy {args.policy_command}: the lock table is unavailable ({exc})", file=sys.stderr
        )
        return 3


def evaluate(policy: ToolPolicy, case: PolicyCase) -> tuple[Decision, tuple[str, ...], tuple[str, ...]]:
    """The agent's decision for a case: (decision, deciding policies, engine errors)."""
    from agentarch.agent.graph import normalise_arguments
    from agentarch.agent.tools import WeatherService, build_tools

    tools = {tool.name: tool for tool in build_tools(WeatherService("https://api.weather.gov", 1.0))}
    arguments = normalise_arguments(tools[case.tool], case.args) if case.tool in tools else case.args
    history = CallHistory(
        case.turn_calls, case.session_calls, case.approved, case.at or datetime.now(UTC), case.untrusted_seen
    )
    decision, answer = decide(
        policy,
        Actor(id=case.user, groups=tuple(case.groups)),
        case.tool,
        arguments,
        history,
        mode=case.mode,
        approvals_possible=case.approvals_possible,
        traced={name: name not in case.untraced for name in arguments},
    )
    return decision, answer.policies, answer.errors


def _run_cases(policy: ToolPolicy, path: Path) -> int:
    try:
        cases = PolicyCases.model_validate(tomllib.loads(path.read_text(encoding="utf-8"))).case
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        print(f"agentarch policy test: {path}: {exc}", file=sys.stderr)
        return 2
    failures = 0
    width = max(len(case.name) for case in cases)
    for case in cases:
        try:
            decision, policies, errors = evaluate(policy, case)
        except ValidationError as exc:
            decision, policies, errors = (
                Decision.DENY,
                (),
                (f"invalid arguments: {exc.error_count()} error(s)",),
            )
        ok = decision == case.expect and (
            case.expect_policies is None or sorted(policies) == sorted(case.expect_policies)
        )
        failures += not ok
        got = f"{decision.value} by {', '.join(policies) or '-'}" + (
            f" ({'; '.join(errors)})" if errors else ""
        )
        want = case.expect.value + (f" by {', '.join(case.expect_policies)}" if case.expect_policies else "")
        print(
            f"{'PASS' if ok else 'FAIL'}  {case.name:<{width}}  {got}"
            + ("" if ok else f"  — expected {want}")
        )
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


def _explain(policy: ToolPolicy, args: argparse.Namespace) -> int:
    try:
        case = PolicyCase(
            name="explain",
            user=args.user,
            groups=args.groups,
            tool=args.tool,
            args=_json_object(args.args, "--args"),
            turn_calls=_json_object(args.turn_calls, "--turn-calls"),
            session_calls=_json_object(args.session_calls, "--session-calls"),
            approved=args.approved,
            at=args.at,
            mode=PolicyMode(args.mode),
            expect=Decision.ALLOW,
        )
        decision, policies, errors = evaluate(policy, case)
    except (ValueError, ValidationError) as exc:
        print(f"agentarch policy explain: {exc}", file=sys.stderr)
        return 2
    print(f"decision:    {decision.value}")
    print(f"decided by:  {', '.join(policies) or '-'}")
    if errors:
        print(f"errors:      {'; '.join(errors)}")
    candidates = policy.candidates(Actor(id=case.user, groups=tuple(case.groups)), case.tool)
    print(f"could apply: {', '.join(candidates) or 'none (this tool is never offered to this user)'}")
    return 0


def _json_object(text: str, flag: str) -> Mapping[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{flag} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{flag} must be a JSON object")
    return value
