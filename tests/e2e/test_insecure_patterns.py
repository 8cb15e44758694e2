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
    # The runtime validated the user's token and hands it to the agent, which verifies it again and
    # takes the user from it: the calculator answers as in the secure patterns.
    assert through_front_door.json()["tool_calls"][0]["decision"] == "allow"
    assert "391" in through_front_door.json()["response"]
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
    assert direct.status_code == 200 and "391" in direct.json()["response"]
    assert direct.json()["tool_calls"][0]["decision"] == "allow"
    # A payload that names an actor is not believed: the user is the token's, and a consequential
    # tool stays unavailable whoever asks (the browser writes the history and approvals here).
    forged_actor = direct_call(
        stack, token, prompt="open a ticket: printer is broken", actor={"id": "admin", "groups": ["support"]}
    )
    assert forged_actor.status_code == 200
    assert all(call["decision"] != "allow" for call in forged_actor.json()["tool_calls"])
    assert no_token.status_code == 403
