"""`agentarch` — run the architecture locally, and the tools around it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentarch import __version__
from agentarch.config import DEFAULT_MAX_BODY_BYTES, Env

if TYPE_CHECKING:
    from agentarch.local.identity import UserSpec

PATTERNS = {
    0: "direct: the browser calls the runtime, which trusts the user's JWT (insecure)",
    1: "passthrough: front door forwards the user's JWT to the runtime (insecure: bypass gap)",
    2: "secure: front door → chat Lambda → runtime with IAM (SigV4) auth",
    3: "full: pattern 2 plus conversations, history and AgentCore-Memory-style events",
}


def _dev_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "--policy-mode",
        choices=("ENFORCE", "LOG_ONLY"),
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


def _integration_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want seconds, got {text!r}") from None
    if not 0.05 <= value <= 29:
        raise argparse.ArgumentTypeError("API Gateway's integration timeout is 0.05 to 29 seconds")
    return value


def _user_spec(text: str) -> UserSpec:
    """`--user`: argparse shows an ArgumentTypeError's own message, but hides a ValueError's."""
    from agentarch.local.identity import UserSpec

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


def _run_dev(args: argparse.Namespace) -> int:
    from agentarch.build.registry import lambdas_of_pattern
    from agentarch.local.stack import LocalStack, StackOptions

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
        policy_mode=args.policy_mode,
        policy_dir=policy_dir.resolve() if policy_dir else None,
        chat_quotas=_chat_quotas(args),
    )
    return LocalStack(options).run()


def openapi_document() -> dict[str, Any]:
    """One OpenAPI document for the whole API: each Lambda's resolver, merged by Powertools."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from agentarch.handlers.audit import app as audit_app
    from agentarch.handlers.chat import app as chat_app
    from agentarch.handlers.conversations import app as conversations_app

    merge = OpenAPIMerge(
        title="agentarch API",
        version=__version__,
        description='Every error answers {"error": {"code", "message", "request_id"}}.',
        security_schemes={
            "cognito": HTTPBearer(
                bearerFormat="JWT",
                description="a Cognito access token carrying the API scope (ID tokens are refused)",
            )
        },
        security=[{"cognito": []}],
        on_conflict="error",
    )
    for resolver in (chat_app, conversations_app, audit_app):
        merge.add_schema(json.loads(resolver.get_openapi_json_schema()))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    return document


def _run_openapi(args: argparse.Namespace) -> int:
    text = json.dumps(openapi_document(), indent=2) + "\n"
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _run_web_config(args: argparse.Namespace) -> int:
    import shutil

    from agentarch.local.stack import WEB_DIR
    from agentarch.webconfig import WebConfigError, write_web_config

    out: Path = args.out
    try:
        config = write_web_config(args.source, out / "config.json")
    except WebConfigError as exc:
        print(f"agentarch web-config: {exc}", file=sys.stderr)
        return 2
    for page_file in sorted(WEB_DIR.iterdir()):
        if page_file.is_file():
            shutil.copyfile(page_file, out / page_file.name)
    redirect = config["cognito"]["redirect_uri"]
    print(f"wrote {out}/config.json (pattern {config['pattern']}) and the page beside it", file=sys.stderr)
    print(f"serve it where Cognito redirects ({redirect}), e.g.:", file=sys.stderr)
    print(f"  python3 -m http.server 8000 --bind 127.0.0.1 --directory {out}", file=sys.stderr)
    return 0


def _run_lint(args: argparse.Namespace) -> int:
    try:
        from agentarch.lint import run as run_lint
    except ModuleNotFoundError as exc:  # `make dev` installs what running needs, not the lint tools
        if exc.name not in ("hcl2", "tfparse", "jsonschema"):
            raise
        print(
            "agentarch lint: needs the test tools; run `make test` once (or pip install -e '.[dev]')",
            file=sys.stderr,
        )
        return 2

    return run_lint(args)


def _run_policy(args: argparse.Namespace) -> int:
    from agentarch.policy_cli import run

    return run(args)


AUDIT_COLUMNS = (
    "time",
    "actor",
    "session",
    "seq",
    "kind",
    "tool",
    "call_id",
    "decision",
    "mode",
    "outcome",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "error",
)


