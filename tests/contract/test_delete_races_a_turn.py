"""Deleted means gone, for everyone, whatever is in flight: a DELETE racing a chat turn, on both stores.

The interleavings are injected, not timed: the DELETE runs inside the agent's call (before the turn
writes anything) or right after the turn's Memory write (before it counts itself in the index).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase, SqliteQuotaStore
from agentarch.services import quotas
from agentarch.services.audit import AuditTrail, list_records, make_query
from agentarch.services.chat import Answer, Audited, ConversationStore, Metered, TurnRequest, pipeline
from agentarch.services.conversations import (
    SWEEP_AFTER,
    ConversationDeleted,
    ConversationNotFound,
    delete_conversation,
    get_conversation,
    list_conversations,
    start_or_resume,
    sweep_deleted,
)
from tests.contract.conftest import Storage

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
ALICE, BOB = Actor(id="alice"), Actor(id="bob")
USAGE = {"input_tokens": 300, "output_tokens": 40}
POLICY = quotas.QuotaPolicy(default=quotas.DailyLimits(requests_per_day=10, tokens_per_day=10_000))


class Agent:
    """Answers every turn; `during` runs inside the call, while the turn is in flight."""

    def __init__(self, during: Callable[[], None] = lambda: None) -> None:
        self.during = during

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        self.during()
        return {"response": "391", "tool_calls": [], "usage": USAGE}


class Governed:
    """The chat Lambda's pipeline on this storage: quota (SQLite), audit (SQLite), the turn."""

    def __init__(self, storage: Storage, tmp_path: Path) -> None:
        database = SqliteDatabase(tmp_path / "governance.sqlite3")
        self.store = ConversationStore(storage.index, storage.memory)
        self.quota = SqliteQuotaStore(database)
        self.trail = AuditTrail(SqliteAuditStore(database))

    def send(self, agent: Agent, actor: Actor, session: str, message: str) -> Any:
        steps = [Metered(self.quota, POLICY, 2000, clock=lambda: T0), Audited(self.trail)]
        return pipeline(*steps, turn=Answer(agent, self.store))(
            TurnRequest(actor=actor, session_id=session, message=message)
        )


@pytest.fixture
def chat(storage: Storage, tmp_path: Path) -> Governed:
    return Governed(storage, tmp_path)


def deleted_everywhere(storage: Storage, chat: Governed, session: str) -> None:
    """Nothing of the conversation is left for its owner or anyone else, and nobody can revive it."""
    assert storage.memory.recent_messages(ALICE.id, session, 10) == []
    with pytest.raises(ConversationNotFound):
        get_conversation(storage.index, ALICE.id, session)
    assert session not in [c.session_id for c in list_conversations(storage.index, ALICE.id, 50, None).items]
    for actor in (ALICE, BOB):  # the owner cannot resume it, and another user cannot claim it
        with pytest.raises(ConversationNotFound):
            chat.send(Agent(), actor, session, "bring it back")
    with pytest.raises(ConversationNotFound):  # a second DELETE finds nothing
        delete_conversation(storage.index, storage.memory, ALICE.id, session, T0)


def the_turn_was_audited_and_charged(chat: Governed, session: str) -> None:
    turns = [
        r
        for r in list_records(chat.trail.store, make_query(session=session), 50, None).items
        if r.kind == "turn"
    ]
    assert [(t.actor, t.outcome) for t in turns][:2] == [("alice", "ok"), ("alice", "error")]
    assert turns[1].error == "conversation_deleted"
    used = chat.quota.usage("alice", quotas.day_of(T0))
    assert used.tokens == 2 * 340 and used.reserved == 0  # the deleted turn's tokens too


@pytest.mark.parametrize("when", ["while the agent answers", "after the turn wrote to Memory"])
def test_a_delete_racing_a_turn_leaves_nothing_and_the_turn_is_audited_and_charged(
    storage: Storage, chat: Governed, when: str
) -> None:
    # Given a conversation of Alice's with one turn
    session = "s" + uuid.uuid4().hex + "x" * 8
    chat.send(Agent(), ALICE, session, "what is 17 * 23?")

    def delete() -> None:
        delete_conversation(storage.index, storage.memory, ALICE.id, session, T0)

    agent = Agent(during=delete) if when == "while the agent answers" else Agent()
    if when == "after the turn wrote to Memory":
        append = storage.memory.append_turn

        def append_then_delete(*args: Any, **kwargs: Any) -> None:
            append(*args, **kwargs)
            delete()

        storage.memory.append_turn = append_then_delete  # type: ignore[method-assign]

    # When she sends a message and deletes the conversation while that turn is in flight
    with pytest.raises(ConversationDeleted):
        chat.send(agent, ALICE, session, "and again?")
    if when == "after the turn wrote to Memory":
        storage.memory.append_turn = append  # type: ignore[method-assign]

    # Then the conversation is gone for everyone, and the turn still left its record and its cost
    deleted_everywhere(storage, chat, session)
    the_turn_was_audited_and_charged(chat, session)


def test_a_deleted_session_id_is_never_claimed_by_someone_else(storage: Storage) -> None:
    session = "s" + uuid.uuid4().hex + "y" * 8
    start_or_resume(storage.index, ALICE.id, session, "hello", T0)
    delete_conversation(storage.index, storage.memory, ALICE.id, session, T0)

    with pytest.raises(ConversationNotFound):
        start_or_resume(storage.index, BOB.id, session, "mine now?", T0)


def test_the_sweep_removes_what_a_turn_that_died_mid_write_left_behind_a_tombstone(storage: Storage) -> None:
    # Given a conversation deleted while a turn wrote to Memory, the turn's Lambda dying before it
    # could count itself or remove what it wrote (its event is left behind the tombstone)
    session = "s" + uuid.uuid4().hex + "v" * 8
    start_or_resume(storage.index, ALICE.id, session, "hello", T0)
    delete_conversation(storage.index, storage.memory, ALICE.id, session, T0)
    storage.memory.append_turn(ALICE.id, session, "late question", "late answer", T0)
    assert len(storage.memory.recent_messages(ALICE.id, session, 10)) == 2

    # When the schedule runs the sweep: before the turn window has passed, then after it
    early = sweep_deleted(storage.index, storage.memory, T0 + SWEEP_AFTER / 2)
    later = sweep_deleted(storage.index, storage.memory, T0 + SWEEP_AFTER * 2)
    again = sweep_deleted(storage.index, storage.memory, T0 + SWEEP_AFTER * 3)

    # Then nothing is left, the sweep went over it once, and the tombstone still holds the session id
    assert (early, later, again) == (0, 1, 0)
    assert storage.memory.recent_messages(ALICE.id, session, 10) == []
    with pytest.raises(ConversationNotFound):
        start_or_resume(storage.index, BOB.id, session, "mine now?", T0)
