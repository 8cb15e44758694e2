"""What one page of a list or a history costs at 100 rows and at 10,000: items read per page.

- Conversation list (`GET /api/conversations`, limit 20): on SQLite, the page's median latency (the
  local stack's store); on DynamoDB under moto, the items the Query evaluates per page
  (`ScannedCount`), which sets DynamoDB's read cost (moto's own wall clock walks the whole table).
- History (`GET /api/conversations/{id}`, limit 50): the AgentCore Memory calls one page makes and
  the events they read, on the real boto3 client under moto.

First page and third page (reached through two cursors) both: a cursor must not cost more.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import boto3

from agentarch.adapters.aws_memory import AgentCoreMemoryEvents
from agentarch.dev.testing.aws import MEMORY_ID, REGION
from bench.memory_and_listing import (
    CONVERSATION_COUNTS,
    MAX_LATENCY_RATIO,
    PAGE,
    T0,
    _fake_aws,
    dynamodb_latency,
    sqlite_latency,
)
from bench.report import Result, Table

HISTORY_PAGE = 50


def history_reads(turns: int) -> dict[str, Any]:
    """Memory calls and events read by the first and the third history page of a `turns`-turn session."""
    client = boto3.client("bedrock-agentcore", region_name=REGION)
    memory = AgentCoreMemoryEvents(MEMORY_ID, client=client)
    actor, session = "bench-user", "s" + uuid.uuid4().hex
    for n in range(turns):
        memory.append_turn(actor, session, f"question {n}", f"answer {n}", T0 + timedelta(seconds=n))
    calls: list[int] = []
    client.meta.events.register(
        "after-call.bedrock-agentcore.ListEvents",
        lambda parsed, **_: calls.append(len(parsed.get("events", []))),
    )
    pages = []
    cursor = None
    for _ in range(3):
        before = len(calls)
        page = memory.list_messages(actor, session, HISTORY_PAGE, cursor)
        pages.append(
            {"calls": len(calls) - before, "events_read": sum(calls[before:]), "messages": len(page.items)}
        )
        cursor = page.next_cursor
    return {"first": pages[0], "third": pages[2]}


def run(smoke: bool) -> Result:
    small, big = (80, 160) if smoke else CONVERSATION_COUNTS  # three pages at least
    runs = 1 if smoke else 41
    counts = (small, big)
    started = time.perf_counter()
    sqlite = sqlite_latency(runs, counts)
    dynamo = dynamodb_latency(max(1, runs // 4), counts)
    with _fake_aws():
        history = {count: history_reads(count) for count in counts}

    def pair(figures: dict[int, float], fmt: str) -> list[str]:
        return [
            format(figures[small], fmt),
            format(figures[big], fmt),
            f"{figures[big] / figures[small]:.2f}×",
        ]

    rows = [
        ["list, SQLite: first page latency (median)", *pair(sqlite.first_ms, ".2f")],
        ["list, SQLite: third page latency (median)", *pair(sqlite.deep_ms, ".2f")],
        ["list, DynamoDB: items read per page (ScannedCount)", *pair(dynamo.scanned_per_page, ".0f")],
        [
            "list, DynamoDB under moto: first page latency (moto walks the table)",
            *pair(dynamo.latency.first_ms, ".2f"),
        ],
    ]
    for which in ("first", "third"):
        calls = {c: float(history[c][which]["calls"]) for c in counts}
        events = {c: float(history[c][which]["events_read"]) for c in counts}
        rows.append([f"history, Memory: calls for the {which} page", *pair(calls, ".0f")])
        rows.append([f"history, Memory: events read for the {which} page", *pair(events, ".0f")])
    table = Table(
        title=f"Page cost: conversation list (limit {PAGE}) and history (limit {HISTORY_PAGE}) at {small:,} vs {big:,} rows",
        compares=f"the same page with {small:,} rows (conversations, or turns of one conversation), in the same run; "
        f"target ratio ≤ {MAX_LATENCY_RATIO} (moto's wall clock excepted)",
        columns=["what", f"{small:,} rows", f"{big:,} rows", "ratio"],
        rows=rows,
        notes=[
            "latencies in ms; requests sent per list page: one Query "
            f"(IndexName, Limit, ScanIndexForward) = {sorted(dynamo.requests)}",
            f"measured in {time.perf_counter() - started:.0f} s",
        ],
    )
    data = {
        "sqlite_ms": {"first": sqlite.first_ms, "third": sqlite.deep_ms},
        "dynamodb_scanned_per_page": dynamo.scanned_per_page,
        "dynamodb_moto_ms": {"first": dynamo.latency.first_ms, "third": dynamo.latency.deep_ms},
        "history": history,
    }
    return Result("page_cost", [table], data)
