"""`agentarch dev`: run the whole architecture on loopback (the local stack) with the offline model."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agentarch.config import DEFAULT_MAX_BODY_BYTES, Env
from agentarch.core.decisions import PolicyMode

if TYPE_CHECKING:
    from agentarch.dev.local.identity import UserSpec

PATTERNS = {
    0: "direct: the browser calls the runtime, which trusts the user's JWT (insecure)",
    1: "passthrough: front door forwards the user's JWT to the runtime (insecure: bypass gap)",
    2: "secure: front door → chat Lambda → runtime with IAM (SigV4) auth",
    3: "full: pattern 2 plus conversations, history and AgentCore-Memory-style events",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "dev",
        help="run the whole architecture on loopback with the offline model",
        description="Run every piece of the architecture as a real server on 127.0.0.1 and serve the chat "
        "page. Patterns: " + "; ".join(f"{n} = {text}" for n, text in PATTERNS.items()),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--pattern", type=int, choices=sorted(PATTERNS), default=3, help="which pattern to run"
    )
    parser.add_argument(
        "--port", type=_tcp_port, default=8000, help="port of the page and the API (127.0.0.1)"
    )
    parser.add_argument(
        "--user",
        dest="users",
        action="append",
        type=_user_spec,
        default=[],
        metavar="NAME:PASSWORD[:GROUP,...]",
        help="a local user (repeat for several); without it a demo user is made and its password printed",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get(Env.STATE_DIR, ".agentarch/state")),
        help=f"where keys, users and data live (or set {Env.STATE_DIR})",
    )
    parser.add_argument("--rate-limit", type=int, default=100, help="requests per IP per window (WAF rule)")
    parser.add_argument("--rate-window", type=float, default=60.0, help="rate-limit window in seconds")
    parser.add_argument(
        "--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, help="WAF body size rule"
    )
    parser.add_argument(
        "--reserved-concurrency",
        action="append",
        type=_reserved_concurrency,
        default=[],
        metavar="[FUNCTION=]N",
        help="execution environments a Lambda may run at once (as Terraform's reserved_concurrent_executions; "
        "-1 reserves none); past it, calls are throttled. Repeat per function (chat, conversations, audit); "
        "a bare N applies to every function (default: -1)",
    )
    parser.add_argument(
        "--agent-workers", type=int, default=4, help="agent processes, each serving one turn at a time"
    )
    parser.add_argument(
        "--agent-read-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long the chat Lambda waits for the agent (AGENT_READ_TIMEOUT_SECONDS; default 20)",
    )
    parser.add_argument(
        "--integration-timeout",
        type=_integration_timeout,
        default=29.0,
        metavar="SECONDS",
        help="how long the front door waits for a Lambda or the runtime (API Gateway: 0.05 to 29)",
    )
    parser.add_argument(
        "--stream-timeout",
        type=_stream_timeout,
        default=900.0,
        metavar="SECONDS",
        help="how long a streamed route's whole response may take, as the front_door module's "
        "stream_timeout_ms (API Gateway: 0.05 to 900)",
    )
    parser.add_argument(
        "--policy-mode",
        choices=[mode.value for mode in PolicyMode],
        default=None,
        help=f"tool policy mode: LOG_ONLY records denials and runs the calls anyway ({Env.POLICY_MODE}; "
        "default ENFORCE)",
    )
    parser.add_argument(
        "--policy-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"a folder of Cedar tool policies and their schema ({Env.POLICY_DIR}; default: the packaged one)",
    )
    parser.add_argument(
        "--daily-requests",
        type=_non_negative,
        default=None,
        metavar="N",
        help="chat requests per user per UTC day (the default quota; small to see the 429)",
    )
    parser.add_argument(
        "--daily-tokens",
        type=_non_negative,
        default=None,
        metavar="N",
        help="model tokens per user per UTC day (the default quota)",
    )
    parser.add_argument(
        "--offline-model",
        default=None,
        metavar="NAME[:OPTIONS]",
        help="a dev-only offline model for the agent (agentarch.dev.models), e.g. "
        "faulty:wrong_tool=0.3,skip_tool=0.2; default: the offline model, or Bedrock when configured",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="the offline model's seed (faults are drawn from it)"
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("want a number >= 0")
    return value


def _chat_quotas(args: argparse.Namespace) -> str | None:
    """CHAT_QUOTAS for the local chat Lambda: the options over the shell's CHAT_QUOTAS, if any."""
    if args.daily_requests is None and args.daily_tokens is None:
        return os.environ.get(Env.CHAT_QUOTAS) or None
    from agentarch.services.quotas import DEFAULT_POLICY

    default = DEFAULT_POLICY.default
    limits = {
        "requests_per_day": default.requests_per_day if args.daily_requests is None else args.daily_requests,
        "tokens_per_day": default.tokens_per_day if args.daily_tokens is None else args.daily_tokens,
    }
    return json.dumps({"default": limits})


