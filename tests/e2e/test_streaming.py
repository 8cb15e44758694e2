"""Streamed answers over HTTP, through the front door, the chat Lambda and the runtime (pattern 3).

What a user of the page notices: the answer arrives in pieces while the model writes it; the quota,
idempotency, the tool policy and the audit trail hold as they do for the JSON answer.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import httpx
import pytest

from agentarch.core.streaming import parse_sse
from tests.conftest import ALICE, BOB, CAROL, RunningStack, start_stack
from tests.e2e.test_audit import every_record

pytestmark = pytest.mark.e2e

SSE = {"Accept": "text/event-stream"}
DAILY_REQUESTS = 12
OUTPUT_CAP = 400  # characters: the help text (far longer) is stopped, the other answers are not


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Pattern 3 with a model that takes 0.6 s per call, spread over its tokens, as a real one would."""
    env = {"OFFLINE_MODEL_LATENCY_SECONDS": "0.6", "TURN_OUTPUT_MAX_CHARS": str(OUTPUT_CAP)}
    with mock.patch.dict(os.environ, env):
        running = start_stack(
            tmp_path_factory.mktemp("streaming"),
            3,
            "--rate-limit",
            "100000",
            "--daily-requests",
            str(DAILY_REQUESTS),
        )
    yield running
    running.stop()


def stream(
    http: httpx.Client, body: dict[str, Any], **headers: str
) -> tuple[httpx.Response, list[tuple[int, dict[str, Any]]]]:
    """POST /chat asking for an event stream: the response and each event with the read it came in."""
    events: list[tuple[int, dict[str, Any]]] = []
    with http.stream("POST", "/chat", json=body, headers={**SSE, **headers}) as answer:
        if not answer.headers.get("content-type", "").startswith("text/event-stream"):
            answer.read()
            return answer, events
        pending = b""
        for number, chunk in enumerate(answer.iter_raw()):
            pending += chunk
            *complete, pending = pending.split(b"\n\n")
            for block in complete:
                events += [(number, e) for e in parse_sse([block, b"", b""]) if block]
    return answer, events


def kinds(events: list[tuple[int, dict[str, Any]]]) -> list[str]:
    return [e["type"] for _, e in events]


