"""The chat Lambda's quotas and idempotent retries, fed API Gateway events, on the SQLite stores."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from agentarch import config
from agentarch.config import Env
from agentarch.core.timestamps import utc_now
from agentarch.dev.sqlite import SqliteDatabase, SqliteIdempotencyStore, SqliteQuotaStore
from agentarch.dev.testing import LocalLambdaContext, rest_api_event
from agentarch.dev.testing.aws import (
    IDEMPOTENCY_TABLE_NAME,
    QUOTAS_TABLE_NAME,
    REGION,
    create_idempotency_table,
    create_quotas_table,
    dynamodb_writes_one_at_a_time,
)
from agentarch.handlers import chat as chat_handler
from agentarch.services import quotas
from agentarch.services.quotas import DailyLimits, QuotaPolicy

POLICY = QuotaPolicy(default=DailyLimits(requests_per_day=3, tokens_per_day=1000))
USAGE = {"input_tokens": 120, "output_tokens": 30}


def chat_event(body: dict[str, Any], key: str | None = None, sub: str = "alice") -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "origin": "http://127.0.0.1:8000"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return rest_api_event("POST", "/api/chat", body=json.dumps(body), claims={"sub": sub}, headers=headers)


def call(evt: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    out = chat_handler.lambda_handler(evt, LocalLambdaContext(function_name="chat"))  # type: ignore[arg-type]
    headers = dict(out.get("headers") or {})
    headers.update({k: ",".join(v) for k, v in (out.get("multiValueHeaders") or {}).items()})
    return out["statusCode"], json.loads(out["body"]), headers


class CountingAgent:
    """Answers each prompt with a numbered reply and the token usage the real agent reports."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.during_call: Any = None

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        self.calls.append(payload["prompt"])
        if self.during_call is not None:
            self.during_call()
        return {"response": f"answer {len(self.calls)}", "tool_calls": [], "usage": USAGE}


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CountingAgent]:
    database = SqliteDatabase(tmp_path / "agentarch.sqlite3")
    guard = chat_handler.Governance(SqliteQuotaStore(database), POLICY, SqliteIdempotencyStore(database), 200)
    fake = CountingAgent()
    monkeypatch.setattr(chat_handler, "agent_client", lambda: fake)
    monkeypatch.setattr(chat_handler, "governance", lambda: guard)
    yield fake


def used(sub: str = "alice") -> dict[str, int]:
    guard = chat_handler.governance()
    assert guard is not None
    return quotas.report(guard.quotas, guard.policy, sub, [], utc_now()).used.model_dump()


def test_over_the_daily_request_quota_is_429_with_retry_after_and_the_agent_never_runs(
    agent: CountingAgent,
) -> None:
    for n in range(3):
        assert call(chat_event({"message": f"q{n}"}))[0] == 200

    status, body, headers = call(chat_event({"message": "one too many"}))

    assert status == 429
    assert body["error"]["code"] == "quota_exceeded" and body["error"]["request_id"]
    assert 1 <= int(headers["Retry-After"]) <= 24 * 3600
    assert headers.get("Access-Control-Allow-Origin")
    assert agent.calls == ["q0", "q1", "q2"]
    assert used() == {"requests": 3, "tokens": 3 * 150, "reserved": 0}


def test_usage_shows_what_the_turns_spent(agent: CountingAgent) -> None:
    call(chat_event({"message": "hi"}))

    out = chat_handler.lambda_handler(
        rest_api_event("GET", "/api/usage", claims={"sub": "alice"}),
        LocalLambdaContext(function_name="chat"),  # type: ignore[arg-type]
    )
    report = json.loads(out["body"])

    assert out["statusCode"] == 200
    assert report["limits"] == {"requests_per_day": 3, "tokens_per_day": 1000}
    assert report["used"] == {"requests": 1, "tokens": 150, "reserved": 0}
    assert report["remaining"] == {"requests": 2, "tokens": 850, "reserved": 0}
    assert report["resets_at"].endswith(("T00:00:00Z", "T00:00:00+00:00"))


def test_a_retry_with_the_same_key_runs_the_agent_once_and_is_charged_once(agent: CountingAgent) -> None:
    key = str(uuid.uuid4())

    first = call(chat_event({"message": "what is 17 * 23?"}, key))
    retry = call(chat_event({"message": "what is 17 * 23?"}, key))

    assert first[0] == retry[0] == 200
    assert retry[1] == first[1]  # the same answer, the same new session id
    assert agent.calls == ["what is 17 * 23?"]
    assert used() == {"requests": 1, "tokens": 150, "reserved": 0}


