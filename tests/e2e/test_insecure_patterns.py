"""Patterns 0 and 1 exist to show the gap: the user's own token opens the runtime directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import RunningStack

pytestmark = pytest.mark.e2e
SESSION = "s" + "1" * 40


def direct_call(stack: RunningStack, token: str, **payload: Any) -> httpx.Response:
    config = stack.config()
    return httpx.post(
        config["runtime_url"],
        json={"prompt": "what is 17 * 23?", "session_id": SESSION, **payload},
        headers={"Authorization": f"Bearer {token}", "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": SESSION},
        timeout=30,
    )


def test_pattern_1_gap_the_same_token_works_at_the_runtime_directly(
    stack_factory: Callable[..., RunningStack],
) -> None:
    stack = stack_factory(1)
    token = stack.token()

    through_front_door = httpx.post(
        f"{stack.url}/api/chat",
        json={"message": "what is 17 * 23?"},
        headers={"Authorization": f"Bearer {token}"},
    )
    bypass = direct_call(stack, token)
    # the front door sends the client's validated session id as the runtime session (one microVM per
    # conversation, not one per request), and refuses a malformed one
    in_session = httpx.post(
        f"{stack.url}/api/chat",
        json={"message": "what is 2 + 2?", "session_id": SESSION},
        headers={"Authorization": f"Bearer {token}"},
    )
    malformed = httpx.post(
        f"{stack.url}/api/chat",
        json={"message": "hi", "session_id": "short"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert stack.config()["pattern"] == 1 and stack.config()["insecure"] is True
    assert through_front_door.status_code == 200
    # The agent answers (the model runs and costs), but no verified identity reaches it in patterns
    # 0 and 1, so the tool policy denies every tool call: fail closed.
    assert through_front_door.json()["tool_calls"][0]["decision"] == "deny"
    assert "needs a signed-in user" in through_front_door.json()["response"]
    # The gap, documented: no front door, no rate limit, no validation — and it still answers.
    assert bypass.status_code == 200
    assert bypass.json()["response"].startswith("[offline model]")
    assert in_session.status_code == 200 and in_session.json()["session_id"] == SESSION
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "validation_error"
    assert "WARNING" in stack.log.read_text()


def test_pattern_0_the_runtime_accepts_the_user_token_and_has_no_api(
    stack_factory: Callable[..., RunningStack],
) -> None:
    stack = stack_factory(0)
    token = stack.token()

    direct = direct_call(stack, token)
    no_token = httpx.post(direct.request.url, json={"prompt": "hi", "session_id": SESSION})

    assert stack.config()["api_url"] is None
    assert direct.status_code == 200 and "needs a signed-in user" in direct.json()["response"]
    # A payload that names an actor is not believed: the runtime verified a JWT, not the payload.
    forged_actor = direct_call(stack, token, actor={"id": "admin", "groups": ["support"]})
    assert forged_actor.json()["tool_calls"][0]["decision"] == "deny"
    assert no_token.status_code == 403
