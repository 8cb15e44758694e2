"""Pattern 3 in the browser: the sidebar lists conversations and a reloaded page continues one."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_page import SCREENSHOTS, ask, sign_in
from tests.conftest import ALICE, BOB, RunningStack

pytestmark = pytest.mark.browser
ERROR_401 = {"error": {"code": "unauthorized", "message": "sign in first", "request_id": "r-401"}}
ERROR_429 = {"error": {"code": "rate_limited", "message": "too many requests", "request_id": "r-429"}}


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


def test_a_300_character_word_keeps_the_sidebar_and_the_send_button(
    page: Page, full_stack: RunningStack
) -> None:
    # Given a signed-in page of a usual laptop's size
    page.set_viewport_size({"width": 1024, "height": 700})
    sign_in(page, full_stack, BOB)
    page.click("#new-conversation")
    sidebar_width = page.locator("#sidebar").evaluate("s => s.getBoundingClientRect().width")

    # When a message is one unbroken 300-character word
    ask(page, "w" * 300)
    expect(page.locator("#messages li.assistant")).to_have_count(1)

    # Then the sidebar keeps its width and Send stays on screen, also once the conversation is reopened
    for _ in ("sent", "reopened"):
        expect(page.locator("#send")).to_be_in_viewport(ratio=1)
        assert page.locator("#sidebar").evaluate("s => s.getBoundingClientRect().width") == sidebar_width
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.reload()
        expect(page.locator("#messages li")).to_have_count(2)


def test_a_reload_reopens_the_open_conversation(page: Page, full_stack: RunningStack) -> None:
    sign_in(page, full_stack, BOB)
    page.click("#new-conversation")
    ask(page, "what is 7 * 6?")
    expect(page.locator("#messages li.assistant").last).to_contain_text("42")
    ask(page, "what is 9 * 9?")
    expect(page.locator("#messages li.assistant")).to_have_count(2)

    page.reload()

    expect(page.locator("#messages li")).to_have_count(4)
    expect(page.locator("#messages li.user").first).to_have_text("what is 7 * 6?")
    expect(page.locator("#conversations li.active")).to_contain_text("what is 7 * 6?")
    ask(page, "what did I ask before?")  # the same conversation goes on
    expect(page.locator("#messages li.assistant").last).to_contain_text("what is 9 * 9?")


def test_a_message_costs_one_request_and_the_sidebar_follows_the_answer(
    page: Page, full_stack: RunningStack
) -> None:
    sign_in(page, full_stack, BOB)
    page.click("#new-conversation")
    expect(page.get_by_test_id("conversations").locator("li").first).to_be_visible()
    api_calls: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: api_calls.append((r.method, urlsplit(r.url).path)) if "/api/" in r.url else None,
    )

    ask(page, "one request only: what is 3 * 3?")

    newest = page.get_by_test_id("conversations").locator("li").first
    expect(newest).to_contain_text("one request only: what is 3 * 3?")
    expect(newest).to_have_class("active")
    ask(page, "and what is 4 * 4?")
    expect(page.locator("#messages li.assistant").last).to_contain_text("16")
    expect(page.get_by_test_id("conversations").locator("li", has_text="one request only")).to_have_count(1)
    assert api_calls == [("POST", "/api/chat"), ("POST", "/api/chat")]


def test_a_refused_list_refresh_keeps_the_sidebar(page: Page, full_stack: RunningStack) -> None:
    # Given a sidebar with conversations in it
    sign_in(page, full_stack, BOB)
    page.click("#new-conversation")
    ask(page, "a conversation that must stay listed")
    entries = page.get_by_test_id("conversations").locator("li")
    expect(entries.first).to_contain_text("a conversation that must stay listed")
    listed = entries.count()
    # And a token that has expired, so the page asks to sign in again
    page.route("**/api/chat", lambda route: route.fulfill(status=401, json=ERROR_401))
    ask(page, "this one meets an expired token")
    expect(page.get_by_test_id("error")).to_have_text("Your sign-in has expired. Sign in again.")
    page.unroute("**/api/chat")

    # When the list refresh after signing in again is rate limited
    page.route(re.compile(r"/api/conversations\?"), lambda route: route.fulfill(status=429, json=ERROR_429))
    page.fill("#username", BOB[0])
    page.fill("#password", BOB[1])
    page.click("#login-button")

    # Then the sidebar still lists every conversation, and the page says why it is not fresh
    expect(page.get_by_test_id("error")).to_contain_text("Too many requests from your address")
    expect(entries).to_have_count(listed)
    expect(page.locator("#conversations-end")).to_contain_text("could not be loaded")
