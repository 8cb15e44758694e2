"""The agent's tool-call records over HTTP: every decision is recorded, and no effect goes unrecorded."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import httpx
import pytest

from agentarch.dev.testing.local_stack import RunningStack
from tests.conftest import ALICE, BOB, CAROL, start_stack
from tests.e2e.test_audit import every_record
from tests.e2e.test_concurrency import health

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Pattern 3 with a model that takes a second per call (as a real one would), one agent worker."""
    with mock.patch.dict(os.environ, {"OFFLINE_MODEL_LATENCY_SECONDS": "1"}):
        running = start_stack(
            tmp_path_factory.mktemp("audit-tools"), 3, "--agent-workers", "1", "--rate-limit", "100000"
        )
    yield running
    running.stop()


def client(stack: RunningStack, user: tuple[str, str]) -> httpx.Client:
    token = stack.token(user)
    return httpx.Client(base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60)


def shape(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["kind"], r["tool"], r["decision"], r["outcome"]) for r in records]


def test_allowed_denied_and_approved_calls_are_found_by_session_actor_and_time(stack: RunningStack) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    with client(stack, CAROL) as carol, client(stack, BOB) as bob, client(stack, ALICE) as admin:
        asked = carol.post("/chat", json={"message": "what time is it in Europe/Paris?"}).json()
        session = asked["session_id"]
        paused = carol.post(
            "/chat", json={"message": "open a ticket: audit me", "session_id": session}
        ).json()
        approval = {"id": paused["pending_approval"]["id"], "decision": "approve"}
        approved = carol.post("/chat", json={"session_id": session, "approval": approval})
        assert approved.status_code == 200, approved.text
        bob.post("/chat", json={"message": "what's the weather in Seattle?"})

        by_session = every_record(admin, 3, session=session)
        by_bob = every_record(admin, 2, actor=bob_sub(stack))
        in_window = every_record(admin, 5, since=since.isoformat())

    assert shape(by_session) == [  # chain order
        ("tool_call", "current_time", "allow", "started"),
        ("tool_call", "current_time", "allow", "ok"),
        ("turn", None, None, "ok"),
        ("tool_call", "create_ticket", "pending_approval", "pending"),
        ("turn", None, None, "ok"),
        ("tool_call", "create_ticket", "approved", "started"),
        ("tool_call", "create_ticket", "approved", "ok"),
        ("turn", None, None, "ok"),
    ]
    started, finished = by_session[5], by_session[6]
    assert started["approval_id"] == approval["id"] and started["policy_ids"] == [
        "tickets-for-the-support-group"
    ]
    assert (
        started["args_plain"] == {"severity": "medium"} and started["args_digest"]
    )  # only what the tool declares non-sensitive is kept raw
    assert "audit me" not in str(by_session)  # the title and body only as keyed digests
    assert finished["resource_ids"] == [f"ticket:{approval['id']}"]
    assert shape(by_bob) == [  # newest first
        ("turn", None, None, "ok"),
        ("tool_call", "weather", "deny", "denied"),
    ]
    assert by_bob[1]["policy_ids"] == ["default-deny"]
    window = {(r["session"], r["seq"]) for r in in_window}
    assert {(r["session"], r["seq"]) for r in by_session + by_bob} <= window


def bob_sub(stack: RunningStack) -> str:
    import jwt

    return str(jwt.decode(stack.token(BOB), options={"verify_signature": False})["sub"])


def test_an_agent_killed_after_its_ticket_leaves_the_ticket_recorded_and_the_turn_failed(
    stack: RunningStack,
) -> None:
    with client(stack, CAROL) as carol, client(stack, ALICE) as admin:
        paused = carol.post("/chat", json={"message": "open a ticket: the lift is stuck"}).json()
        session, approval_id = paused["session_id"], paused["pending_approval"]["id"]
        worker = health(stack)["pieces"]["runtime-endpoint"]["agent"]["pids"][0]

        with httpx.Client(base_url=f"{stack.url}/api", headers=carol.headers, timeout=60) as other:
            import threading

            answer: dict[str, httpx.Response] = {}
            approving = threading.Thread(
                target=lambda: answer.setdefault(
                    "r",
                    other.post(
                        "/chat",
                        json={"session_id": session, "approval": {"id": approval_id, "decision": "approve"}},
                    ),
                )
            )
            approving.start()
            # The ticket is made first; the model then takes a second to answer: kill the agent then.
            deadline = time.monotonic() + 20
            while not ticket_recorded(stack, approval_id):
                assert time.monotonic() < deadline, "the ticket was never recorded"
                time.sleep(0.02)
            os.kill(worker, signal.SIGKILL)
            approving.join(60)

        records = every_record(admin, 20, session=session)

    assert answer["r"].status_code in (502, 504)
    ticket_calls = [r for r in records if r["tool"] == "create_ticket" and r["decision"] == "approved"]
    assert [r["outcome"] for r in ticket_calls] == ["started", "ok"]
    assert ticket_calls[1]["resource_ids"] == [f"ticket:{approval_id}"]
    assert (records[-1]["kind"], records[-1]["outcome"]) == ("turn", "error")


def ticket_recorded(stack: RunningStack, approval_id: str) -> bool:
    with sqlite3.connect(stack.state_dir / "agentarch.db") as db:
        rows = db.execute(
            'SELECT record FROM audit_records WHERE record LIKE ? AND record LIKE \'%"outcome":"ok"%\'',
            (f"%ticket:{approval_id}%",),
        ).fetchall()
    return bool(rows)
