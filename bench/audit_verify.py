"""`agentarch audit verify` at scale: records verified per second and peak memory at 100k and 1M
records (SQLite), and DynamoDB items read per verified record (moto).

Each size is written by one subprocess and verified by another, which reports its own peak RSS
(`ru_maxrss`): verify streams the store a session at a time, so memory should stay flat as the trail
grows. Sessions hold 20 records each. `python bench/audit_verify.py` prints the table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Result, Table

SIZES = (100_000, 1_000_000)
SMOKE_SIZES = (2_000, 4_000)
PER_SESSION = 20
ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, count: int) -> None:
    """`count` chained records straight into the SQLite file (the bench's own fast path)."""
    from datetime import UTC, datetime, timedelta

    from agentarch.dev.sqlite import SqliteDatabase
    from agentarch.services.audit import GENESIS, AuditEvent, record_hash, seal

    template = seal(
        AuditEvent(time=datetime(2026, 1, 1, tzinfo=UTC), actor="a", session="s", kind="turn", outcome="ok"),
        1,
        GENESIS,
        None,
    ).model_dump(mode="json")
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def rows() -> Any:
        previous = GENESIS
        for n in range(count):
            seq = n % PER_SESSION + 1
            if seq == 1:
                previous = GENESIS
            moment = (start + timedelta(milliseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            fields = template | {
                "session": f"s-bench-{n // PER_SESSION:08d}",
                "actor": f"actor-{n % 7}",
                "seq": seq,
                "prev_hash": previous,
                "time": moment,
                "latency_ms": n,
            }
            fields["hash"] = previous = record_hash(fields)
            text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            yield fields["session"], seq, fields["actor"], moment, text

    database = SqliteDatabase(path)
    with database.write() as connection:
        connection.executemany(
            "INSERT INTO audit_records (session_id, seq, actor_id, recorded_at, record) VALUES (?, ?, ?, ?, ?)",
            rows(),
        )


def verify_child(path: Path) -> dict[str, float]:
    import resource

    from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
    from agentarch.services.notary import verify_trail

    store = SqliteAuditStore(SqliteDatabase(path))
    started = time.perf_counter()
    records = bad = 0
    for report in verify_trail(store.stored(), None):
        records += report.records
        bad += bool(report.problems)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"records": records, "bad": bad, "seconds": elapsed, "peak_mib": peak_kib / 1024}


def _child(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.audit_verify", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def sqlite_figures(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        _child("write", str(path), str(size))
        figures: dict[str, float] = json.loads(_child("verify", str(path)))
        assert figures["records"] == size and figures["bad"] == 0
        return figures


def dynamodb_items_per_record(count: int) -> float:
    """Items a whole-table verify reads from DynamoDB per record verified (moto)."""
    from agentarch.services.notary import verify_trail
    from bench.audit_pages import dynamodb_store

    with dynamodb_store(count) as (store, counting):
        scanned = 0
        original = counting.client.scan

        def scan(**request: Any) -> Any:
            nonlocal scanned
            answer = original(**request)
            scanned += int(answer.get("ScannedCount", 0))
            return answer

        counting.client.scan = scan
        verified = sum(report.records for report in verify_trail(store.stored(), None))
        return (scanned + counting.scanned) / verified


def run(smoke: bool) -> Result:
    sizes = SMOKE_SIZES if smoke else SIZES
    figures = {size: sqlite_figures(size) for size in sizes}
    small, large = sizes
    rows = [
        [
            f"{size:,}",
            f"{figures[size]['records'] / figures[size]['seconds']:,.0f}",
            f"{figures[size]['peak_mib']:.1f}",
        ]
        for size in sizes
    ]
    growth = figures[large]["peak_mib"] / figures[small]["peak_mib"]
    per_record = dynamodb_items_per_record(500 if smoke else 5_000)
    return Result(
        "audit_verify",
        [
            Table(
                title="agentarch audit verify, SQLite (sessions of 20 records)",
                compares=f"peak RSS at {large:,} vs {small:,} records: {growth:.2f}x for {large // small}x the records",
                columns=["records", "records verified/s", "peak RSS (MiB)"],
                rows=rows,
                notes=[f"DynamoDB (moto): {per_record:.2f} items read per verified record (one Scan pass)"],
            )
        ],
        {"sqlite": {str(k): v for k, v in figures.items()}, "dynamodb_items_per_record": per_record},
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "write":
        write(Path(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "verify":
        print(json.dumps(verify_child(Path(sys.argv[2]))))
    else:
        result = run(smoke="--smoke" in sys.argv)
        for table in result.tables:
            print(table.title, "|", table.compares)
            for row in [table.columns, *table.rows]:
                print("  ".join(row))
            print(*table.notes, sep="\n")