def _timeout(what: str, most: float) -> Callable[[str], float]:
    """An argparse type for seconds between API Gateway's 0.05 and `most`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"want seconds, got {text!r}") from None
        if not 0.05 <= value <= most:
            raise argparse.ArgumentTypeError(f"API Gateway's {what} is 0.05 to {most:g} seconds")
        return value

    return parse


_integration_timeout = _timeout("integration timeout", 29)
_stream_timeout = _timeout("stream timeout", 900)


def _user_spec(text: str) -> UserSpec:
    """`--user`: argparse shows an ArgumentTypeError's own message, but hides a ValueError's."""
    from agentarch.dev.local.identity import UserSpec

    try:
        return UserSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _tcp_port(text: str) -> int:
    """`--port`: a TCP port a server can listen on."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {port}")
    return port


def _reserved_concurrency(text: str) -> tuple[str, int]:
    name, _, number = text.rpartition("=")
    try:
        value = int(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want [FUNCTION=]N, got {text!r}") from None
    if value < -1:
        raise argparse.ArgumentTypeError("reserved concurrency is -1 (none reserved) or a number ≥ 0")
    return name or "*", value


def run(args: argparse.Namespace) -> int:
    from agentarch.dev.local.stack import LocalStack, StackOptions
    from agentarch.dev.packaging.registry import lambdas_of_pattern

    functions = [spec.name for spec in lambdas_of_pattern(3)]
    reserved: dict[str, int] = {}
    for name, value in args.reserved_concurrency:
        names = functions if name == "*" else [name]
        if name not in (*functions, "*"):
            print(
                f"agentarch dev: no function named {name!r} (have: {', '.join(functions)})", file=sys.stderr
            )
            return 2
        reserved.update(dict.fromkeys(names, value))
    if args.agent_workers < 1:
        print("agentarch dev: --agent-workers must be at least 1", file=sys.stderr)
        return 2
    from agentarch.agent.policy import PolicyError, load_tool_policy

    policy_dir = args.policy_dir or (
        Path(os.environ[Env.POLICY_DIR]) if os.environ.get(Env.POLICY_DIR) else None
    )
    try:  # the agent would refuse to start on it: say so before anything starts
        load_tool_policy(policy_dir)
    except PolicyError as exc:
        print(f"agentarch dev: the tool policy is invalid, the agent cannot start: {exc}", file=sys.stderr)
        return 2
    if args.offline_model:
        from agentarch.dev.models import ModelSpecError, build_offline_model

        try:  # the agent workers would refuse it: say so before anything starts
            build_offline_model(args.offline_model, args.seed)
        except ModelSpecError as exc:
            print(f"agentarch dev: --offline-model: {exc}", file=sys.stderr)
            return 2
    options = StackOptions(
        pattern=args.pattern,
        port=args.port,
        users=args.users,
        state_dir=args.state_dir,
        rate_limit=args.rate_limit,
        rate_window_seconds=args.rate_window,
        max_body_bytes=args.max_body_bytes,
        open_browser=not args.no_browser and not os.environ.get("CI"),
        reserved_concurrency=reserved,
        agent_workers=args.agent_workers,
        agent_read_timeout_seconds=args.agent_read_timeout,
        integration_timeout_seconds=args.integration_timeout,
        stream_timeout_seconds=args.stream_timeout,
        policy_mode=args.policy_mode,
        policy_dir=policy_dir.resolve() if policy_dir else None,
        chat_quotas=_chat_quotas(args),
        offline_model=args.offline_model,
        seed=args.seed,
    )
    return LocalStack(options).run()
