"""Daily quotas and idempotent retries over HTTP, on the local stack (pattern 3, so each turn the
agent ran shows in the conversation)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.conftest import ALICE, BOB, RunningStack

pytestmark = pytest.mark.e2e

DAILY_REQUESTS = 3
DAILY_TOKENS = 2000
LONG_MESSAGE = "tell me a story " * 250  # 4000 characters: over 1000 input tokens a turn


@pytest.fixture(scope="module")
def limited(stack_factory: Callable[..., RunningStack]) -> RunningStack:
    return stack_factory(
        3,
        "--rate-limit",
        "5000",
        "--daily-requests",
        str(DAILY_REQUESTS),
        "--daily-tokens",
        str(DAILY_TOKENS),
    )


def messages_in(stack: RunningStack, user: tuple[str, str], session: str) -> int:
    with stack.client(user) as http:
        return len(http.get(f"/conversations/{session}").json()["messages"])


def test_over_the_daily_request_quota_the_agent_is_not_invoked(limited: RunningStack) -> None:
    with limited.client(ALICE) as http:
        # Given alice has sent her 3 requests of the day
        session = http.post("/chat", json={"message": "what is 1 + 1?"}).json()["session_id"]
        for question in ("what is 2 + 2?", "what is 3 + 3?"):
            assert http.post("/chat", json={"message": question, "session_id": session}).status_code == 200
        before = http.get("/usage").json()

        # When she sends a fourth
        refused = http.post("/chat", json={"message": "what is 4 + 4?", "session_id": session})

        after = http.get("/usage").json()

    # Then: 429 quota_exceeded in the error shape, Retry-After until UTC midnight, and no turn ran
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded" and "requests" in error["message"] and error["request_id"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 24 * 3600
    assert messages_in(limited, ALICE, session) == 2 * DAILY_REQUESTS
    assert before["used"]["requests"] == after["used"]["requests"] == DAILY_REQUESTS
    assert after["used"]["tokens"] == before["used"]["tokens"] > 0  # the agent was not charged again
    assert after["remaining"]["requests"] == 0
    assert after["limits"] == {"requests_per_day": DAILY_REQUESTS, "tokens_per_day": DAILY_TOKENS}
    assert abs(after["resets_in_seconds"] - int(refused.headers["Retry-After"])) <= 5
    assert after["resets_at"].endswith(("T00:00:00Z", "T00:00:00+00:00"))


def test_over_the_daily_token_quota_the_agent_is_not_invoked(limited: RunningStack) -> None:
    with limited.client(BOB) as http:
        first = http.post("/chat", json={"message": LONG_MESSAGE})
        session = first.json()["session_id"]
        turn_tokens = sum(first.json()["usage"].values())
        http.post("/chat", json={"message": LONG_MESSAGE, "session_id": session})
        spent = http.get("/usage").json()

        refused = http.post("/chat", json={"message": "what is 4 + 4?", "session_id": session})

        after = http.get("/usage").json()

    assert turn_tokens > 1000  # what the agent reported for one turn is what was charged
    assert spent["used"] == {"requests": 2, "tokens": spent["used"]["tokens"], "reserved": 0}
    assert spent["used"]["tokens"] >= DAILY_TOKENS and spent["remaining"]["tokens"] == 0
    assert refused.status_code == 429 and "tokens" in refused.json()["error"]["message"]
    assert "Retry-After" in refused.headers
    assert after["used"] == spent["used"]
    assert messages_in(limited, BOB, session) == 4


def test_a_retried_request_runs_the_agent_once_and_is_charged_once(full_stack: RunningStack) -> None:
    key = str(uuid.uuid4())
    body = {"message": "what is 17 * 23?"}
    with full_stack.client(ALICE) as http:
        before = http.get("/usage").json()["used"]

        first = http.post("/chat", json=body, headers={"Idempotency-Key": key})
        retry = http.post("/chat", json=body, headers={"Idempotency-Key": key})
        other_body = http.post("/chat", json={"message": "what is 1 + 1?"}, headers={"Idempotency-Key": key})

        after = http.get("/usage").json()["used"]
    with full_stack.client(BOB) as http:
        bobs = http.post("/chat", json=body, headers={"Idempotency-Key": key})

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and "391" in first.json()["response"]
    session = first.json()["session_id"]
    assert messages_in(full_stack, ALICE, session) == 2  # one turn: the agent ran once
    assert after == {
        "requests": before["requests"] + 1,
        "tokens": before["tokens"] + sum(first.json()["usage"].values()),
        "reserved": 0,  # nothing is held once the turn has settled
    }
    assert other_body.status_code == 422 and other_body.json()["error"]["code"] == "idempotency_key_reused"
    assert bobs.status_code == 200 and bobs.json()["session_id"] != session
    assert messages_in(full_stack, BOB, bobs.json()["session_id"]) == 2


def test_a_malformed_idempotency_key_is_refused_before_anything_runs(full_stack: RunningStack) -> None:
    with full_stack.client(ALICE) as http:
        before = http.get("/usage").json()["used"]
        refused = http.post("/chat", json={"message": "hi"}, headers={"Idempotency-Key": "bad key!"})
        after = http.get("/usage").json()["used"]

    assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
    assert "idempotency-key" in refused.json()["error"]["message"].lower()
    assert after == before
