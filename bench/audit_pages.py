"""Items read per audit page (GET /api/audit) at 1,000 vs 100,000 records, on SQLite and DynamoDB (moto).

Each listing — one session's chain, one actor's records, everyone's records in a time window — is
paged five times (limit 50) and the most items any of its pages read is printed: for SQLite the rows
the page's statement returned, for DynamoDB the items its Query calls evaluated (`ScannedCount`,
summed over the page's calls). Target: the same count at both sizes (at most limit + 1 = 51).

Run: .venv/bin/python -m bench.audit_pages [--sizes 1000 100000]  (`make bench` runs it too)
Records are sealed chains (the real `seal`), written straight into the store (SQLite executemany,
DynamoDB BatchWriteItem) so that seeding 100,000 stays quick; moto walks the whole table on each
Query, so its wall clock grows with the table where DynamoDB's does not (shown beside, for honesty).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from agentarch.adapters.aws_audit import DynamoAuditStore, _item
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
from agentarch.dev.testing.aws import AUDIT_TABLE_NAME, REGION, create_audit_table
from agentarch.services.audit import (
    GENESIS,
    AuditEvent,
    AuditQuery,
    AuditRecord,
    AuditStore,
    list_records,
    make_query,
    seal,
)
from bench.report import Result, Table

LIMIT = 50
PAGES = 5
RECORDS_PER_SESSION = 100
ACTORS = 5
T_END = datetime(2026, 11, 26, tzinfo=UTC)
SPAN = timedelta(days=30)  # the records spread over 30 day buckets


def sealed_records(count: int) -> Iterator[AuditRecord]:
    """`count` records: sessions of 100 chained records, 5 actors, spread evenly over 30 days."""
    step = SPAN / count
    for first in range(0, count, RECORDS_PER_SESSION):
        session, actor = (
            f"s-bench-{first:07d}-0123456789abcdef0123",
            f"actor-{first // RECORDS_PER_SESSION % ACTORS:03d}",
        )
        previous = GENESIS
        for seq in range(1, min(RECORDS_PER_SESSION, count - first) + 1):
            event = AuditEvent(
                time=T_END - SPAN + step * (first + seq - 1),
                actor=actor,
                session=session,
                kind="turn",
                outcome="ok",
                latency_ms=seq,
                input_tokens=100,
                output_tokens=20,
            )
            record = seal(event, seq, previous, None)
            previous = record.hash
            yield record


def listings() -> dict[str, AuditQuery]:
    return {
        "one session": make_query(session="s-bench-0000000-0123456789abcdef0123"),
        "one actor": make_query(actor="actor-003"),
        "time window (7 days)": make_query(since=T_END - timedelta(days=7), until=T_END),
    }


@dataclass
class Counting:
    """Wraps a boto3 DynamoDB client and sums the ScannedCount of its Query calls."""

    client: Any
    scanned: int = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def query(self, **request: Any) -> Any:
        answer = self.client.query(**request)
        self.scanned += int(answer.get("ScannedCount", 0))
        return answer


def most_read_per_page(store: AuditStore, query: AuditQuery, counting: Counting | None) -> tuple[int, float]:
    worst, cursor, started = 0, None, time.perf_counter()
    for _ in range(PAGES):
        if counting is not None:
            counting.scanned = 0
        page = list_records(store, query, LIMIT, cursor)
        worst = max(worst, counting.scanned if counting is not None else page.read)
        cursor = page.next_cursor
        if cursor is None:
            break
    return worst, (time.perf_counter() - started) / PAGES * 1000


@contextmanager
def sqlite_store(count: int) -> Iterator[tuple[AuditStore, None]]:
    with tempfile.TemporaryDirectory() as directory:
        database = SqliteDatabase(Path(directory) / "bench.db")
        with database.write() as connection:
            connection.executemany(
                "INSERT INTO audit_records (session_id, seq, actor_id, recorded_at, record) VALUES (?, ?, ?, ?, ?)",
                ((r.session, r.seq, r.actor, r.time_text, r.to_json()) for r in sealed_records(count)),
            )
        yield SqliteAuditStore(database), None


@contextmanager
def dynamodb_store(count: int) -> Iterator[tuple[AuditStore, Counting]]:
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}.items():
        os.environ.setdefault(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_audit_table(client)
        batch: list[dict[str, Any]] = []
        for record in sealed_records(count):
            batch.append({"PutRequest": {"Item": _item(record)}})
            if len(batch) == 25:
                client.batch_write_item(RequestItems={AUDIT_TABLE_NAME: batch})
                batch = []
        if batch:
            client.batch_write_item(RequestItems={AUDIT_TABLE_NAME: batch})
        counting = Counting(client)
        yield DynamoAuditStore(AUDIT_TABLE_NAME, client=counting), counting


def measure(sizes: tuple[int, int]) -> list[tuple[str, str, dict[int, tuple[int, float]]]]:
    """(store, listing, {size: (most items read by a page, ms per page)}) for each store and listing."""
    rows: list[tuple[str, str, dict[int, tuple[int, float]]]] = []
    for backend, make in (("SQLite", sqlite_store), ("DynamoDB (moto)", dynamodb_store)):
        results: dict[str, dict[int, tuple[int, float]]] = {}
        for size in sizes:
            with make(size) as (store, counting):  # type: ignore[operator]
                for listing, query in listings().items():
                    results.setdefault(listing, {})[size] = most_read_per_page(store, query, counting)
        rows += [(backend, listing, by_size) for listing, by_size in results.items()]
    return rows


def run(smoke: bool) -> Result:
    """The registry's entry point (`make bench`): items read per audit page, small table vs large."""
    small, large = (200, 400) if smoke else (1_000, 100_000)
    rows = measure((small, large))
    table = Table(
        title="Audit page cost (GET /api/audit, limit 50)",
        compares=f"the same listing on a table of {small:,} records",
        columns=[
            "store",
            "listing",
            f"items read @{small:,}",
            f"items read @{large:,}",
            "ms/page",
            "verdict",
        ],
        rows=[
            [
                backend,
                listing,
                str(by_size[small][0]),
                str(by_size[large][0]),
                f"{by_size[small][1]:.1f} → {by_size[large][1]:.1f}",
                "PASS" if by_size[small][0] == by_size[large][0] <= LIMIT + 1 else "FAIL",
            ]
            for backend, listing, by_size in rows
        ],
        notes=[
            f"target: constant and at most limit + 1 = {LIMIT + 1}; moto walks the whole table on each Query, "
            "so its wall clock grows where DynamoDB's does not"
        ],
    )
    data = {f"{b}/{listing}": {str(k): v[0] for k, v in by_size.items()} for b, listing, by_size in rows}
    return Result("audit_pages", [table], data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(1_000, 100_000), metavar=("SMALL", "LARGE"))
    args = parser.parse_args()
    rows = measure(tuple(args.sizes))
    small, large = args.sizes
    header = (
        f"{'store':<16} {'listing':<22} {f'read/page @{small:,}':>18} {f'read/page @{large:,}':>20} "
        f"{'ms/page (small → large)':>26}  verdict"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for backend, listing, by_size in rows:
        (read_small, ms_small), (read_large, ms_large) = by_size[small], by_size[large]
        ok = read_small == read_large <= LIMIT + 1
        failed |= not ok
        print(
            f"{backend:<16} {listing:<22} {read_small:>18} {read_large:>20} {f'{ms_small:.1f} → {ms_large:.1f}':>26}  "
            f"{'PASS' if ok else 'FAIL'}"
        )
    print(
        f"\ntarget: items read per page constant and <= limit + 1 = {LIMIT + 1} (limit {LIMIT}, {PAGES} pages each)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
