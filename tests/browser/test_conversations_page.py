"""Pattern 3 in the browser: the sidebar lists conversations and a reloaded page continues one."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_page import SCREENSHOTS, ask, sign_in
from tests.conftest import ALICE, BOB, RunningStack

pytestmark = pytest.mark.browser


def test_two_turns_reload_and_continue_from_the_sidebar(page: Page, full_stack: RunningStack) -> None:
    sign_in(page, full_stack, BOB)
    expect(page.get_by_test_id("pattern")).to_contain_text("pattern 3")
    page.click("#new-conversation")

    ask(page, "what is 12 * 12?")
    expect(page.locator("#messages li.assistant").last).to_contain_text("144")
    ask(page, "what time is it?")
    expect(page.locator("#messages li.assistant")).to_have_count(2)
    expect(page.locator("#messages li.assistant").last).to_contain_text("It is")

    page.reload()
    entry = page.get_by_test_id("conversations").locator("li", has_text="what is 12 * 12?")
    expect(entry).to_have_count(1)
    entry.click()
    expect(page.locator("#messages li")).to_have_count(4)
    expect(page.locator("#messages li.user").first).to_have_text("what is 12 * 12?")

    ask(page, "what did I ask before?")
    expect(page.locator("#messages li.assistant").last).to_contain_text("what time is it?")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "conversations-pattern-3.png"), full_page=True)


def test_delete_from_the_sidebar(page: Page, full_stack: RunningStack) -> None:
    sign_in(page, full_stack, BOB)
    page.click("#new-conversation")
    ask(page, "a conversation to delete: what is 5 + 5?")
    entry = page.get_by_test_id("conversations").locator("li", has_text="a conversation to delete")
    expect(entry).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.accept())
    entry.locator("button.delete").click()

    expect(entry).to_have_count(0)
    expect(page.locator("#messages li")).to_have_count(0)


def test_the_sidebar_loads_more_conversations_on_scroll(page: Page, full_stack: RunningStack) -> None:
    token = full_stack.token(ALICE)
    for i in range(45):
        answer = httpx.post(
            f"{full_stack.url}/api/chat",
            json={"message": f"sidebar filler {i}: what is {i} + {i}?"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in(page, full_stack, ALICE)
    items = page.get_by_test_id("conversations").locator("li")
    expect(items.first).to_be_visible()
    first_load = items.count()

    oldest = page.get_by_test_id("conversations").locator("li", has_text="sidebar filler 0:")
    for _ in range(10):  # scroll to the bottom until the oldest filler has been loaded
        if oldest.count():
            break
        shown = items.count()
        page.locator("#sidebar").evaluate("s => s.scrollTo(0, s.scrollHeight)")
        expect(items).not_to_have_count(shown)

    assert first_load >= 20
    expect(oldest).to_have_count(1)
    ids = items.evaluate_all("els => els.map(e => e.dataset.sessionId)")
    assert len(ids) == len(set(ids))  # no conversation shown twice
