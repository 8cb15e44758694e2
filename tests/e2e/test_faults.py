"""Faults leave nothing half-done, and the stack heals without a restart."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, RunningStack
from tests.e2e.test_concurrency import assert_index_matches_messages, health

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(stack_factory: Callable[..., RunningStack]) -> RunningStack:
    """Pattern 3 with one agent worker and a short agent timeout, so a frozen agent is a 504 quickly."""
    return stack_factory(3, "--agent-workers", "1", "--agent-read-timeout", "3", "--rate-limit", "100000")


def api(stack: RunningStack) -> httpx.Client:
    return httpx.Client(
        base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {stack.token(ALICE)}"}, timeout=60
    )


def agent_pids(stack: RunningStack) -> list[int]:
    return list(health(stack)["pieces"]["runtime-endpoint"]["agent"]["pids"])


def wait_until(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


@contextlib.contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def test_an_agent_frozen_past_the_timeout_stores_nothing_and_the_stack_keeps_serving(
    stack: RunningStack,
) -> None:
    with api(stack) as http:
        existing = http.post("/chat", json={"message": "what is 2 * 21?"}).json()["session_id"]
        before = http.get(f"/conversations/{existing}").json()

        with frozen(agent_pids(stack)):
            timed_out_new = http.post("/chat", json={"message": "what is 6 * 7? (frozen)"})
            timed_out_old = http.post("/chat", json={"message": "again (frozen)", "session_id": existing})
        # Thawed, the agent finishes the abandoned turns; nobody may store them, and it serves again.
        served_again = http.post("/chat", json={"message": "what is 5 * 5?"})
        time.sleep(1)
        after = http.get(f"/conversations/{existing}").json()
        listed = http.get("/conversations", params={"limit": 100}).json()["items"]

    assert timed_out_new.status_code == 504 and timed_out_new.json()["error"]["code"] == "agent_timeout"
    assert timed_out_old.status_code == 504
    assert served_again.status_code == 200 and "25" in served_again.json()["response"]
    assert after["messages"] == before["messages"]
    assert not any("frozen" in c["title"] for c in listed)
    assert_index_matches_messages(stack)


def test_a_killed_agent_is_replaced_and_health_tells_the_truth(stack: RunningStack) -> None:
    with api(stack) as http:
        for pid in agent_pids(stack):
            os.kill(pid, signal.SIGKILL)
        after_kill = http.post("/chat", json={"message": "what is 3 * 3?"})
        runtime_pid = health(stack)["pieces"]["runtime-endpoint"]["pid"]
        os.kill(runtime_pid, signal.SIGKILL)
        time.sleep(0.3)
        degraded = httpx.get(f"{stack.url}/local/health", timeout=10)
        wait_until(lambda: health(stack)["status"] == "ok")
        healed = http.post("/chat", json={"message": "what is 4 * 4?"})

    assert after_kill.status_code == 200 and "9" in after_kill.json()["response"]
    assert degraded.status_code == 503
    assert degraded.json()["pieces"]["runtime-endpoint"]["state"] in ("restarting", "unresponsive")
    report = health(stack)["pieces"]["runtime-endpoint"]
    assert report["restarts"] >= 1 and report["pid"] != runtime_pid
    assert healed.status_code == 200 and "16" in healed.json()["response"]
    assert_index_matches_messages(stack)


def test_a_killed_lambda_service_is_restarted(stack: RunningStack) -> None:
    pid = health(stack)["pieces"]["lambda-conversations"]["pid"]

    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: health(stack)["status"] == "ok")

    with api(stack) as http:
        assert http.get("/conversations").status_code == 200
    assert health(stack)["pieces"]["lambda-conversations"]["restarts"] >= 1


def storage_error(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 503, answer.text
    error: dict[str, Any] = answer.json()["error"]
    return error


def test_an_unusable_database_answers_503_and_recovers_without_a_restart(stack: RunningStack) -> None:
    database = stack.state_dir / "agentarch.db"
    aside = database.with_name("agentarch.db.aside")
    with api(stack) as http:
        kept = http.post("/chat", json={"message": "remember me"}).json()["session_id"]
        database.rename(aside)
        database.mkdir()  # the file is gone and nothing can be created in its place
        try:
            listing = http.get("/conversations")
            chat = http.post("/chat", json={"message": "hello?"})
            history = http.get(f"/conversations/{kept}")
        finally:
            database.rmdir()
            aside.rename(database)
        recovered = http.get(f"/conversations/{kept}")

        for answer in (listing, chat, history):
            assert storage_error(answer)["code"] == "storage_unavailable"
        assert recovered.status_code == 200 and recovered.json()["messages"][0]["text"] == "remember me"

        for suffix in ("", "-wal", "-shm"):  # deleted outright: a fresh, empty store appears
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{database}{suffix}")
        fresh = http.get("/conversations")
        new_turn = http.post("/chat", json={"message": "what is 8 * 8?"})

    assert fresh.status_code == 200 and fresh.json()["items"] == []
    assert new_turn.status_code == 200
    assert_index_matches_messages(stack)
