"""Tool policy over HTTP on the local stack: denials, approvals and LOG_ONLY as a user meets them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import BOB, CAROL, RunningStack

pytestmark = pytest.mark.e2e

TICKET = "open a ticket: printer on floor 3 is broken"


def chat(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/chat", json=body)


def tickets(stack: RunningStack) -> list[tuple[str, str, str]]:
    with sqlite3.connect(stack.state_dir / "agentarch.db") as db:
        return db.execute("SELECT ticket_id, title, severity FROM tickets ORDER BY created_at").fetchall()


def decisions(reply: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(call["name"], call["decision"], call["policies"]) for call in reply["tool_calls"]]


def test_weather_outside_the_weather_group_is_denied_by_policy(full_stack: RunningStack) -> None:
    with full_stack.client(BOB) as bob:
        reply = chat(bob, message="what's the weather in Seattle?").json()

    assert decisions(reply) == [("weather", "deny", ["default-deny"])]
    assert reply["tool_calls"][0]["output"].startswith("Not permitted")  # the authorizer's, not the tool's
    assert "Not permitted" in reply["response"]


def test_a_member_of_the_weather_group_reaches_the_weather_tool(full_stack: RunningStack) -> None:
    with full_stack.client(CAROL) as carol:
        reply = chat(carol, message="what's the weather in Seattle?").json()

    assert decisions(reply) == [("weather", "allow", ["weather-for-the-weather-group"])]
    assert not reply["tool_calls"][0]["output"].startswith("Not permitted")  # the tool itself answered


def test_a_ticket_waits_for_approval_and_approving_creates_exactly_one(full_stack: RunningStack) -> None:
    before = len(tickets(full_stack))
    with full_stack.client(CAROL) as carol, full_stack.client(BOB) as bob:
        paused = chat(carol, message=TICKET).json()
        pending, session = paused["pending_approval"], paused["session_id"]
        assert decisions(paused) == [
            ("create_ticket", "pending_approval", ["tickets-need-the-users-approval"])
        ]
        assert (
            pending["tool"] == "create_ticket"
            and pending["arguments"]["title"] == "printer on floor 3 is broken"
        )
        assert len(tickets(full_stack)) == before  # nothing yet

        bobs_session = chat(bob, message="hello").json()["session_id"]
        forged = chat(carol, session_id=session, approval={"id": "ap-" + "0" * 32, "decision": "approve"})
        someone_elses = chat(
            bob, session_id=bobs_session, approval={"id": pending["id"], "decision": "approve"}
        )
        in_her_session = chat(bob, session_id=session, approval={"id": pending["id"], "decision": "approve"})
        assert forged.status_code == someone_elses.status_code == 409
        assert (
            forged.json()["error"]["code"] == someone_elses.json()["error"]["code"] == "approval_not_pending"
        )
        assert in_her_session.status_code == 404  # her conversation does not exist for him

        approved = chat(carol, session_id=session, approval={"id": pending["id"], "decision": "approve"})
        replayed = chat(carol, session_id=session, approval={"id": pending["id"], "decision": "approve"})

    assert approved.status_code == 200, approved.text
    assert decisions(approved.json())[0][:2] == ("create_ticket", "approved")
    assert f"ticket {pending['id']}" in approved.json()["response"]
    assert replayed.status_code == 409
    assert tickets(full_stack)[before:] == [(pending["id"], "printer on floor 3 is broken", "medium")]


def test_rejecting_creates_no_ticket_and_the_reply_says_so(full_stack: RunningStack) -> None:
    before = len(tickets(full_stack))
    with full_stack.client(CAROL) as carol:
        paused = chat(carol, message="open a ticket: the coffee machine leaks").json()
        rejected = chat(
            carol,
            session_id=paused["session_id"],
            approval={"id": paused["pending_approval"]["id"], "decision": "reject"},
        )

    assert rejected.status_code == 200
    assert decisions(rejected.json())[0][:2] == ("create_ticket", "rejected")
    assert "rejected" in rejected.json()["response"]
    assert len(tickets(full_stack)) == before


def test_without_conversation_storage_a_ticket_is_denied(secure_stack: RunningStack) -> None:
    with secure_stack.client(CAROL) as carol:
        reply = chat(carol, message=TICKET).json()

    assert [d[:2] for d in decisions(reply)] == [("create_ticket", "deny")]
    assert reply["pending_approval"] is None and "conversation storage" in reply["response"]


def test_log_only_runs_the_call_and_records_the_would_be_denial(
    stack_factory: Callable[..., RunningStack],
) -> None:
    stack = stack_factory(2, "--policy-mode", "LOG_ONLY")
    with stack.client(BOB) as bob:
        reply = chat(bob, message="what's the weather in Seattle?").json()

    assert decisions(reply) == [("weather", "log_only_deny", ["default-deny"])]
    assert not reply["tool_calls"][0]["output"].startswith("Not permitted")
