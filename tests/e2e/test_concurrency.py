"""Under concurrency the local stack behaves like Lambda: one event per execution environment, so no
user ever sees another's data; and reserved concurrency caps the environments, as in AWS."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, BOB, RunningStack

pytestmark = pytest.mark.e2e

CLIENTS_PER_USER = 16
TURNS = 3
ROUNDS = 3


def product_question(user_index: int, round_: int, client: int, turn: int) -> tuple[str, int]:
    """A question whose answer is unique to (user, round, client, turn), so a misdelivery shows."""
    a = 100_003 + user_index * 10_000 + round_ * 1_000 + client * 10 + turn
    b = 7 + turn
    return f"u{user_index}r{round_}c{client}t{turn}: what is {a} * {b}?", a * b


def run_client(
    stack: RunningStack, token: str, user_index: int, round_: int, client: int, ramp_seconds: float = 0.0
) -> dict[str, Any]:
    """One client: a conversation of TURNS questions, then asks what it asked before."""
    time.sleep(ramp_seconds)
    statuses: list[int] = []
    problems: list[str] = []
    session = None
    with httpx.Client(
        base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for turn in range(TURNS):
            question, answer = product_question(user_index, round_, client, turn)
            body: dict[str, Any] = {"message": question} | ({"session_id": session} if session else {})
            reply = http.post("/chat", json=body)
            statuses.append(reply.status_code)
            if reply.status_code != 200:
                problems.append(f"{question}: {reply.status_code} {reply.text[:200]}")
                return {"session": session, "statuses": statuses, "problems": problems}
            if str(answer) not in reply.json()["response"]:
                problems.append(f"{question}: got someone else's answer {reply.json()['response']!r}")
            if session is not None and reply.json()["session_id"] != session:
                problems.append(f"{question}: moved to another session")
            session = reply.json()["session_id"]
        recall = http.post("/chat", json={"message": "what did I ask before?", "session_id": session})
        statuses.append(recall.status_code)
        last_question, _ = product_question(user_index, round_, client, TURNS - 1)
        if recall.status_code != 200 or last_question not in recall.json()["response"]:
            problems.append(f"recall in {session}: {recall.status_code} {recall.text[:200]}")
    return {"session": session, "statuses": statuses, "problems": problems}


def test_two_users_with_16_clients_each_never_see_each_others_data(
    stack_factory: Callable[..., RunningStack],
) -> None:
    stack = stack_factory(3, "--rate-limit", "100000")
    users = [(0, ALICE, stack.token(ALICE)), (1, BOB, stack.token(BOB))]
    expected = {
        product_question(u, r, c, t)[1]
        for u in (0, 1)
        for r in range(ROUNDS)
        for c in range(16)
        for t in range(TURNS)
    }
    assert len(expected) == 2 * ROUNDS * 16 * TURNS  # every answer is unique, so any mix-up is visible

    sessions: dict[int, set[str]] = {0: set(), 1: set()}
    for round_ in range(ROUNDS):  # the race this guards against was intermittent: run it several times
        with ThreadPoolExecutor(max_workers=2 * CLIENTS_PER_USER) as pool:
            # The first round ramps its clients up over a few seconds, as real load arrives: 32
            # simultaneous cold starts on two cores would measure the laptop, not the isolation.
            # Later rounds start all at once, on warm environments (where the race used to be).
            futures = [
                (
                    user_index,
                    pool.submit(
                        run_client,
                        stack,
                        token,
                        user_index,
                        round_,
                        client,
                        (client * 0.4 if round_ == 0 else 0.0),
                    ),
                )
                for user_index, _, token in users
                for client in range(CLIENTS_PER_USER)
            ]
            results = [(user_index, future.result()) for user_index, future in futures]
        problems = [p for _, r in results for p in r["problems"]]
        statuses = [s for _, r in results for s in r["statuses"]]
        assert not problems, problems[:5]
        assert all(s < 500 for s in statuses), sorted(set(statuses))
        for user_index, result in results:
            sessions[user_index].add(result["session"])

    for user_index, user, token in users:
        with httpx.Client(
            base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            listed = http.get("/conversations", params={"limit": 100}).json()["items"]
            assert {c["session_id"] for c in listed} == sessions[user_index], user
            for conversation in listed:
                assert conversation["title"].startswith(f"u{user_index}r")
                history = http.get(
                    f"/conversations/{conversation['session_id']}", params={"limit": 100}
                ).json()
                texts = [m["text"] for m in history["messages"] if m["role"] == "user"]
                assert len(history["messages"]) == conversation["message_count"] == 2 * (TURNS + 1)
                assert all(t.startswith(f"u{user_index}r") for t in texts[:TURNS]), texts
    assert_index_matches_messages(stack)


def assert_index_matches_messages(stack: RunningStack) -> None:
    """The invariant after any load or fault: every indexed session has exactly the messages stored
    for it, and no message belongs to a session nobody owns."""
    with sqlite3.connect(stack.state_dir / "agentarch.db") as db:
        mismatched = db.execute(
            "SELECT c.session_id, c.message_count, COUNT(m.seq) FROM conversations c "
            "LEFT JOIN messages m ON m.session_id = c.session_id AND m.actor_id = c.actor_id "
            "GROUP BY c.session_id HAVING c.message_count != COUNT(m.seq)"
        ).fetchall()
        orphans = db.execute(
            "SELECT DISTINCT m.session_id FROM messages m LEFT JOIN conversations c "
            "ON c.session_id = m.session_id AND c.actor_id = m.actor_id WHERE c.session_id IS NULL"
        ).fetchall()
    assert mismatched == []
    assert orphans == []


def health(stack: RunningStack) -> dict[str, Any]:
    return httpx.get(f"{stack.url}/local/health", timeout=10).json()  # type: ignore[no-any-return]


def slow_chats(stack: RunningStack, count: int) -> list[httpx.Response]:
    """Send `count` chats at once while the runtime endpoint is frozen, so each holds its Lambda
    environment; thaw it once the calls are in flight."""
    token = stack.token(ALICE)
    runtime_pid = health(stack)["pieces"]["runtime-endpoint"]["pid"]
    os.kill(runtime_pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            futures = [
                pool.submit(
                    httpx.post,
                    f"{stack.url}/api/chat",
                    content=json.dumps({"message": f"what is {n} + 1?"}),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    timeout=60,
                )
                for n in range(count)
            ]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # wait until every call is either throttled or in flight
                chat = health(stack)["pieces"]["lambda-chat"]
                done = sum(f.done() for f in futures)
                if chat["busy"] + done >= count and chat["environments"] == chat["busy"]:
                    break
                time.sleep(0.2)
            os.kill(runtime_pid, signal.SIGCONT)
            return [f.result() for f in futures]
    finally:
        os.kill(runtime_pid, signal.SIGCONT)


def test_reserved_concurrency_throttles_calls_past_it_and_raising_it_lets_them_pass(
    stack_factory: Callable[..., RunningStack],
) -> None:
    capped = stack_factory(2, "--reserved-concurrency", "chat=2", "--rate-limit", "100000")
    raised = stack_factory(2, "--reserved-concurrency", "chat=8", "--rate-limit", "100000")

    at_two = slow_chats(capped, 8)
    at_eight = slow_chats(raised, 8)

    assert sorted(r.status_code for r in at_two) == [200, 200] + [503] * 6
    throttled = [r.json()["error"] for r in at_two if r.status_code == 503]
    assert {e["code"] for e in throttled} == {"service_unavailable"}
    assert all(e["request_id"] and e["message"] for e in throttled)
    assert health(capped)["pieces"]["lambda-chat"]["environments"] <= 2
    assert [r.status_code for r in at_eight] == [200] * 8
