"""The kill switch over HTTP and from the CLI, on the local stack: a lock refuses the next turn with a
403 `locked`, stops a turn in flight at its next step, is lifted by unlock, and every lock and unlock
is in the audit trail; only the audit admin group reaches the lock routes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import httpx
import jwt
import pytest

from agentarch.core.sessions import new_session_id
from agentarch.dev.sqlite import DATABASE_FILE
from agentarch.dev.testing.local_stack import RunningStack
from tests.conftest import ALICE, BOB, CAROL, start_stack
from tests.e2e.test_audit import every_record

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Pattern 3 whose model takes 1.5 s per call (longer than the lock gate's one-second cache)."""
    with mock.patch.dict(os.environ, {"OFFLINE_MODEL_LATENCY_SECONDS": "1.5"}):
        running = start_stack(tmp_path_factory.mktemp("kill-switch"), 3, "--rate-limit", "100000")
    yield running
    running.stop()


def client(stack: RunningStack, user: tuple[str, str]) -> httpx.Client:
    token = stack.token(user)
    return httpx.Client(base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60)


def sub_of(stack: RunningStack, user: tuple[str, str]) -> str:
    return str(jwt.decode(stack.token(user), options={"verify_signature": False})["sub"])


def lock_records(admin: httpx.Client) -> list[tuple[Any, ...]]:
    return [
        (r["lock_action"], r["lock"], r["reason"]) for r in every_record(admin, 50, session="kill-switch")
    ]


def test_a_locked_user_is_refused_until_unlocked_and_the_trail_says_so(stack: RunningStack) -> None:
    bob_sub = sub_of(stack, BOB)
    with client(stack, ALICE) as admin, client(stack, BOB) as bob, client(stack, CAROL) as carol:
        locked = admin.post("/admin/locks", json={"scope": "user", "target": bob_sub, "reason": "runaway"})
        assert locked.status_code == 200, locked.text
        assert locked.json()["lock"]["scope"] == "user" and locked.json()["stopped_sessions"] == []

        refused = bob.post("/chat", json={"message": "hello"})
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "locked"
        assert error["message"] == "an administrator has paused your account; nothing was run"
        assert "runaway" not in refused.text  # the admin's reason is for the trail, not for the user
        assert carol.post("/chat", json={"message": "hello"}).status_code == 200  # others go on

        listed = admin.get("/admin/locks").json()["items"]
        assert [(lock["scope"], lock["target"]) for lock in listed] == [("user", bob_sub)]

        lifted = admin.delete("/admin/locks", params={"scope": "user", "target": bob_sub})
        assert lifted.status_code == 200 and lifted.json() == {"removed": True}
        again = bob.post("/chat", json={"message": "hello"})
        assert again.status_code == 200, again.text

        assert lock_records(admin)[-2:] == [
            ("lock", f"user#{bob_sub}", "runaway"),
            ("unlock", f"user#{bob_sub}", None),
        ]
        turns = [r for r in every_record(admin, 50, actor=bob_sub) if r["kind"] == "turn"]
        assert [r["error"] for r in turns if r["outcome"] == "error"] == ["locked"]


def test_a_turn_in_flight_stops_at_its_next_step_once_its_session_is_locked(stack: RunningStack) -> None:
    session = new_session_id()
    database = stack.state_dir / DATABASE_FILE
    answer: dict[str, Any] = {}
    with client(stack, CAROL) as carol, client(stack, ALICE) as admin:

        def ask() -> None:
            reply = carol.post("/chat", json={"message": "what is 17 * 23?", "session_id": session})
            answer.update(status=reply.status_code, body=reply.json())

        turn = threading.Thread(target=ask)
        turn.start()
        for _ in range(400):  # until the turn is past the chat service's check: its session is claimed
            with sqlite3.connect(database) as db:
                if db.execute("SELECT 1 FROM conversations WHERE session_id = ?", (session,)).fetchone():
                    break
            time.sleep(0.025)
        locked = admin.post("/admin/locks", json={"scope": "session", "target": session})
        assert locked.status_code == 200, locked.text
        turn.join(timeout=60)

        assert answer["status"] == 200, answer
        body = answer["body"]
        assert body["stopped"] == "locked"
        assert (
            body["response"]
            == "I stopped here: an administrator has paused this conversation. Nothing more was done."
        )
        assert all(call["decision"] != "allow" for call in body["tool_calls"])  # the calculator never ran

        # The next turn is refused: by the chat service (403), or, while its gate still holds the answer
        # it read less than a second before the lock, by the agent at its first step (nothing runs).
        next_turn = carol.post("/chat", json={"message": "what is 1 + 1?", "session_id": session})
        if next_turn.status_code == 200:
            assert next_turn.json()["stopped"] == "locked" and next_turn.json()["tool_calls"] == []
        else:
            assert (next_turn.status_code, next_turn.json()["error"]["code"]) == (403, "locked")
        assert admin.delete("/admin/locks", params={"scope": "session", "target": session}).json() == {
            "removed": True
        }


def test_only_audit_admins_reach_the_lock_routes(stack: RunningStack) -> None:
    with client(stack, CAROL) as carol, client(stack, ALICE) as admin:
        missing = carol.get("/no-such-route")
        for answer in (
            carol.get("/admin/locks"),
            carol.post("/admin/locks", json={"scope": "all"}),
            carol.delete("/admin/locks", params={"scope": "all"}),
            carol.post("/admin/locks", json={"scope": "nonsense"}),
        ):
            assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
            assert answer.json()["error"]["message"] == missing.json()["error"]["message"]
        assert admin.get("/admin/locks").json() == {"items": []}  # nothing was locked by carol
        invalid = admin.post("/admin/locks", json={"scope": "user"})
        assert invalid.status_code == 422 and "user id" in invalid.json()["error"]["message"]
        broken = admin.post(
            "/admin/locks", content=b'{"scope": ', headers={"Content-Type": "application/json"}
        )
        assert (broken.status_code, broken.json()["error"]["code"]) == (400, "malformed_json")
        as_text = admin.post("/admin/locks", content=b"scope=all", headers={"Content-Type": "text/plain"})
        assert as_text.status_code == 415
        assert admin.get("/admin/locks").json() == {"items": []}


def test_the_cli_locks_everyone_and_lists_and_lifts_it(stack: RunningStack) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentarch.dev.cli", "policy", *args, "--state-dir", str(stack.state_dir)],
            capture_output=True,
            text=True,
            check=False,
        )

    with client(stack, CAROL) as carol, client(stack, ALICE) as admin:
        assert cli("lock", "--all", "--reason", "incident 42", "--by", "oncall").stdout == "locked all#*\n"
        refused = carol.post("/chat", json={"message": "hello"})
        assert refused.status_code == 403
        assert (
            refused.json()["error"]["message"] == "an administrator has paused the assistant; nothing was run"
        )
        assert cli("locks").stdout.startswith("all#*\t")

        assert cli("unlock", "--all").stdout == "unlocked all#*\n"
        assert cli("unlock", "--all").returncode == 1  # nothing left to lift
        assert carol.post("/chat", json={"message": "hello"}).status_code == 200
        assert ("lock", "all#*", "incident 42") in lock_records(admin)