def test_the_same_key_with_another_body_is_422_and_runs_nothing(agent: CountingAgent) -> None:
    key = str(uuid.uuid4())
    call(chat_event({"message": "first"}, key))

    status, body, _ = call(chat_event({"message": "something else"}, key))

    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"
    assert agent.calls == ["first"]


def test_another_user_with_the_same_key_gets_their_own_answer(agent: CountingAgent) -> None:
    key = str(uuid.uuid4())
    alice = call(chat_event({"message": "hello"}, key, sub="alice"))

    bob = call(chat_event({"message": "hello"}, key, sub="bob"))

    assert bob[0] == 200 and bob[1]["session_id"] != alice[1]["session_id"]
    assert agent.calls == ["hello", "hello"]
    assert used("bob") == {"requests": 1, "tokens": 150, "reserved": 0}


def test_the_same_key_while_the_first_is_still_running_is_409(agent: CountingAgent) -> None:
    key = str(uuid.uuid4())
    seen: list[tuple[int, dict[str, Any]]] = []
    agent.during_call = lambda: seen.append(call(chat_event({"message": "slow"}, key))[:2])

    status, _, _ = call(chat_event({"message": "slow"}, key))

    assert status == 200
    assert seen[0][0] == 409 and seen[0][1]["error"]["code"] == "request_in_progress"
    assert agent.calls == ["slow"]


def test_a_refused_request_leaves_no_record_so_its_retry_runs_once_the_quota_allows(
    agent: CountingAgent,
) -> None:
    for n in range(3):
        call(chat_event({"message": f"q{n}"}))
    key = str(uuid.uuid4())
    assert call(chat_event({"message": "later"}, key))[0] == 429

    assert call(chat_event({"message": "later"}, key))[0] == 429  # not 409, not a cached 429 answer
    assert agent.calls == ["q0", "q1", "q2"]


@pytest.mark.parametrize("key", ["short", "x" * 129, "has space in it", "naïve-key-1234", "semi;colon;key"])
def test_a_malformed_idempotency_key_is_422_naming_the_header(agent: CountingAgent, key: str) -> None:
    status, body, _ = call(chat_event({"message": "hi"}, key))

    assert status == 422 and body["error"]["code"] == "validation_error"
    assert "idempotency-key" in body["error"]["message"].lower()
    assert agent.calls == []


@pytest.fixture
def aws_governance(monkeypatch: pytest.MonkeyPatch, aws_credentials: None) -> Iterator[CountingAgent]:
    """The chat Lambda configured as Terraform configures it, on moto's DynamoDB."""
    with mock_aws(), dynamodb_writes_one_at_a_time():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_quotas_table(dynamodb)
        create_idempotency_table(dynamodb)
        for name, value in {
            Env.GOVERNANCE_BACKEND: "aws",
            Env.QUOTAS_TABLE: QUOTAS_TABLE_NAME,
            Env.IDEMPOTENCY_TABLE: IDEMPOTENCY_TABLE_NAME,
            Env.CHAT_QUOTAS: POLICY.model_dump_json(),
            Env.AWS_REGION: REGION,
        }.items():
            monkeypatch.setenv(name, value)
        config._cached.cache_clear()
        chat_handler.governance.cache_clear()
        fake = CountingAgent()
        monkeypatch.setattr(chat_handler, "agent_client", lambda: fake)
        yield fake
        config._cached.cache_clear()
        chat_handler.governance.cache_clear()


def test_configured_as_terraform_does_quotas_and_retries_work_on_dynamodb(
    aws_governance: CountingAgent,
) -> None:
    key = str(uuid.uuid4())
    first = call(chat_event({"message": "q0"}, key))
    assert call(chat_event({"message": "q0"}, key))[1] == first[1]  # the retry: the first answer
    for n in (1, 2):
        assert call(chat_event({"message": f"q{n}"}))[0] == 200

    status, body, headers = call(chat_event({"message": "q3"}))

    assert status == 429 and body["error"]["code"] == "quota_exceeded" and "Retry-After" in headers
    assert aws_governance.calls == ["q0", "q1", "q2"]
    assert used() == {"requests": 3, "tokens": 3 * 150, "reserved": 0}
