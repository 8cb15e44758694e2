"""The answer shows as the model writes it, tool calls as they are decided, Stop ends the stream;
and the page works on a phone (390 px) as on a wide screen (1280 px), seen in screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from unittest import mock

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_page import SCREENSHOTS, ask, sign_in
from tests.conftest import ALICE, CAROL, RunningStack, start_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Pattern 3 with a model that takes 1.5 s per call, spread over its words, as a real one streams."""
    with mock.patch.dict(os.environ, {"OFFLINE_MODEL_LATENCY_SECONDS": "1.5"}):
        running = start_stack(tmp_path_factory.mktemp("streaming-page"), 3, "--rate-limit", "100000")
    yield running
    running.stop()


def test_the_answer_arrives_in_pieces_through_the_front_door_and_the_lambda(
    page: Page, slow_model: RunningStack
) -> None:
    sign_in(page, slow_model)
    ask(page, "what is 17 * 23?")

    live = page.get_by_test_id("streaming")
    # the tool call shows while the answer is still being written
    expect(live.get_by_test_id("tool-call")).to_contain_text("tool calculator: ran")
    expect(live.locator(".text")).to_contain_text("[offline model]")
    partial = live.locator(".text").text_content() or ""
    assert "391" not in partial, "the whole answer came at once: it was not streamed"
    expect(page.get_by_test_id("stop")).to_be_visible()

    answer = page.locator("#messages li.assistant").last
    expect(answer).to_contain_text("17 * 23 = 391")
    expect(answer).to_contain_text("tool calculator: ran")
    expect(live).to_have_count(0)
    expect(page.locator("#send")).to_be_visible()


def test_stop_ends_the_stream_and_the_turn_is_still_saved(page: Page, slow_model: RunningStack) -> None:
    sign_in(page, slow_model, ALICE)
    page.click("#new-conversation")
    ask(page, "what time is it in Asia/Tokyo?")
    expect(page.get_by_test_id("streaming").get_by_test_id("tool-call")).to_be_visible()

    page.get_by_test_id("stop").click()

    expect(page.locator("#messages")).to_contain_text("Stopped.")
    expect(page.locator("#send")).to_be_visible()
    # the turn completed anyway and is in the conversation
    item = page.locator("#conversations li", has_text="what time is it in Asia/Tokyo?").first
    expect(item).to_be_visible(timeout=20_000)


def test_the_page_works_on_a_phone(page: Page, slow_model: RunningStack) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, slow_model, CAROL)
    ask(page, "open a ticket: the printer on floor 3 is broken")
    card = page.get_by_test_id("approval")
    expect(card).to_be_visible(timeout=20_000)

    # no horizontal scroll; the chat takes the width; words wrap as words
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    chat = page.locator("#chat").bounding_box()
    assert chat is not None and chat["width"] >= 350
    message = page.locator("#messages li.user").first.bounding_box()
    assert message is not None and message["width"] > 200
    # Approve and Reject side by side
    approve, reject = (card.get_by_test_id(n).bounding_box() for n in ("approve", "reject"))
    assert approve and reject and abs(approve["y"] - reject["y"]) < 2 and reject["x"] > approve["x"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone-390-chat.png"))

    # the conversations are a drawer, with their dates
    sidebar = page.locator("#sidebar")
    assert (sidebar.bounding_box() or {"x": 0})["x"] < 0
    page.get_by_role("button", name="Conversations").click()
    expect(sidebar).to_be_in_viewport(ratio=1)  # wholly in: slid in, not caught mid-transition
    expect(page.get_by_test_id("conversation-date").first).not_to_be_empty()
    page.screenshot(path=str(SCREENSHOTS / "phone-390-drawer.png"))
    page.locator("#conversations li").first.click()
    expect(sidebar).not_to_be_in_viewport()


def test_the_page_on_a_wide_screen_keeps_the_sidebar(page: Page, slow_model: RunningStack) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, slow_model, ALICE)
    ask(page, "what is 2 + 2?")
    expect(page.locator("#messages li.assistant").last).to_contain_text("4")

    expect(page.locator("#sidebar")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Conversations")).to_be_hidden()
    expect(page.get_by_test_id("conversation-date").first).not_to_be_empty()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
    page.screenshot(path=str(SCREENSHOTS / "wide-1280-chat.png"))


def test_the_page_has_a_favicon(page: Page, slow_model: RunningStack) -> None:
    answer = page.request.get(f"{slow_model.url}/favicon.svg")
    assert answer.status == 200 and "svg" in answer.headers["content-type"]
