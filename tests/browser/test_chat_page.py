"""A person's path through the page: sign in, ask, read the answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ALICE, RunningStack

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".agentarch" / "screenshots"


def sign_in(page: Page, stack: RunningStack, user: tuple[str, str] = ALICE) -> None:
    page.goto(f"{stack.url}/")
    expect(page.locator("#chat-form")).to_be_hidden()
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login-button")
    expect(page.locator("#chat-form")).to_be_visible()


def ask(page: Page, question: str) -> None:
    page.fill("#message", question)
    page.click("#send")


def test_sign_in_and_get_answers_through_the_secure_chain(page: Page, secure_stack: RunningStack) -> None:
    sign_in(page, secure_stack)
    expect(page.get_by_test_id("pattern")).to_contain_text("pattern 2")

    ask(page, "what is 17 * 23?")
    expect(page.locator("#messages li.assistant").last).to_contain_text("391")
    ask(page, "what time is it?")
    expect(page.locator("#messages li.assistant").last).to_contain_text(re.compile(r"It is \d\d:\d\d"))

    expect(page.locator("#messages li.assistant").first).to_contain_text("tool calculator: ran")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat-pattern-2.png"), full_page=True)


def test_a_wrong_password_is_shown_as_a_readable_message(page: Page, secure_stack: RunningStack) -> None:
    page.goto(f"{secure_stack.url}/")
    page.fill("#username", ALICE[0])
    page.fill("#password", "not-the-password")
    page.click("#login-button")

    expect(page.get_by_test_id("error")).to_have_text("Wrong username or password.")


def test_pattern_0_page_warns_and_talks_to_the_runtime_directly(
    page: Page, stack_factory: Callable[..., RunningStack]
) -> None:
    stack = stack_factory(0)
    sign_in(page, stack)

    expect(page.locator("#warning")).to_contain_text("Insecure pattern 0")
    expect(page.locator("#warning")).to_contain_text("Tools that change something")  # and says why
    with page.expect_request(re.compile(r"/runtimes/.*/invocations")) as sent:
        ask(page, "what is 6 * 7?")
    # The agent verified the forwarded token and answered as the user: the calculator ran.
    expect(page.locator("#messages li.assistant").last).to_contain_text("42")
    assert sent.value.url.startswith(stack.config()["runtime_url"])
