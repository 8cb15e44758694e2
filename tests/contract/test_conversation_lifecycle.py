"""Both ports together, as the conversations Lambda uses them: history and delete, with ownership."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from agentarch.core.pagination import Page
from agentarch.services.conversations import (
    ConversationNotFound,
    conversation_history,
    delete_conversation,
    get_conversation,
    list_conversations,
    record_turn,
    start_or_resume,
)
from agentarch.services.memory import MemoryEvents, Message
from tests.contract.conftest import Storage

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def have_a_conversation(storage: Storage, actor: str, session: str, turns: int) -> None:
    for n in range(turns):
        at = T0 + timedelta(seconds=n)
        start_or_resume(storage.index, actor, session, f"question {n}", at)
        storage.memory.append_turn(actor, session, f"question {n}", f"answer {n}", at)
        record_turn(storage.index, actor, session, at)


class MemoryThatFailsToDelete:
    """A MemoryEvents whose delete breaks part-way (after removing nothing)."""

    def __init__(self, inner: MemoryEvents) -> None:
        self.inner = inner

    def append_turn(
        self, actor_id: str, session_id: str, user_text: str, assistant_text: str, at: datetime
    ) -> None:
        self.inner.append_turn(actor_id, session_id, user_text, assistant_text, at)

    def recent_messages(self, actor_id: str, session_id: str, turns_k: int) -> list[Message]:
        return self.inner.recent_messages(actor_id, session_id, turns_k)

    def list_messages(self, actor_id: str, session_id: str, limit: int, cursor: str | None) -> Page[Message]:
        return self.inner.list_messages(actor_id, session_id, limit, cursor)

    def delete_session(self, actor_id: str, session_id: str) -> None:
        raise ConnectionError("memory is unreachable")


def test_delete_removes_the_index_item_and_the_events(storage: Storage) -> None:
    actor, session, other = new_id(), new_id(), new_id()
    have_a_conversation(storage, actor, session, 3)
    have_a_conversation(storage, actor, other, 1)

    delete_conversation(storage.index, storage.memory, actor, session, T0)

    with pytest.raises(ConversationNotFound):
        get_conversation(storage.index, actor, session)
    assert storage.memory.recent_messages(actor, session, 10) == []
    assert [c.session_id for c in list_conversations(storage.index, actor, 10, None).items] == [other]
    assert len(storage.memory.recent_messages(actor, other, 10)) == 2


def test_someone_else_cannot_read_or_delete_your_conversation(storage: Storage) -> None:
    alice, bob, session = new_id(), new_id(), new_id()
    have_a_conversation(storage, alice, session, 2)

    with pytest.raises(ConversationNotFound):
        conversation_history(storage.index, storage.memory, bob, session, 50, None)
    with pytest.raises(ConversationNotFound):
        delete_conversation(storage.index, storage.memory, bob, session, T0)

    conversation, history = conversation_history(storage.index, storage.memory, alice, session, 50, None)
    assert conversation.session_id == session
    assert [m.text for m in history.items] == ["question 0", "answer 0", "question 1", "answer 1"]
    assert get_conversation(storage.index, alice, session).message_count == 4


def test_a_delete_that_fails_on_memory_hides_the_conversation_and_can_be_retried(storage: Storage) -> None:
    actor, session = new_id(), new_id()
    have_a_conversation(storage, actor, session, 2)

    with pytest.raises(ConnectionError):
        delete_conversation(storage.index, MemoryThatFailsToDelete(storage.memory), actor, session, T0)

    # Deleted for everyone at once, though its messages are not gone yet
    with pytest.raises(ConversationNotFound):
        get_conversation(storage.index, actor, session)
    with pytest.raises(ConversationNotFound):
        start_or_resume(storage.index, actor, session, "still there?", T0)
    assert len(storage.memory.recent_messages(actor, session, 10)) == 4

    delete_conversation(storage.index, storage.memory, actor, session, T0)  # the retry goes on

    assert storage.memory.recent_messages(actor, session, 10) == []
    with pytest.raises(ConversationNotFound):  # done: a third delete finds nothing
        delete_conversation(storage.index, storage.memory, actor, session, T0)
