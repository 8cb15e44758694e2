"""The page shows what is left of the day's quota, says clearly when it is spent, and a message
resent after a network failure is answered once (the same Idempotency-Key)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.test_chat_page import ask, sign_in
from tests.conftest import ALICE, BOB, RunningStack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_a_day(stack_factory: Callable[..., RunningStack]) -> RunningStack:
    return stack_factory(2, "--rate-limit", "5000", "--daily-requests", "2")


def test_the_remaining_quota_is_shown_and_a_spent_one_is_said_plainly(
    page: Page, two_a_day: RunningStack
) -> None:
    sign_in(page, two_a_day, ALICE)
    usage = page.get_by_test_id("usage")
    expect(usage).to_contain_text("Left today: 2 of 2 messages")

    ask(page, "what is 1 + 1?")
    expect(page.locator("#messages li.assistant")).to_have_count(1)
    expect(usage).to_contain_text("Left today: 1 of 2 messages")
    ask(page, "what is 2 + 2?")
    expect(page.locator("#messages li.assistant")).to_have_count(2)
    expect(usage).to_contain_text("Today's quota is spent (messages)")

    expect(usage).to_contain_text("resets at midnight UTC, in")
    expect(page.locator("#send")).to_be_disabled()  # nothing to send until the reset
    page.fill("#message", "what is 3 + 3?")
    page.press("#message", "Enter")

    expect(page.get_by_test_id("error")).to_contain_text("Today's quota is spent (messages)")
    expect(page.get_by_test_id("error")).to_contain_text("resets at midnight UTC")
    expect(page.locator("#messages li.assistant")).to_have_count(2)  # the agent did not answer
    expect(page.locator("#message")).to_have_value("what is 3 + 3?")


def test_a_message_resent_after_a_network_failure_is_answered_once(
    page: Page, two_a_day: RunningStack
) -> None:
    sign_in(page, two_a_day, BOB)
    keys: list[str | None] = []

    def lose_the_first_answer(route: Route, request: Request) -> None:
        keys.append(request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the service answers, but the answer never reaches the page
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/chat", lose_the_first_answer)
    ask(page, "what is 17 * 23?")
    expect(page.get_by_test_id("error")).to_contain_text("Cannot reach the service")

    page.click("#send")  # the text is still in the box: send it again

    expect(page.locator("#messages li.assistant")).to_contain_text("391")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    expect(page.get_by_test_id("usage")).to_contain_text("Left today: 1 of 2 messages")  # charged once
