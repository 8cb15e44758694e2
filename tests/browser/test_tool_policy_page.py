"""What a person sees of the tool policy: a readable denial, and an approval they can give."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_page import SCREENSHOTS, ask, sign_in
from tests.conftest import BOB, CAROL, RunningStack

pytestmark = pytest.mark.browser


def test_a_denied_tool_call_is_shown_in_words(page: Page, full_stack: RunningStack) -> None:
    sign_in(page, full_stack, BOB)

    ask(page, "what's the weather in Seattle?")

    answer = page.locator("#messages li.assistant").last
    expect(answer).to_contain_text("Not permitted")
    expect(answer.get_by_test_id("tool-call")).to_have_text(
        "tool weather: not permitted (policy: default-deny)"
    )


def test_approving_a_ticket_in_the_page_creates_it(page: Page, full_stack: RunningStack) -> None:
    sign_in(page, full_stack, CAROL)

    ask(page, "open a ticket: the projector in room 2 flickers")

    card = page.get_by_test_id("approval")
    expect(card).to_contain_text("Approve create_ticket?")
    expect(card).to_contain_text("the projector in room 2 flickers")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "approval.png"), full_page=True)
    page.reload()  # the call still waits when the conversation is opened again
    expect(card).to_contain_text("the projector in room 2 flickers")
    card.get_by_test_id("approve").click()

    expect(card).to_have_count(0)
    answer = page.locator("#messages li.assistant").last
    expect(answer).to_contain_text("Created ticket")
    expect(answer.get_by_test_id("tool-call")).to_contain_text("approved by you, ran")
    with sqlite3.connect(full_stack.state_dir / "agentarch.db") as db:
        titles = [row[0] for row in db.execute("SELECT title FROM tickets")]
    assert "the projector in room 2 flickers" in titles
