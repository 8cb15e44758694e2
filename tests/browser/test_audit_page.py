"""The audit view: the audit group filters the trail, follows a turn step by step and sees each
session's verification state; anyone else never sees it (GET /api/audit answers them 404)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agentarch.dev.notary import checkpoints
from agentarch.dev.sqlite import DATABASE_FILE, SqliteAuditStore, SqliteDatabase
from agentarch.services.notary import Checkpoint
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

    session = rows.first.get_attribute("data-session")
    assert session
    wait_until_signed(full_stack, session)  # the local notary signs within seconds: no speed asserted

    rows.first.click()
    timeline = page.get_by_test_id("audit-timeline")
    expect(timeline).to_contain_text("tool call calculator started")
    expect(timeline).to_contain_text("tool call calculator: ok")
    expect(timeline).to_contain_text("answer")
    verdict = page.get_by_test_id("audit-verdict")
    expect(verdict).to_contain_text("Session verified and signed")
    expect(page.get_by_test_id("audit-verdict-chain")).to_contain_text("the hash chain is intact")
    expect(page.get_by_test_id("audit-verdict-signed")).to_contain_text("covered by a signed checkpoint")
    expect(page.get_by_test_id("audit-verdict-uncovered")).to_contain_text("none")

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


def wait_until_signed(stack: RunningStack, session: str) -> None:
    """Until a checkpoint signs the session's newest record (the notary runs every 2 s locally)."""
    store = SqliteAuditStore(SqliteDatabase(stack.state_dir / DATABASE_FILE))
    newest = max(item.seq for item in store.stored(session))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(
            e.session == session and e.seq >= newest
            for _, data in checkpoints(stack.state_dir).raw()
            for e in Checkpoint.model_validate_json(data).entries
        ):
            return
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint signed seq {newest} of {session}")


def test_a_record_edited_after_signing_shows_its_session_tampered_with_the_first_bad_record(
    page: Page, full_stack: RunningStack, tmp_path: Path
) -> None:
    # Given a signed session whose tool call was allowed
    with full_stack.client(ALICE) as alice:
        answer = alice.post("/chat", json={"message": "what is 6 * 7?"})
    assert answer.status_code == 200, answer.text
    session = answer.json()["session_id"]
    wait_until_signed(full_stack, session)

    # When someone with the file turns the allow into a deny without recomputing the hash
    connection = sqlite3.connect(full_stack.state_dir / DATABASE_FILE, isolation_level=None)
    connection.execute(
        'UPDATE audit_records SET record = replace(record, \'"decision":"allow"\', \'"decision":"deny"\') '
        "WHERE session_id = ? AND seq = 1",
        (session,),
    )
    connection.close()

    # Then the admin view names the session tampered, its first bad record and the tamper class
    sign_in(page, full_stack, ALICE)
    page.get_by_test_id("audit-toggle").click()
    page.fill("#audit-session", session)
    page.click("#audit-filters button[type=submit]")
    verdict = page.get_by_test_id("audit-verdict")
    expect(verdict).to_contain_text("Session tampered")
    expect(page.get_by_test_id("audit-verdict-chain")).to_contain_text("first bad record seq 1, edited")
    expect(page.get_by_test_id("audit-verdict-signed")).to_contain_text("covered by a signed checkpoint")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"audit-tampered-{width}.png"), full_page=True)
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
