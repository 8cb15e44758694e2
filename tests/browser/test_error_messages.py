"""What the page says when something goes wrong, and what it keeps: the typed text, a clean thread.

The failures are answered at the network layer by Playwright with the API's own error shape, so each
status the API documents is shown once; the stack, the page and the browser are real.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.test_chat_page import ask, sign_in
from tests.conftest import ALICE, RunningStack

pytestmark = pytest.mark.browser


def answer_with(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Any:
    body = {"error": {"code": code, "message": message, "request_id": "req-42"}}

    def fulfil(route: Route) -> None:
        route.fulfill(status=status, body=json.dumps(body), content_type="application/json", headers=headers)

    return fulfil


# status, code, the server's message, what the person reads
SEND_FAILURES = [
    (400, "malformed_json", "the body is not JSON", "could not read the page's request. Reload the page"),
    (401, "unauthorized", "sign in first", "Your sign-in has expired. Sign in again."),
    (
        403,
        "locked",
        "an administrator has paused your account; nothing was run",
        "An administrator has paused your account: nothing was run.",
    ),
    (404, "not_found", "no such conversation", "This conversation no longer exists"),
    (413, "payload_too_large", "bodies over 32768 bytes", "Your message is too large for the service"),
    (415, "unsupported_media_type", "send application/json", "does not accept this request"),
    (
        422,
        "validation_error",
        "message: at most 4000 characters",
        "did not accept this: message: at most 4000",
    ),
    (429, "rate_limited", "slow down", "Too many requests from your address. Wait a minute"),
    (503, "service_unavailable", "throttled", "The service is busy right now. Try again in a few seconds."),
    (500, "internal_error", "KeyError('x') in handler", "The service failed (request id req-42)"),
    (502, "agent_error", "ValueError: bad JSON from agent", "The agent failed to answer (request id req-42)"),
    (
        503,
        "storage_unavailable",
        "the store is unreachable (EndpointConnectionError)",
        "cannot be saved or read",
    ),
    (504, "agent_timeout", "the agent did not answer in time", "The agent took too long to answer."),
]


@pytest.mark.parametrize(("status", "code", "server_message", "shown"), SEND_FAILURES, ids=lambda v: str(v))
def test_a_failed_send_says_what_happened_and_keeps_the_typed_text(
    page: Page, secure_stack: RunningStack, status: int, code: str, server_message: str, shown: str
) -> None:
    # Given a signed-in page whose next message the API refuses
    sign_in(page, secure_stack)
    page.route("**/api/chat", answer_with(status, code, server_message))

    # When the person sends a message
    ask(page, "what is 1 + 1?")

    # Then the page says what happened in its own words, never a Python exception's name
    error = page.get_by_test_id("error")
    expect(error).to_contain_text(shown)
    assert "Error" not in (error.text_content() or "")
    if status == 401:
        expect(page.locator("#login")).to_be_visible()
        return
    # And the typed text is still there, with no bubble left behind
    expect(page.locator("#message")).to_have_value("what is 1 + 1?")
    expect(page.locator("#messages li")).to_have_count(0)


def test_a_send_that_fails_then_succeeds_sends_the_kept_text(page: Page, secure_stack: RunningStack) -> None:
    sign_in(page, secure_stack)
    page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    ask(page, "what is 20 + 22?")
    expect(page.get_by_test_id("error")).to_contain_text("Cannot reach the service")
    expect(page.locator("#message")).to_have_value("what is 20 + 22?")

    page.unroute("**/api/chat")
    page.click("#send")

    expect(page.locator("#messages li.assistant")).to_contain_text("42")
    expect(page.locator("#messages li.user")).to_have_count(1)
    expect(page.locator("#message")).to_have_value("")
    expect(page.get_by_test_id("error")).to_be_hidden()


def test_a_locked_out_sign_in_says_how_long_to_wait(page: Page, secure_stack: RunningStack) -> None:
    page.route(
        "**/local-auth/login",
        answer_with(429, "too_many_attempts", "too many failed sign-ins", {"Retry-After": "120"}),
    )
    page.goto(f"{secure_stack.url}/")
    page.fill("#username", ALICE[0])
    page.fill("#password", "guessing")
    page.click("#login-button")

    expect(page.get_by_test_id("error")).to_have_text("Too many failed sign-ins. Try again in 2 minutes.")


def test_text_over_4000_characters_is_refused_whole_not_cut(page: Page, secure_stack: RunningStack) -> None:
    sign_in(page, secure_stack)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/api/chat") else None)
    too_long = "x" * 4001

    page.fill("#message", too_long)
    expect(page.get_by_test_id("counter")).to_contain_text("4,001 / 4,000 characters: 1 too many")
    page.click("#send")

    expect(page.get_by_test_id("error")).to_contain_text(
        "Your message is 4,001 characters; the limit is 4,000"
    )
    expect(page.locator("#message")).to_have_value(too_long)
    assert sent == []
    # At the limit, it is sent (the page counts as the API does)
    page.fill("#message", "what is 2 + 2? " + "y" * 3985)
    expect(page.get_by_test_id("counter")).to_have_text("4,000 / 4,000")
    page.click("#send")
    expect(page.locator("#messages li.assistant")).to_have_count(1)
    assert len(sent) == 1


def test_a_blank_message_is_not_sent(page: Page, secure_stack: RunningStack) -> None:
    sign_in(page, secure_stack)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/" in r.url else None)

    page.fill("#message", "   \n\t  ")
    page.click("#send")

    expect(page.get_by_test_id("error")).to_have_text("Type a message first.")
    expect(page.locator("#messages li")).to_have_count(0)
    assert sent == []
