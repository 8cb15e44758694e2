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
    "lock_action",  # the kill switch's records (session `kill-switch`): lock or unlock, and the lock's key
    "lock",
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
    actions = parser.add_subparsers(dest="audit_command", metavar="verify | export | verify-bundle | migrate")
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
    _evidence_options(verify)
    verify.add_argument(
        "--format",
        dest="verify_format",
        choices=("text", "jsonl"),
        default="text",
        help="one line per session",
    )
    export = actions.add_parser(
        "export",
        parents=[_audit_source(suppress=True)],
        help="one session's records and the notary's proof of its head, for an investigator",
        description="Write one session's records as JSON lines, with the newest signed checkpoint head "
        "that covers the session and the Merkle path from its head to that checkpoint's root: enough to "
        "verify it offline (`agentarch audit verify-bundle FILE`), and nothing about other sessions.",
    )
    export.add_argument("--session", required=True, default=argparse.SUPPRESS, help="the session to export")
    export.add_argument("--format", dest="export_format", choices=("jsonl",), default="jsonl")
    _evidence_options(export)
    migrate = actions.add_parser(
        "migrate",
        help="re-index a deployed table's items written before the time index was sharded (one-shot)",
        description="Give every item whose `day` is the bare UTC day (written before sharding) its sharded "
        "`day` (`2026-11-26#5`), so listings by time find it and verify stops naming it `unmigrated`. Only "
        "`day` changes, each update conditioned on its old value; the notary does not count it as tampering. "
        "Needs dynamodb:Scan and dynamodb:UpdateItem on the table (an operator's, no deployed role's).",
    )
    migrate.add_argument("--table", required=True, help="the audit table (terraform output audit_table_name)")
    migrate.add_argument("--region", default=None, help="its AWS region")
    migrate.add_argument("--dry-run", action="store_true", help="count the unsharded items, change nothing")
    bundle = actions.add_parser(
        "verify-bundle",
        help="verify an exported bundle offline: chain, signature, inclusion proof, signed head reached",
        description="Check a bundle from `agentarch audit export` with nothing but the file (and, better, "
        "the notary's public key obtained separately: --public-key). Exit 0 when it holds, 1 naming "
        "what does not.",
    )
    bundle.add_argument("file", type=Path, help="the bundle (JSON lines; - for standard input)")
    bundle.add_argument(
        "--public-key",
        type=Path,
        help="PEM or DER public key of the notary to trust instead of the one the bundle names",
    )


def _evidence_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group(
        "the notary's checkpoints (default: the local stack's notary directory)"
    )
    where.add_argument(
        "--bucket", help="a deployed notary's Object Lock bucket (terraform output audit_notary_bucket)"
    )
    where.add_argument(
        "--key-id", help="its KMS signing key (terraform output audit_notary_key_id): GetPublicKey"
    )
    where.add_argument(
        "--no-checkpoints",
        action="store_true",
        help="check the hash chains only (what a chain alone can show)",
    )


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
    from agentarch.core.errors import AccessDenied, StorageUnavailable
    from agentarch.services import audit

    try:
        if args.audit_command == "verify-bundle":
            return _verify_bundle(args)
        if args.audit_command == "migrate":
            return _migrate(args)
        store = _audit_store(args)
        if args.audit_command == "verify":
            return _verify(args, store)
        if args.audit_command == "export":
            return _export(args, store)
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
    except (audit.InvalidAuditQuery, FileNotFoundError, ValueError) as exc:
        print(f"agentarch audit: {exc}", file=sys.stderr)
        return 2
    except AccessDenied as exc:
        print(
            f"agentarch audit: {exc}: check the AWS credentials and what their role may do", file=sys.stderr
        )
        return 2
    except StorageUnavailable as exc:
        print(f"agentarch audit: the trail cannot be read ({exc})", file=sys.stderr)
        return 2
    return 0


