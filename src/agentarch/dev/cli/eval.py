"""`agentarch eval SUITE...`: run scenario suites through the real API and report pass^1…pass^k.

Without `--against` it starts its own local stack (pattern 3, offline model) with one user per
scenario run; with `--against URL --user NAME:PASSWORD` it drives a running local stack as those
users; with `--cognito FILE` (terraform output -json eval_sign_in) a deployed stack, signing each
user in with SRP on its eval client (eval_client_enabled). Exit 0 when every check held, 1 when one
failed or the stack failed, 2 for a malformed suite, bad options or a failed sign-in (before anything
runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentarch.config import Env

if TYPE_CHECKING:
    from agentarch.dev.evals.report import Judging
    from agentarch.dev.evals.runner import LocalUsers

EXIT_MALFORMED = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "eval",
        help="run scenario suites through the API and report pass^k",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "suites", nargs="*", type=Path, metavar="SUITE", help="suite files or folders of *.yaml"
    )
    parser.add_argument(
        "--runs", "-k", type=_positive, default=None, help="runs per scenario (default: each suite's `runs`)"
    )
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text", help="report format")
    parser.add_argument("--out", type=Path, default=None, help="write the report here (default: stdout)")
    parser.add_argument(
        "--against", default=None, metavar="URL", help="a running local stack instead of starting one"
    )
    parser.add_argument(
        "--user", dest="users", action="append", default=[], metavar="NAME:PASSWORD",
        help="with --against: a user to sign in as (repeat; each scenario runs as the one in its groups)",
    )  # fmt: skip
    deployed = parser.add_argument_group(
        "a deployed stack (--against through Cognito): USER_SRP_AUTH on the stack's eval client, whose "
        "access tokens get the API scope from its pre token generation trigger (eval_client_enabled)"
    )
    deployed.add_argument(
        "--cognito", type=Path, default=None, metavar="FILE",
        help="`terraform output -json eval_sign_in` (or the whole `terraform output -json`): the API URL, "
        "user pool, eval client, region and scope; flags override it",
    )  # fmt: skip
    deployed.add_argument("--cognito-pool-id", default=None, metavar="ID", help="the user pool (region_id)")
    deployed.add_argument("--cognito-client-id", default=None, metavar="ID", help="the eval app client")
    deployed.add_argument(
        "--cognito-scope",
        default=None,
        metavar="SCOPE",
        help="the scope the API requires (agentarch-api/chat)",
    )
    parser.add_argument("--concurrency", type=_positive, default=4, help="scenario runs at once")
    parser.add_argument(
        "--offline-model", default=None, metavar="NAME[:OPTIONS]",
        help="the stack's offline model (own stack only), e.g. faulty:wrong_tool=0.3",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="the offline model's seed (own stack only)")
    parser.add_argument(
        "--policy-mode", choices=("ENFORCE", "LOG_ONLY"), default=None,
        help="the stack's tool policy mode (own stack only); LOG_ONLY lists each call ENFORCE would stop",
    )  # fmt: skip
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    parser.add_argument(
        "--judge-model",
        default=os.environ.get(Env.JUDGE_MODEL_ID),
        metavar="MODEL_ID",
        help=f"the Bedrock model of the LLM-judge checks (or set {Env.JUDGE_MODEL_ID}); without it, or "
        "without AWS credentials, they are reported as skipped",
    )
    recorded = parser.add_argument_group(
        "recorded turns (--recorded): the trajectory checks over turns already served, read from the "
        "audit trail (tools, decisions, tokens, latency) and Memory (text)"
    )
    recorded.add_argument("--recorded", action="store_true", help="evaluate recorded turns instead of suites")
    recorded.add_argument("--since", default=None, help="turns at or after this time (ISO-8601, UTC)")
    recorded.add_argument("--actor", default=None, help="only this user's turns (the Cognito `sub`)")
    recorded.add_argument(
        "--state-dir", type=Path, default=Path(os.environ.get(Env.STATE_DIR, ".agentarch/state")),
        help="the local stack's state directory (default), whose SQLite file holds the trail and Memory",
    )  # fmt: skip
    recorded.add_argument(
        "--spans", nargs="?", const="", default=None, type=str, metavar="FILE",
        help="read the agent's OpenTelemetry spans instead of the trail and Memory (default file: "
        "spans.jsonl in the state directory)",
    )  # fmt: skip
    recorded.add_argument("--table", default=None, help="a deployed audit table instead (terraform output)")
    recorded.add_argument("--memory-id", default=None, help="with --table: the AgentCore Memory id, for text")
    recorded.add_argument("--region", default=None, help="with --table: the AWS region")
    recorded.add_argument(
        "--consequential", action="append", default=[], metavar="TOOL",
        help="a tool that must only run once approved (repeat; tools seen waiting for approval count too)",
    )  # fmt: skip


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("want a number >= 1")
    return value


def _judging(model_id: str | None) -> Judging:
    """The Bedrock judge when a model id and credentials are here; otherwise why it is skipped."""
    from agentarch.dev.evals.report import Judging

    if not model_id:
        return Judging()
    from agentarch.adapters.bedrock_judge import BedrockJudge, credentials_present

    if not credentials_present():
        return Judging(skipped=f"judge model {model_id} set, but no AWS credentials here")
    region = os.environ.get(Env.BEDROCK_REGION) or os.environ.get(Env.AWS_REGION)
    return Judging(BedrockJudge(model_id, region=region))


def run_recorded(args: argparse.Namespace) -> int:
    """`--recorded`: the trajectory checks over the turns the trail recorded."""
    from agentarch.core.errors import AccessDenied, StorageUnavailable
    from agentarch.dev.evals.recorded import audit_records, aws_sources, evaluate_recorded, local_sources
    from agentarch.services.audit import InvalidAuditQuery
    from agentarch.services.evaluation import Budget

    if args.suites:
        print("agentarch eval: --recorded reads recorded turns, not suites", file=sys.stderr)
        return EXIT_MALFORMED
    if args.spans is not None:
        return _run_spans(args)
    try:
        store, memory = (
            aws_sources(args.table, args.memory_id, args.region)
            if args.table
            else local_sources(args.state_dir)
        )
        report = evaluate_recorded(
            audit_records(store, args.since, args.actor), memory, Budget(), args.consequential
        )
    except (InvalidAuditQuery, FileNotFoundError) as exc:
        print(f"agentarch eval: {exc}", file=sys.stderr)
        return EXIT_MALFORMED
    except AccessDenied as exc:
        print(f"agentarch eval: {exc}: check the AWS credentials and what their role may do", file=sys.stderr)
        return EXIT_MALFORMED
    except StorageUnavailable as exc:
        print(f"agentarch eval: the trail cannot be read ({exc})", file=sys.stderr)
        return EXIT_MALFORMED
    return _emit(args, report.to_json() if args.format == "json" else report.to_text(), report.passed)


def _run_spans(args: argparse.Namespace) -> int:
    from agentarch.dev.evals.recorded import evaluate_spans
    from agentarch.dev.local.spans import SPANS_FILE, read_spans
    from agentarch.services.audit import InvalidAuditQuery, parse_time
    from agentarch.services.evaluation import Budget

    path = Path(args.spans) if args.spans else args.state_dir / SPANS_FILE
    if not path.exists():
        print(f"agentarch eval: no span file at {path} (start `agentarch dev`)", file=sys.stderr)
        return EXIT_MALFORMED
    try:
        since = parse_time(args.since, "since") if args.since else None
    except InvalidAuditQuery as exc:
        print(f"agentarch eval: {exc}", file=sys.stderr)
        return EXIT_MALFORMED
    spans = [s for s in read_spans(path) if since is None or _started_after(s, since)]
    report = evaluate_spans(spans, Budget(), args.consequential, args.actor)
    return _emit(args, report.to_json() if args.format == "json" else report.to_text(), report.passed)


def _started_after(span: dict[str, Any], since: datetime) -> bool:
    start = span.get("start_time")
    return not isinstance(start, str) or datetime.fromisoformat(start.replace("Z", "+00:00")) >= since


def _emit(args: argparse.Namespace, text: str, passed: bool) -> int:
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0 if passed else 1


def _existing_target(args: argparse.Namespace) -> tuple[LocalUsers, str] | int:
    """The `--user`s of a running stack: a local one (`/local-auth/login`), or a deployed one, each
    signed in once (SRP, eval client) and holding the API's scope; or exit 2 with what to fix,
    before any turn runs."""
    from agentarch.dev.evals.cognito import CognitoSignInError, identity_provider, load_settings
    from agentarch.dev.evals.runner import (
        CognitoUsers,
        LocalSignInError,
        LocalUsers,
        against_users,
        cognito_users,
    )

    if not (args.cognito or args.cognito_pool_id or args.cognito_client_id):
        try:
            return LocalUsers(args.against, against_users(args.against, args.users)), args.against
        except LocalSignInError as exc:
            print(f"agentarch eval: {exc}", file=sys.stderr)
            return EXIT_MALFORMED

    try:
        settings = load_settings(
            args.cognito, args.cognito_pool_id, args.cognito_client_id, args.cognito_scope
        )
        url = args.against or settings.against
        if not url:
            raise CognitoSignInError("--against URL is missing (the stack's API base URL, without /api)")
        idp = identity_provider(settings)
        users = cognito_users(settings, args.users, idp)
    except CognitoSignInError as exc:
        print(f"agentarch eval: {exc}", file=sys.stderr)
        return EXIT_MALFORMED
    where = f"{url} (Cognito {settings.user_pool_id}, SRP on client {settings.client_id})"
    return CognitoUsers(url, users, settings, idp), where


def _refuse_mixed_targets(args: argparse.Namespace, existing: bool) -> int | None:
    """Exit 2 when an existing stack is named without users, or with options of the stack eval starts."""
    if existing and not args.users:
        print("agentarch eval: --against needs at least one --user NAME:PASSWORD", file=sys.stderr)
        return EXIT_MALFORMED
    if existing and (args.offline_model or args.seed is not None or args.policy_mode):
        print(
            "agentarch eval: --offline-model, --seed and --policy-mode configure the stack eval starts, not --against",
            file=sys.stderr,
        )
        return EXIT_MALFORMED
    return None


def run(args: argparse.Namespace) -> int:
    if args.recorded:
        return run_recorded(args)
    if not args.suites:
        print("agentarch eval: name at least one SUITE (or use --recorded)", file=sys.stderr)
        return EXIT_MALFORMED
    from agentarch.dev.evals.report import RENDERERS, build_report, exit_code
    from agentarch.dev.evals.runner import RunRecord, own_stack, run_suites
    from agentarch.dev.evals.suite import SuiteError, load_suites

    try:
        suites = load_suites(args.suites)
    except SuiteError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"agentarch eval: {len(exc.problems)} problem(s) in the suites; nothing ran", file=sys.stderr)
        return EXIT_MALFORMED
    existing = bool(args.against or args.cognito or args.cognito_pool_id or args.cognito_client_id)
    refused = _refuse_mixed_targets(args, existing)
    if refused is not None:
        return refused
    total = sum((args.runs or s.runs) * len(s.scenarios) for s in suites)
    done = 0

    def progress(record: RunRecord) -> None:
        nonlocal done
        done += 1
        if not args.quiet:
            outcome = record.error or f"{len(record.traces)} turns"
            print(
                f"[{done}/{total}] {record.suite}/{record.scenario} run {record.run}: {outcome} ({record.duration_ms:.0f} ms)",
                file=sys.stderr,
            )

    started = time.perf_counter()
    if existing:
        chosen = _existing_target(args)
        if isinstance(chosen, int):
            return chosen
        target, where = chosen
        records = run_suites(target, suites, args.runs, args.concurrency, progress)
    else:
        extra = []
        if args.offline_model:
            extra += ["--offline-model", args.offline_model]
        if args.seed is not None:
            extra += ["--seed", str(args.seed)]
        if args.policy_mode:
            extra += ["--policy-mode", args.policy_mode]
        with (
            tempfile.TemporaryDirectory(prefix="agentarch-eval-") as workdir,
            own_stack(suites, args.runs, Path(workdir), extra) as own,
        ):
            records = run_suites(
                own,
                suites,
                args.runs,
                args.concurrency,
                progress,
                None if args.seed is None else f"seed-{args.seed}",
            )
        where = (
            "a local stack it started (offline model"
            + (f" {args.offline_model}" if args.offline_model else "")
            + ")"
        )
    report = build_report(suites, records, args.runs, where, _judging(args.judge_model))
    text = RENDERERS[args.format](report)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if not args.quiet:
        print(f"agentarch eval: {report.status} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return exit_code(report)
