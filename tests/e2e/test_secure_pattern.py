"""The secure pattern over HTTP: login → chat through the whole chain, and the front door's guards."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import ALICE, RunningStack

pytestmark = pytest.mark.e2e


def chat(stack: RunningStack, token: str, body: object, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url}/api/chat",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers},
        timeout=30,
    )


def runtime_invocations_url(stack: RunningStack) -> str:
    config = stack.config()
    return config["runtime_url"]


def test_login_then_chat_answers_with_a_tool(secure_stack: RunningStack) -> None:
    token = secure_stack.token()

    answer = chat(secure_stack, token, {"message": "what is 17 * 23?"})

    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert "391" in reply["response"]
    assert "offline model" in reply["response"]
    assert [call["name"] for call in reply["tool_calls"]] == ["calculator"]
    assert len(reply["session_id"]) >= 33


def test_time_question_uses_the_clock_tool_and_keeps_the_session(secure_stack: RunningStack) -> None:
    token = secure_stack.token()
    first = chat(secure_stack, token, {"message": "what is 2 + 2?"}).json()

    answer = chat(secure_stack, token, {"message": "what time is it?", "session_id": first["session_id"]})

    assert answer.status_code == 200
    assert answer.json()["session_id"] == first["session_id"]
    assert [call["name"] for call in answer.json()["tool_calls"]] == ["current_time"]


def test_wrong_password_is_401(secure_stack: RunningStack) -> None:
    answer = httpx.post(
        f"{secure_stack.url}/local-auth/login", json={"username": "alice", "password": "nope"}
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_chat_without_a_token_is_401_and_an_id_token_is_not_enough(secure_stack: RunningStack) -> None:
    id_token = secure_stack.login()["id_token"]

    without = httpx.post(f"{secure_stack.url}/api/chat", json={"message": "hi"})
    with_id_token = chat(secure_stack, id_token, {"message": "hi"})

    assert without.status_code == 401
    assert with_id_token.status_code == 401
    assert with_id_token.json()["error"]["code"] == "unauthorized"


def test_user_token_sent_straight_to_the_runtime_is_refused_in_pattern_2(secure_stack: RunningStack) -> None:
    token = secure_stack.token()
    assert secure_stack.config()["pattern"] == 2

    direct = httpx.post(
        runtime_invocations_url(secure_stack),
        json={"prompt": "what is 17 * 23?", "session_id": "s" + "0" * 40},
        headers={
            "Authorization": f"Bearer {token}",
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "s" + "0" * 40,
        },
    )
    unsigned = httpx.post(
        runtime_invocations_url(secure_stack), json={"prompt": "hi", "session_id": "x" * 40}
    )
    forged = httpx.post(
        runtime_invocations_url(secure_stack),
        json={"prompt": "hi"},
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKEFAKE/20260101/us-east-1/"
            "bedrock-agentcore/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "X-Amz-Date": "20260101T000000Z",
        },
    )
    front_door = chat(secure_stack, token, {"message": "what is 17 * 23?"})

    assert direct.status_code == 403
    assert unsigned.status_code == 403
    assert forged.status_code == 403
    assert front_door.status_code == 200


def test_malformed_json_is_400_with_the_error_shape(secure_stack: RunningStack) -> None:
    answer = httpx.post(
        f"{secure_stack.url}/api/chat",
        content=b'{"message": "unterminated',
        headers={"Authorization": f"Bearer {secure_stack.token()}", "Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "malformed_json"
    assert error["message"] and error["request_id"]


def test_field_errors_name_the_field(secure_stack: RunningStack) -> None:
    token = secure_stack.token()

    empty = chat(secure_stack, token, {"message": ""})
    too_long = chat(secure_stack, token, {"message": "x" * 4001})
    bad_session = chat(secure_stack, token, {"message": "hi", "session_id": "short"})

    for answer in (empty, too_long, bad_session):
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "validation_error"
    assert "message" in empty.json()["error"]["message"]
    assert "session_id" in bad_session.json()["error"]["message"]


def test_body_over_the_limit_is_413(secure_stack: RunningStack) -> None:
    answer = chat(secure_stack, secure_stack.token(), {"message": "x" * 40_000})

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_cors_preflight_skips_the_authorizer_and_errors_carry_cors(secure_stack: RunningStack) -> None:
    origin = secure_stack.url

    preflight = httpx.options(
        f"{secure_stack.url}/api/chat",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    unauthorized = httpx.post(
        f"{secure_stack.url}/api/chat", json={"message": "hi"}, headers={"Origin": origin}
    )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert unauthorized.status_code == 401
    assert unauthorized.headers["access-control-allow-origin"] == origin


def test_no_log_line_carries_a_token(secure_stack: RunningStack) -> None:
    tokens = secure_stack.login()
    chat(secure_stack, tokens["access_token"], {"message": "what is 1 + 1?"})
    chat(secure_stack, tokens["access_token"], {"message": '{"broken'})

    logs = [path.read_text() for path in (secure_stack.state_dir / "logs").glob("*.log")]

    assert logs and any("chat turn answered" in text for text in logs)
    for text in logs:
        assert tokens["access_token"] not in text
        assert tokens["access_token"].split(".")[2] not in text  # not even the signature part


def test_too_many_requests_from_one_ip_get_429(stack_factory: Callable[..., RunningStack]) -> None:
    stack = stack_factory(2, "--rate-limit", "5", "--rate-window", "300")
    token = stack.token()

    statuses = [chat(stack, token, {"message": "what is 1 + 1?"}).status_code for _ in range(7)]
    # A different source address has its own budget, as with WAF's per-IP rule.
    other_ip = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    from_elsewhere = other_ip.post(
        f"{stack.url}/api/chat",
        json={"message": "what is 1 + 1?"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )

    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    assert from_elsewhere.status_code == 200


def test_a_new_session_id_is_unguessable_and_differs_per_conversation(secure_stack: RunningStack) -> None:
    token = secure_stack.token(ALICE)

    ids = {chat(secure_stack, token, {"message": "what is 3 * 3?"}).json()["session_id"] for _ in range(3)}

    assert len(ids) == 3
    assert all(len(i) >= 33 for i in ids)
