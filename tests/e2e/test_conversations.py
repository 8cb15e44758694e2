"""Pattern 3 over HTTP: conversations are private, complete, paginated, and survive a restart."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, BOB, RunningStack

pytestmark = pytest.mark.e2e


class Client:
    """One signed-in user talking to the front door."""

    def __init__(self, stack: RunningStack, user: tuple[str, str]) -> None:
        self.http = httpx.Client(
            base_url=f"{stack.url}/api", headers={"Authorization": f"Bearer {stack.token(user)}"}, timeout=30
        )

    def chat(self, message: str, session_id: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"message": message}
        if session_id:
            body["session_id"] = session_id
        return self.http.post("/chat", json=body)

    def conversations(self, limit: int = 20, cursor: str | None = None) -> httpx.Response:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self.http.get("/conversations", params=params)

    def all_conversations(self, limit: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.conversations(limit, cursor)
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if not cursor:
                return items

    def history(self, session_id: str, limit: int = 50) -> list[dict[str, Any]]:
        pages: list[list[dict[str, Any]]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = self.http.get(f"/conversations/{session_id}", params=params)
            assert page.status_code == 200, page.text
            pages.insert(0, page.json()["messages"])  # newest page first
            cursor = page.json()["next_cursor"]
            if not cursor:
                return [m for chunk in pages for m in chunk]


def new_conversation(client: Client, message: str) -> str:
    answer = client.chat(message)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["session_id"])


def test_a_conversation_is_listed_with_a_title_and_its_history(full_stack: RunningStack) -> None:
    alice = Client(full_stack, ALICE)
    session = new_conversation(alice, "what is 17 * 23?\nand some more text")
    alice.chat("what did I ask before?", session)

    listed = {c["session_id"]: c for c in alice.all_conversations(100)}
    history = alice.history(session)

    assert listed[session]["title"] == "what is 17 * 23?"
    assert listed[session]["message_count"] == 4
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert "391" in history[1]["text"]
    assert "what is 17 * 23?" in history[3]["text"]  # the agent reloaded the earlier turn
    # the reopened answer keeps the tool it used, as the live reply showed it
    assert [c["name"] for c in history[1]["tool_calls"]] == ["calculator"]
    assert "391" in history[1]["tool_calls"][0]["output"]
    assert history[3]["tool_calls"] == [] and history[0]["tool_calls"] == []


def test_another_users_conversation_is_invisible_and_untouchable(full_stack: RunningStack) -> None:
    alice, bob = Client(full_stack, ALICE), Client(full_stack, BOB)
    session = new_conversation(alice, "alice's secret: what is 6 * 7?")

    read = bob.http.get(f"/conversations/{session}")
    cont = bob.chat("what did I ask before?", session)
    delete = bob.http.delete(f"/conversations/{session}")
    missing = bob.http.get(f"/conversations/s{'f' * 47}")

    assert session not in {c["session_id"] for c in bob.all_conversations(100)}
    for answer in (read, cont, delete):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
    assert read.json()["error"]["message"] == missing.json()["error"]["message"]  # no hint it exists
    assert len(alice.history(session)) == 2  # bob's attempt did not add to it


def test_delete_removes_the_conversation_and_its_history(full_stack: RunningStack) -> None:
    alice = Client(full_stack, ALICE)
    session = new_conversation(alice, "to be deleted: what is 1 + 1?")

    deleted = alice.http.delete(f"/conversations/{session}")

    assert deleted.status_code == 204
    assert alice.http.get(f"/conversations/{session}").status_code == 404
    assert session not in {c["session_id"] for c in alice.all_conversations(100)}
    assert alice.http.delete(f"/conversations/{session}").status_code == 404


def test_malformed_ids_cursors_and_limits_are_one_kind_of_mistake_422(full_stack: RunningStack) -> None:
    alice = Client(full_stack, ALICE)

    bad_cursor = alice.conversations(cursor="not-a-cursor")
    tampered = alice.conversations(cursor="eyJzY29wZSI6ImFiYyJ9")
    bad_id = alice.http.get("/conversations/short")
    long_id = alice.http.get("/conversations/" + "a" * 300)
    bad_limit = alice.conversations(limit=0)
    bad_id_in_chat = alice.chat("hi", session_id="a" * 300)

    for answer in (bad_cursor, tampered, bad_id, long_id, bad_limit, bad_id_in_chat):
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_error"
    assert "cursor" in bad_cursor.json()["error"]["message"]
    assert "session_id" in bad_id.json()["error"]["message"]
    assert "session_id" in long_id.json()["error"]["message"]
    assert "limit" in bad_limit.json()["error"]["message"]


def test_250_conversations_page_through_with_no_duplicate_and_no_gap(
    stack_factory: Callable[..., RunningStack],
) -> None:
    stack = stack_factory(3, "--rate-limit", "5000")
    alice = Client(stack, ALICE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = set(
            pool.map(lambda i: new_conversation(alice, f"conversation {i}: what is {i} + 1?"), range(250))
        )

    for limit in (7, 20, 100):
        listed = alice.all_conversations(limit)
        ids = [c["session_id"] for c in listed]
        assert len(ids) == len(set(ids)) == 250
        assert set(ids) == created
        stamps = [c["updated_at"] for c in listed]
        assert stamps == sorted(stamps, reverse=True)  # newest activity first


def test_a_300_message_conversation_comes_back_complete_and_in_order(full_stack: RunningStack) -> None:
    alice = Client(full_stack, ALICE)
    session = new_conversation(alice, "turn 0: what is 0 + 0?")
    for turn in range(1, 150):
        answer = alice.chat(f"turn {turn}: what is {turn} + {turn}?", session)
        assert answer.status_code == 200, answer.text

    for limit in (50, 100):
        history = alice.history(session, limit)
        assert len(history) == 300
        users = [m["text"] for m in history if m["role"] == "user"]
        assert users == [f"turn {t}: what is {t} + {t}?" for t in range(150)]
        assert all(f"= {2 * t}" in history[2 * t + 1]["text"] for t in range(150))


def test_history_and_list_survive_a_restart(
    stack_factory: Callable[..., RunningStack], tmp_path_factory: pytest.TempPathFactory
) -> None:
    state = tmp_path_factory.mktemp("persistent-state")
    first = stack_factory(3, state_dir=state)
    session = new_conversation(Client(first, ALICE), "remember me: what is 2 * 21?")
    first.stop()

    second = stack_factory(3, state_dir=state)
    alice = Client(second, ALICE)
    continued = alice.chat("what did I ask before?", session)

    assert session in {c["session_id"] for c in alice.all_conversations(100)}
    assert continued.status_code == 200
    assert "remember me" in continued.json()["response"]
    assert len(alice.history(session)) == 4


def test_refused_requests_leave_the_index_as_it_was(full_stack: RunningStack) -> None:
    alice = Client(full_stack, ALICE)
    before = alice.all_conversations(100)

    too_big = alice.chat("x" * 40_000)  # refused before the agent, by the front door
    invalid = alice.chat("")

    assert too_big.status_code == 413 and invalid.status_code == 422
    assert alice.all_conversations(100) == before