def _audit_source(suppress: bool) -> argparse.ArgumentParser:
    """Where the trail is; `verify` repeats the options without defaults, so `audit --table T verify` works."""
    source = argparse.ArgumentParser(add_help=False)
    where = source.add_argument_group("where the trail is (default: the local stack's state directory)")
    state_dir = Path(os.environ.get(Env.STATE_DIR, ".agentarch/state"))
    where.add_argument(
        "--state-dir",
        type=Path,
        default=argparse.SUPPRESS if suppress else state_dir,
        help=f"the local stack's state directory (or set {Env.STATE_DIR}); its SQLite file holds the trail",
    )
    where.add_argument(
        "--table",
        default=argparse.SUPPRESS if suppress else None,
        help="read a deployed trail instead: the DynamoDB table (terraform output audit_table_name)",
    )
    where.add_argument(
        "--region",
        default=argparse.SUPPRESS if suppress else None,
        help="the table's AWS region (default: your AWS configuration's)",
    )
    return source


def _audit_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "audit",
        parents=[_audit_source(suppress=False)],
        help="read or verify the audit trail (turns and tool calls), locally or in AWS",
        description="Print audit records: one session's in chain order, otherwise newest first. Filters "
        "combine. Times are ISO-8601 (2026-11-26 or 2026-11-26T09:00:00Z; no offset means UTC). "
        "`agentarch audit verify` recomputes the hash chains instead.",
        epilog="examples: agentarch audit --actor 3f1c…  |  agentarch audit --since 2026-11-01 --decision deny "
        "--format csv  |  agentarch audit verify --table myapp-audit --region eu-west-1",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--actor", help="only this user (the Cognito `sub`)")
    parser.add_argument("--session", help="only this session, in chain order")
    parser.add_argument("--since", help="records at or after this time")
    parser.add_argument("--until", help="records at or before this time")
    parser.add_argument(
        "--decision",
        help="only this policy decision (allow, deny, log_only_deny, pending_approval, approved, rejected)",
    )
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    actions = parser.add_subparsers(dest="audit_command", metavar="verify")
    verify = actions.add_parser(
        "verify",
        parents=[_audit_source(suppress=True)],
        help="recompute the hash chains: exit 1 naming each changed, removed or reordered record",
        description="Recompute every session's hash chain (or one session's) and name each record that was "
        "changed, removed, moved or swapped (session, seq, what is wrong). Exit 0 when every chain is "
        "intact, 1 when one is not, 2 when the trail cannot be read.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    verify.add_argument("--session", default=argparse.SUPPRESS, help="verify only this session")


def _audit_store(args: argparse.Namespace) -> Any:
    if args.table:
        from agentarch.adapters.aws_audit import DynamoAuditStore

        return DynamoAuditStore(args.table, region=args.region)
    path = args.state_dir / "agentarch.db"
    if not path.exists():
        raise FileNotFoundError(f"no local audit trail at {path} (start `agentarch dev` or pass --table)")
    from agentarch.adapters.sqlite_store import SqliteAuditStore, SqliteDatabase

    return SqliteAuditStore(SqliteDatabase(path))


def _run_audit(args: argparse.Namespace) -> int:
    from agentarch.services import audit
    from agentarch.services.storage import StorageUnavailable

    try:
        store = _audit_store(args)
        if args.audit_command == "verify":
            result = audit.verify(store.stored(args.session))
            for problem in result.problems:
                print(f"session {problem.session} seq {problem.seq}: {problem.message}")
            verdict = "every chain is intact" if result.clean else f"{len(result.problems)} problem(s)"
            print(
                f"verified {result.records} record(s) in {result.sessions} session(s): {verdict}",
                file=sys.stderr,
            )
            return 0 if result.clean else 1
        query = audit.make_query(
            actor=args.actor, session=args.session, since=args.since, until=args.until, decision=args.decision
        )
        _print_records(_every_record(store, query), args.format)
    except (audit.InvalidAuditQuery, FileNotFoundError) as exc:
        print(f"agentarch audit: {exc}", file=sys.stderr)
        return 2
    except StorageUnavailable as exc:
        print(f"agentarch audit: the trail cannot be read ({exc})", file=sys.stderr)
        return 2
    return 0


def _every_record(store: Any, query: Any) -> Any:
    from agentarch.services.audit import list_records

    cursor = None
    while True:
        page = list_records(store, query, 100, cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def _print_records(records: Any, output: str) -> None:
    import csv

    if output == "json":
        sys.stdout.write("[")
        for n, record in enumerate(records):
            sys.stdout.write(("," if n else "") + "\n  " + record.to_json())
        sys.stdout.write("\n]\n")
        return
    if output == "csv":
        writer: Any = None
        for record in records:
            row = record.model_dump(mode="json")
            if writer is None:
                writer = csv.DictWriter(sys.stdout, fieldnames=list(row), lineterminator="\n")
                writer.writeheader()
            writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})
        return
    print("  ".join(AUDIT_COLUMNS))
    count = 0
    for record in records:
        row = record.model_dump(mode="json")
        print("  ".join("-" if row.get(c) is None else str(row[c]) for c in AUDIT_COLUMNS))
        count += 1
    print(f"{count} record(s)", file=sys.stderr)


