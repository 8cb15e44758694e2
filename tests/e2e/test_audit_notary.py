"""Pattern 2 keeps a trail too, and the local notary signs it: over HTTP, then `agentarch audit verify`."""

from __future__ import annotations

import time

import httpx
import pytest

from agentarch.dev.notary import checkpoints
from agentarch.dev.sqlite import DATABASE_FILE, SqliteAuditStore, SqliteDatabase
from tests.conftest import ALICE, RunningStack

pytestmark = pytest.mark.e2e


def test_a_pattern_2_turn_is_recorded_and_signed_by_the_local_notary(
    secure_stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    token = secure_stack.token(ALICE)
    with httpx.Client(
        base_url=f"{secure_stack.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as api:
        answer = api.post("/chat", json={"message": "what is 17 * 23?"})
    assert answer.status_code == 200, answer.text
    session = answer.json()["session_id"]

    store = SqliteAuditStore(SqliteDatabase(secure_stack.state_dir / DATABASE_FILE))
    stored = list(store.stored(session))
    assert [item.seq for item in stored] == [1, 2, 3]  # the calculator's two records, then the turn

    deadline = time.monotonic() + 30  # the notary signs every 2 s: wait for it, assert nothing about speed
    while time.monotonic() < deadline:
        latest = checkpoints(secure_stack.state_dir).latest()
        if latest is not None and any(e.session == session and e.seq == 3 for e in latest.entries):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("no checkpoint signed the session's head")

    from agentarch.dev.cli import main

    assert main(["audit", "verify", "--state-dir", str(secure_stack.state_dir), "--session", session]) == 0
    assert "every chain is intact" in capsys.readouterr().err
