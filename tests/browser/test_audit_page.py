"""The audit view: the audit group filters the trail, follows a turn step by step and sees each
session's verification state; anyone else never sees it (GET /api/audit answers them 404)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_page import ask, sign_in
from tests.conftest import ALICE, BOB, RunningStack

pytestmark = pytest.mark.browser


def test_an_audit_admin_filters_follows_a_turn_and_sees_the_sessions_state(
    page: Page, full_stack: RunningStack, tmp_path: Path
) -> None:
    sign_in(page, full_stack, ALICE)  # alice is in audit-admins
    ask(page, "what is 17 * 23?")
    expect(page.locator("#messages li.assistant").last).to_contain_text("391")

    page.get_by_test_id("audit-toggle").click()
    rows = page.get_by_test_id("audit-rows").locator("tr")
    expect(rows.first).to_be_visible()
    page.select_option("#audit-decision", "allow")
    page.click("#audit-filters button[type=submit]")
    expect(rows.first).to_contain_text("calculator")

    rows.first.click()
    timeline = page.get_by_test_id("audit-timeline")
    expect(timeline).to_contain_text("tool call calculator started")
    expect(timeline).to_contain_text("tool call calculator: ok")
    expect(timeline).to_contain_text("answer")
    expect(page.get_by_test_id("audit-verdict")).to_contain_text("the hash chain is intact")

    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"audit-{width}.png"), full_page=True)
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
            "document.documentElement.clientWidth + 1 && !e.closest('.audit-table')).map(e => e.id || e.tagName)"
        )
        assert wide == [], f"sticks out at {width} px: {wide}"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways at {width} px"


def test_someone_outside_the_audit_group_never_sees_the_view(page: Page, full_stack: RunningStack) -> None:
    with page.expect_response(lambda r: "/api/audit" in r.url) as probe:
        sign_in(page, full_stack, BOB)
    assert probe.value.status == 404
    expect(page.get_by_test_id("audit-toggle")).to_be_hidden()
    expect(page.get_by_test_id("audit-admin")).to_be_hidden()
