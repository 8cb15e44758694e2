"""Pattern 3 over HTTP: every turn leaves an audit record, and only the audit admin group reads them."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
from agentarch.dev.testing.local_stack import RunningStack, start_local_stack
from agentarch.services.audit import AuditTrail
from tests.e2e.test_concurrency import health

pytestmark = pytest.mark.e2e

ALICE = ("alice", "alice-password-1")
AUDITOR = ("auditor", "auditor-password-1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Pattern 3 with one agent worker and a short agent timeout, so a frozen agent is a 504 quickly."""
    running = start_local_stack(
        tmp_path_factory.mktemp("audit"),
        3,
        "--agent-workers", "1", "--agent-read-timeout", "3", "--rate-limit", "100000",
        users=((*ALICE, "users,admins"), (*AUDITOR, "audit-admins")),
    )  # fmt: skip
    yield running
    running.stop()


def client(stack: RunningStack, user: tuple[str, str]) -> httpx.Client:
    token = stack.token(user)
    return httpx.Client(base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60)


def every_record(http: httpx.Client, limit: int, **filters: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        page = http.get(
            "/audit", params={**filters, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        records += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return records
    raise AssertionError("pagination does not terminate")


def test_a_chat_turn_leaves_a_turn_record_with_token_counts(stack: RunningStack) -> None:
    with client(stack, ALICE) as alice, client(stack, AUDITOR) as auditor:
        answer = alice.post("/chat", json={"message": "what is 17 * 23?"})
        assert answer.status_code == 200, answer.text

        records = every_record(auditor, 10, session=answer.json()["session_id"])

    # The agent recorded the calculator call before and after it ran; the chat Lambda the turn.
    assert [(r["kind"], r["tool"], r["outcome"]) for r in records] == [
        ("tool_call", "calculator", "started"),
        ("tool_call", "calculator", "ok"),
        ("turn", None, "ok"),
    ]
    record = records[-1]
    assert record["tool_calls"] == 1
    assert record["actor"] and record["groups"] == ["users", "admins"]
    assert isinstance(record["input_tokens"], int) and isinstance(record["output_tokens"], int)
    assert record["input_tokens"] > 0 and record["output_tokens"] > 0
    assert "17 * 23" not in str(record)  # digests and counts, never the conversation


def test_a_turn_whose_agent_fails_leaves_a_turn_record_with_outcome_error(stack: RunningStack) -> None:
    agent = health(stack)["pieces"]["runtime-endpoint"]["agent"]["pids"]
    with client(stack, ALICE) as alice, client(stack, AUDITOR) as auditor:
        session = alice.post("/chat", json={"message": "what is 2 * 21?"}).json()["session_id"]
        for pid in agent:
            os.kill(pid, signal.SIGSTOP)
        try:
            failed = alice.post("/chat", json={"message": "what is 6 * 7?", "session_id": session})
        finally:
            for pid in agent:
                os.kill(pid, signal.SIGCONT)

        records = every_record(auditor, 10, session=session)
    turns = [r for r in records if r["kind"] == "turn"]

    assert failed.status_code == 504
    assert [(r["outcome"], r["error"]) for r in turns] == [("ok", None), ("error", "agent_timeout")]
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(records))


def test_a_non_admin_gets_the_404_of_a_missing_route(stack: RunningStack) -> None:
    with client(stack, ALICE) as alice:
        audit = alice.get("/audit", params={"limit": "nonsense"})
        missing = alice.get("/no-such-route")

    assert audit.status_code == missing.status_code == 404
    assert {**audit.json()["error"], "request_id": ""} == {**missing.json()["error"], "request_id": ""}


def test_an_admin_pages_through_1000_records_without_a_gap_or_a_duplicate(stack: RunningStack) -> None:
    # Given 1,000 records of one actor in 40 sessions, seeded through the store API
    store = SqliteAuditStore(SqliteDatabase(Path(stack.state_dir) / "agentarch.db"))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    ticks = iter(range(1000))
    trail = AuditTrail(store, clock=lambda: start + timedelta(seconds=next(ticks)))
    for n in range(1000):
        trail.turn(
            AuditContext(actor=Actor(id="seeded-actor"), session=f"s-seeded-{n % 40:02d}-{'0' * 24}"),
            outcome="ok",
            latency_ms=n,
        )

    with client(stack, AUDITOR) as auditor:
        by_actor = every_record(auditor, 37, actor="seeded-actor")
        by_time = every_record(
            auditor, 100, since=start.isoformat(), until=(start + timedelta(hours=1)).isoformat()
        )
        bad = auditor.get("/audit", params={"since": "not a date"})

    keys = [(r["session"], r["seq"]) for r in by_actor]
    assert len(keys) == len(set(keys)) == 1000
    assert [r["latency_ms"] for r in by_actor] == list(range(999, -1, -1))  # newest first, nothing skipped
    assert [r["latency_ms"] for r in by_time if r["actor"] == "seeded-actor"] == list(range(999, -1, -1))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_the_local_trail_verifies_clean(stack: RunningStack, capsys: pytest.CaptureFixture[str]) -> None:
    from agentarch.dev.cli import main

    assert main(["audit", "verify", "--state-dir", str(stack.state_dir)]) == 0
    assert "every chain is intact" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_another_method_on_the_audit_route_answers_as_a_missing_route_for_anyone(
    stack: RunningStack, method: str
) -> None:
    # Given the body a missing route answers
    with client(stack, AUDITOR) as auditor:
        missing = auditor.get("/no-such-route")
        # When an admin, or someone with no token at all, uses another method on the audit route
        answers = [
            auditor.request(method, "/audit", json={}),
            httpx.request(method, f"{stack.url}/api/audit", json={}, timeout=30),
        ]
    # Then each gets that same 404 (API Gateway answers before any authorizer or Lambda runs)
    for answer in answers:
        assert answer.status_code == 404
        assert {**answer.json()["error"], "request_id": ""} == {**missing.json()["error"], "request_id": ""}


def test_a_password_with_a_lone_surrogate_is_a_400_in_the_error_shape(stack: RunningStack) -> None:
    answer = httpx.post(
        f"{stack.url}/local-auth/login",
        content=b'{"username": "alice", "password": "pass\\ud800word"}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