def test_a_streamed_answer_arrives_in_pieces_and_ends_with_the_json_reply(stack: RunningStack) -> None:
    with stack.client(ALICE) as http:
        answer, events = stream(http, {"message": "what is 17 * 23?"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    types = kinds(events)
    # the tool call (with its decision) first, then the text in pieces, then the reply
    assert types[0] == "tool_call" and types[-1] == "done"
    call = events[0][1]["call"]
    assert (call["name"], call["decision"]) == ("calculator", "allow")
    texts = [(n, e["text"]) for n, e in events if e["type"] == "text"]
    assert len(texts) >= 4
    assert len({n for n, _ in texts}) >= 3, "the text came in one read: it was not streamed"
    reply = events[-1][1]["reply"]
    assert "".join(t for _, t in texts) == reply["response"]
    assert "391" in reply["response"] and reply["usage"]["output_tokens"] > 0
    assert [c["name"] for c in reply["tool_calls"]] == ["calculator"]


def test_the_same_turn_as_json_when_the_client_does_not_ask_for_a_stream(stack: RunningStack) -> None:
    with stack.client(ALICE) as http:
        plain = http.post("/chat", json={"message": "what is 2 + 3?"})
        either = http.post(
            "/chat", json={"message": "what is 2 + 3?"}, headers={"Accept": "application/json"}
        )
        usage = http.get("/usage", headers=SSE)  # a route with no stream: JSON as always

    for answer in (plain, either):
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
        assert "5" in answer.json()["response"]
    assert usage.status_code == 200 and "limits" in usage.json()


def test_an_invalid_request_is_refused_before_the_first_byte(stack: RunningStack) -> None:
    with stack.client(ALICE) as http:
        answer, events = stream(http, {"message": ""})

    assert answer.status_code == 422 and events == []
    assert answer.json()["error"]["code"] == "validation_error"


def test_a_pending_approval_streams_with_its_id(stack: RunningStack) -> None:
    with stack.client(CAROL) as http:
        answer, events = stream(http, {"message": "open a ticket: the printer is on fire"})

    types = kinds(events)
    assert answer.status_code == 200 and types[-2:] == ["pending_approval", "done"]
    assert events[0][1]["call"]["decision"] == "pending_approval"
    pending = events[-2][1]["pending_approval"]
    assert pending["tool"] == "create_ticket" and pending["id"].startswith("ap-")
    assert events[-1][1]["reply"]["pending_approval"] == pending


def test_the_output_cap_stops_the_stream_with_a_clear_event(stack: RunningStack) -> None:
    with stack.client(ALICE) as http:
        answer, events = stream(http, {"message": "help"})
        session = events[-1][1]["reply"]["session_id"]
        stored = http.get(f"/conversations/{session}").json()["messages"]

    types = kinds(events)
    assert answer.status_code == 200 and "stopped" in types and types[-1] == "done"
    stopped = next(e for _, e in events if e["type"] == "stopped")
    assert stopped["reason"] == "output_cap" and f"{OUTPUT_CAP}" in stopped["message"]
    shown = "".join(e["text"] for _, e in events if e["type"] == "text")
    assert len(shown) == OUTPUT_CAP
    # the turn is what the user saw, stored whole, and charged
    assert stored[-1]["text"].startswith(shown) and "limit" in stored[-1]["text"]
    assert events[-1][1]["reply"]["usage"]["output_tokens"] > 0


def test_a_retry_during_the_stream_is_409_and_after_it_replays_the_stored_answer(stack: RunningStack) -> None:
    key = f"stream-{uuid.uuid4()}"
    body = {"message": "what is 6 * 7?"}
    with stack.client(ALICE) as http:
        first: dict[str, Any] = {}
        runner = threading.Thread(
            target=lambda: first.update(
                zip(("answer", "events"), stream(http, body, **{"Idempotency-Key": key}), strict=True)
            )
        )
        runner.start()
        during = None
        for _ in range(100):  # once the first has been admitted
            time.sleep(0.05)
            during = http.post("/chat", json=body, headers={**SSE, "Idempotency-Key": key})
            if during.status_code == 409:
                break
        runner.join()
        after, replayed = stream(http, body, **{"Idempotency-Key": key})
        usage_before = http.get("/usage").json()["used"]
        again, _ = stream(http, body, **{"Idempotency-Key": key})
        usage_after = http.get("/usage").json()["used"]

    assert during is not None and during.status_code == 409, during.text if during else None
    assert during.json()["error"]["code"] == "request_in_progress"
    assert after.status_code == 200 and kinds(replayed) == ["done"]
    assert replayed[-1][1]["reply"] == first["events"][-1][1]["reply"]
    assert again.status_code == 200 and usage_after == usage_before  # a replay is not charged again


def test_a_client_that_goes_away_leaves_the_turn_complete_stored_and_audited_once(
    stack: RunningStack,
) -> None:
    token = stack.token(ALICE)
    with (
        httpx.Client(
            base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http,
        http.stream("POST", "/chat", json={"message": "what time is it?"}, headers=SSE) as answer,
    ):
        for line in answer.iter_lines():
            if line.startswith("data:") and json.loads(line[5:])["type"] == "tool_call":
                break  # the user closes the tab mid-answer
    with stack.client(ALICE) as http:
        listed = []
        for _ in range(100):
            listed = [
                c for c in http.get("/conversations").json()["items"] if c["title"].startswith("what time")
            ]
            if listed and listed[0]["message_count"] >= 2:
                break
            time.sleep(0.1)
        session = listed[0]["session_id"]
        messages = http.get(f"/conversations/{session}").json()["messages"]
        turns = [r for r in every_record(http, 50, session=session) if r["kind"] == "turn"]

    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "offline model" in messages[1]["text"]
    assert len(turns) == 1 and turns[0]["outcome"] == "ok"


def test_over_the_quota_a_stream_is_refused_with_429_before_any_byte(stack: RunningStack) -> None:
    with stack.client(BOB) as http:
        used = http.get("/usage").json()["used"]["requests"]
        for _ in range(DAILY_REQUESTS - used):
            http.post("/chat", json={"message": "what is 1 + 1?"})
        answer, events = stream(http, {"message": "what is 1 + 1?"})

    assert answer.status_code == 429 and events == []
    assert answer.json()["error"]["code"] == "quota_exceeded"