LINT_FORMATS = ("json", "sarif", "text")


def configure_lint_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of `agentarch lint` (defined here, so that the CLI starts without the lint tools)."""
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="Terraform roots or trees to check with the architecture rules; none: this repository's "
        "terraform/ with the schema, reference and README checks",
    )
    parser.add_argument("--format", choices=LINT_FORMATS, default="text", help="output format")
    parser.add_argument(
        "--fail-on",
        choices=("warning", "error"),
        default="error",
        help="exit 1 when a finding is at least this severe (notes never fail)",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (holds terraform/)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(prog="agentarch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _dev_parser(sub)
    openapi = sub.add_parser("openapi", help="print the API's OpenAPI document (from the resolvers)")
    openapi.add_argument("-o", "--output", type=Path, help="write to a file instead of stdout")
    web_config = sub.add_parser(
        "web-config",
        help="write the page and its config.json for a deployed example, from `terraform output -json`",
        description="Read `terraform output -json` of an example (a file, or - for standard input) and write "
        "the chat page with a config.json that points it at the deployed API and Cognito hosted UI.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    web_config.add_argument(
        "source", nargs="?", default="-", help="terraform output -json file, or - for stdin"
    )
    web_config.add_argument("--out", type=Path, default=Path(".agentarch/web"), help="directory to write")
    _audit_parser(sub)
    from agentarch.build import configure_parser
    from agentarch.policy_cli import configure_parser as configure_policy_parser

    configure_policy_parser(
        sub.add_parser(
            "policy",
            help="validate, test and explain the agent's Cedar tool policies",
            description="Tools for the agent's tool policies (Cedar): validate a folder, run a table of "
            "cases, or explain one call's decision.",
        )
    )

    configure_parser(sub.add_parser("build", help="build the zips Terraform deploys (lambda_build/dist)"))
    configure_lint_parser(
        sub.add_parser(
            "lint",
            help="check Terraform statically: architecture rules on any PATH (the bypass gap and its "
            "cousins); with no PATH, this repository's schema, references, variables and READMEs",
            description="With PATH: evaluate each Terraform root under it and report the architecture rules' "
            "findings (rule, severity, file:line, message, fix). Without PATH: check every .tf file under "
            "ROOT/terraform (parse, AWS provider schema, references, module calls, variables, version pins, "
            "README tables). Exit 0 clean, 1 findings at or above --fail-on, 2 unreadable input.",
        )
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `agentarch` command."""
    args = build_parser().parse_args(argv)
    from agentarch.build import run as run_build

    runners = {
        "build": run_build,
        "dev": _run_dev,
        "openapi": _run_openapi,
        "web-config": _run_web_config,
        "lint": _run_lint,
        "policy": _run_policy,
        "audit": _run_audit,
    }
    try:
        return runners[args.command](args)
    except KeyboardInterrupt:
        # Ctrl-C is how a person stops `agentarch dev` (or gives up on a build): not a crash.
        print(file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