def _evidence(args: argparse.Namespace) -> tuple[Any, Any] | None:
    """(checkpoints, public key) of the notary, or None with --no-checkpoints."""
    from agentarch.services.notary import PublicKey

    if getattr(args, "no_checkpoints", False):
        return None
    if args.bucket:
        from agentarch.adapters.aws_notary import S3Checkpoints, kms_public_key

        if not args.key_id:
            raise ValueError(
                "--bucket needs --key-id (the notary's KMS key: its public key checks the signatures)"
            )
        key = PublicKey(kms_public_key(args.key_id, region=args.region))
        return S3Checkpoints(args.bucket, region=args.region), key
    if args.table:
        raise ValueError("a deployed trail needs --bucket and --key-id (or --no-checkpoints)")
    from agentarch.dev.notary import checkpoints, public_key

    try:
        return checkpoints(args.state_dir), public_key(args.state_dir)
    except FileNotFoundError as exc:
        if args.audit_command == "export":
            raise
        print(f"agentarch audit: {exc}; checking the hash chains only", file=sys.stderr)
        return None


def _verify(args: argparse.Namespace, store: Any) -> int:
    from agentarch.services.notary import check_checkpoints, verify_trail

    found = _evidence(args)
    evidence = None
    if found is not None:
        evidence = check_checkpoints(found[0].raw(), found[1])
        for problem in evidence.problems:
            print(f"notary: {problem.message}")
    sessions = records = bad = 0
    for report in verify_trail(store.stored(args.session), evidence):
        if args.session and report.session != args.session:
            continue
        sessions += 1
        records += report.records
        bad += bool(report.problems)
        if args.verify_format == "jsonl":
            print(json.dumps(report.to_json(), sort_keys=True))
            continue
        for problem in report.problems:
            print(f"session {problem.session} seq {problem.seq}: {problem.message}")
        if report.problems:
            print(f"session {report.session}: first bad record seq {report.first_bad}")
        if evidence is not None and report.uncovered:
            first, last = report.uncovered
            print(f"session {report.session}: records {first}..{last} not yet covered by a checkpoint")
    problems = bad + (len(evidence.problems) if evidence else 0)
    verdict = "every chain is intact" if not problems else f"{problems} problem(s)"
    signed = f", {evidence.checkpoints} checkpoint(s)" if evidence is not None else ", no checkpoints read"
    print(f"verified {records} record(s) in {sessions} session(s){signed}: {verdict}", file=sys.stderr)
    return 0 if not problems else 1


def _export(args: argparse.Namespace, store: Any) -> int:
    from agentarch.services.notary import export_bundle

    found = _evidence(args)
    if found is None:
        raise ValueError("an export carries the notary's proof: drop --no-checkpoints")
    checkpoints, key = found
    for line in export_bundle(args.session, store.stored(args.session), checkpoints.raw(), key.pem()):
        print(line)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    import boto3

    from agentarch.dev.audit_migration import reindex_days, summary

    result = reindex_days(boto3.client("dynamodb", region_name=args.region), args.table, dry_run=args.dry_run)
    print(summary(result, dry_run=args.dry_run))
    return 0


def _verify_bundle(args: argparse.Namespace) -> int:
    from agentarch.services.notary import verify_bundle

    trusted = args.public_key.read_bytes() if args.public_key else None
    lines = sys.stdin if str(args.file) == "-" else args.file.read_text(encoding="utf-8").splitlines()
    verdict = verify_bundle(lines, trusted)
    for problem in verdict.problems:
        print(f"session {verdict.session}: {problem}")
    if verdict.clean:
        print(
            f"bundle of session {verdict.session}: {verdict.records} record(s), the chain holds and seq "
            f"{verdict.signed_seq} is signed by the notary",
            file=sys.stderr,
        )
    return 0 if verdict.clean else 1


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
    import itertools

    # The first page is read before anything is printed: a trail that cannot be read (no credentials,
    # a denied table) fails with its message alone, not after a header or an opening bracket.
    records = iter(records)
    first = next(records, None)
    records = itertools.chain([] if first is None else [first], records)
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
