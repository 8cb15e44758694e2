"""`agentarch audit [verify]`: read or verify the audit trail, of the local stack or a deployed table."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from agentarch.config import Env
from agentarch.core.decisions import Decision

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


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        choices=[decision.value for decision in Decision],
        help="only this policy decision",
    )
    parser.add_argument(
        "--untrusted-args",
        action="store_true",
        help="only tool calls with an argument that did not trace to the user (provenance)",
    )
    parser.add_argument(
        "--read", default=None, metavar="TEXT", help="only tool calls made after reading a source naming TEXT"
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
    from agentarch.dev.sqlite import DATABASE_FILE, SqliteAuditStore, SqliteDatabase

    path = args.state_dir / DATABASE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no local audit trail at {path} (start `agentarch dev` or pass --table)")

    return SqliteAuditStore(SqliteDatabase(path))


def run(args: argparse.Namespace) -> int:
    from agentarch.core.errors import StorageUnavailable
    from agentarch.services import audit

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
            actor=args.actor,
            session=args.session,
            since=args.since,
            until=args.until,
            decision=args.decision,
            untrusted=True if args.untrusted_args else None,
            read=args.read,
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
