"""The chat Lambda, fed API Gateway REST proxy events: validation, identity, error mapping, logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from agentarch.adapters.agent_runtime import AgentRuntimeClient, AgentTimeout, AgentUnavailable, RuntimeTarget
from agentarch.dev.testing import LocalLambdaContext, rest_api_event
from agentarch.handlers import chat as chat_handler

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ"
RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-abcdefghij"


def event(
    body: str | None, claims: dict[str, str] | None = None, content_type: str = "application/json"
) -> dict[str, Any]:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": content_type,
        "origin": "http://127.0.0.1:8000",
    }
    return rest_api_event(
        "POST",
        "/api/chat",
        body=body,
        claims={"sub": "user-123", "cognito:groups": "users,admins"} if claims is None else claims,
        headers=headers,
        source_ip="10.0.0.1",
    )


class FakeAgent:
    def __init__(self, outcome: dict[str, Any] | Exception) -> None:
        self.outcome = outcome
        self.calls: list[tuple[dict[str, Any], str]] = []

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        self.calls.append((payload, session_id))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAgent]:
    fake = FakeAgent(
        {"response": "391", "session_id": "ignored", "tool_calls": [{"name": "calculator", "args": {}}]}
    )
    monkeypatch.setattr(chat_handler, "agent_client", lambda: fake)
    yield fake


def call(evt: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    out = chat_handler.lambda_handler(evt, LocalLambdaContext(function_name="chat"))  # type: ignore[arg-type]
    headers = dict(out.get("headers") or {})
    headers.update({k: ",".join(v) for k, v in (out.get("multiValueHeaders") or {}).items()})
    return out["statusCode"], json.loads(out["body"]), headers


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the handler's Powertools logger writes, formatted as in CloudWatch."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(chat_handler.logger.registered_formatter)
    chat_handler.logger.addHandler(handler)
    yield buffer
    chat_handler.logger.removeHandler(handler)


def test_a_message_reaches_the_agent_with_the_actor_from_the_claims(agent: FakeAgent) -> None:
    body = {"message": "what is 17 * 23?", "actor": {"id": "someone-else"}}

    evt = event(json.dumps(body))
    status, reply, _ = call(evt)

    assert status == 200
    assert reply["response"] == "391"
    payload, session_id = agent.calls[0]
    assert payload == {  # the session is the header; groups come from the verified claims
        "prompt": "what is 17 * 23?",
        "actor": {"id": "user-123", "groups": ["users", "admins"]},
        "session_calls": {},  # no conversation storage here (pattern 2): no earlier calls are known
        "session_tokens": 0,  # nor what earlier turns spent
        "session_seconds": 0.0,
        "request_id": evt["requestContext"]["requestId"],  # the agent's audit records name it
    }
    assert reply["session_id"] == session_id
    assert len(session_id) >= 33


def test_a_given_session_id_is_kept(agent: FakeAgent) -> None:
    session = "s" + "a" * 40

    status, reply, _ = call(event(json.dumps({"message": "hi", "session_id": session})))

    assert status == 200 and reply["session_id"] == session
    assert agent.calls[0][1] == session


def test_missing_identity_is_401(agent: FakeAgent) -> None:
    status, reply, _ = call(event(json.dumps({"message": "hi"}), claims={}))

    assert status == 401 and reply["error"]["code"] == "unauthorized"
    assert agent.calls == []


@pytest.mark.parametrize(
    ("body", "status", "code", "names"),
    [
        ('{"message": ', 400, "malformed_json", None),
        ("{}", 422, "validation_error", "message"),
        (json.dumps({"message": ""}), 422, "validation_error", "message"),
        (json.dumps({"message": "x" * 4001}), 422, "validation_error", "message"),
        (json.dumps({"message": "hi", "session_id": "../../etc"}), 422, "validation_error", "session_id"),
        (json.dumps({"message": "x" * 40_000}), 413, "payload_too_large", None),
    ],
)
def test_bad_input_gets_a_clear_error_and_never_reaches_the_agent(
    agent: FakeAgent, body: str, status: int, code: str, names: str | None
) -> None:
    got_status, reply, headers = call(event(body))

    assert got_status == status
    assert reply["error"]["code"] == code
    assert reply["error"]["request_id"]
    if names:
        assert names in reply["error"]["message"]
    assert headers.get("Access-Control-Allow-Origin")
    assert agent.calls == []


def test_a_form_body_is_415_not_a_confusing_field_error(agent: FakeAgent) -> None:
    status, reply, _ = call(event("message=hi", content_type="application/x-www-form-urlencoded"))

    assert status == 415 and reply["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (AgentTimeout("slow"), 504, "agent_timeout"),
        (AgentUnavailable("the agent runtime answered AccessDeniedException"), 502, "agent_error"),
    ],
)
def test_agent_failures_map_to_502_and_504_without_internals(
    monkeypatch: pytest.MonkeyPatch, failure: Exception, status: int, code: str
) -> None:
    monkeypatch.setattr(chat_handler, "agent_client", lambda: FakeAgent(failure))

    got, reply, _ = call(event(json.dumps({"message": "hi"})))

    assert got == status and reply["error"]["code"] == code
    assert "AccessDenied" not in reply["error"]["message"]


def test_an_agent_answer_that_is_not_a_reply_is_502(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat_handler, "agent_client", lambda: FakeAgent({"unexpected": True}))

    status, reply, _ = call(event(json.dumps({"message": "hi"})))

    assert status == 502 and reply["error"]["code"] == "agent_error"


def test_no_log_line_carries_the_token(monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO) -> None:
    monkeypatch.setattr(chat_handler, "agent_client", lambda: FakeAgent(AgentUnavailable("boom")))

    for body in (json.dumps({"message": "hi"}), "{broken", json.dumps({"message": ""})):
        call(event(body))

    logs = log_lines.getvalue()
    assert '"error_code":"agent_error","reason":"boom"' in logs
    assert TOKEN not in logs and TOKEN.split(".")[2] not in logs


def test_missing_settings_answer_500_misconfigured_and_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    monkeypatch.delenv("AGENT_RUNTIME_ARN", raising=False)
    chat_handler.agent_client.cache_clear()
    from agentarch.config import _cached

    _cached.cache_clear()

    status, reply, _ = call(event(json.dumps({"message": "hi"})))

    assert status == 500 and reply["error"]["code"] == "misconfigured"
    assert "AGENT_RUNTIME_ARN" in log_lines.getvalue()
    chat_handler.agent_client.cache_clear()


# ---- the SigV4 runtime client (boto3 under botocore's Stubber) ----


def runtime_client(max_attempts: int = 2) -> tuple[AgentRuntimeClient, Stubber]:
    client = boto3.client(
        "bedrock-agentcore", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    target = RuntimeTarget(RUNTIME_ARN, "DEFAULT", "us-east-1", None, 1.0, 2.0, max_attempts)
    return AgentRuntimeClient(target, client=client), Stubber(client)


def streaming(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def ok_answer(data: bytes) -> dict[str, Any]:
    return {"response": streaming(data), "contentType": "application/json", "statusCode": 200}


def test_runtime_client_sends_session_and_qualifier_and_reads_json(monkeypatch: pytest.MonkeyPatch) -> None:
    client, stubber = runtime_client()
    session = "s" * 40
    stubber.add_response(
        "invoke_agent_runtime",
        ok_answer(b'{"response": "ok"}'),
        {
            "agentRuntimeArn": RUNTIME_ARN,
            "qualifier": "DEFAULT",
            "runtimeSessionId": session,
            "contentType": "application/json",
            "accept": "application/json",
            "payload": b'{"prompt": "hi"}',
        },
    )

    with stubber:
        assert client.invoke({"prompt": "hi"}, session) == {"response": "ok"}


def test_runtime_client_retries_throttling_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentarch.adapters.agent_runtime.time.sleep", lambda _: None)
    client, stubber = runtime_client(max_attempts=2)
    stubber.add_client_error("invoke_agent_runtime", "ThrottlingException", http_status_code=429)
    stubber.add_response("invoke_agent_runtime", ok_answer(b'{"response": "ok"}'))
    stubber.add_client_error("invoke_agent_runtime", "ThrottlingException", http_status_code=429)
    stubber.add_client_error("invoke_agent_runtime", "ThrottlingException", http_status_code=429)

    with stubber:
        assert client.invoke({}, "s" * 40) == {"response": "ok"}
        with pytest.raises(AgentUnavailable, match="ThrottlingException"):
            client.invoke({}, "s" * 40)


def test_runtime_client_does_not_retry_access_denied_or_read_timeouts() -> None:
    client, stubber = runtime_client(max_attempts=3)
    stubber.add_client_error("invoke_agent_runtime", "AccessDeniedException", http_status_code=403)
    with stubber, pytest.raises(AgentUnavailable, match="AccessDenied"):
        client.invoke({}, "s" * 40)

    class TimingOut:
        calls = 0

        def invoke_agent_runtime(self, **_: Any) -> dict[str, Any]:
            TimingOut.calls += 1
            raise ReadTimeoutError(endpoint_url="http://runtime")

    target = RuntimeTarget(RUNTIME_ARN, "DEFAULT", "us-east-1", None, 1.0, 2.0, 3)
    with pytest.raises(AgentTimeout):
        AgentRuntimeClient(target, client=TimingOut()).invoke({}, "s" * 40)
    assert TimingOut.calls == 1


def test_runtime_client_refuses_a_non_json_answer() -> None:
    client, stubber = runtime_client()
    stubber.add_response("invoke_agent_runtime", ok_answer(b"<html>"))
    with stubber, pytest.raises(AgentUnavailable, match="not JSON"):
        client.invoke({}, "s" * 40)
