"""One chat turn against a real store (SQLite): claims, the single write of a turn, and failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentarch.adapters.agent_runtime import AgentTimeout
from agentarch.adapters.sqlite_store import SqliteConversationIndex, SqliteDatabase, SqliteMemoryEvents
from agentarch.services.chat import (
    AnsweredTooLate,
    ApprovalAnswer,
    ConversationStore,
    MalformedAgentReply,
    send_message,
)
from agentarch.services.conversations import ApprovalNotPending, ConversationNotFound, get_conversation

ALICE, BOB = "alice-sub", "bob-sub"


class Agent:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.calls = 0

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    return ConversationStore(SqliteConversationIndex(database), SqliteMemoryEvents(database))


@pytest.fixture
def index(store: ConversationStore) -> SqliteConversationIndex:
    assert isinstance(store.index, SqliteConversationIndex)
    return store.index


def stored_messages(store: ConversationStore, session: str) -> int:
    return len(store.memory.list_messages(ALICE, session, 100, None).items)


OK = {"response": "391", "tool_calls": []}


def test_a_first_message_creates_the_conversation_and_a_turn_counts_two_messages(
    store: ConversationStore, index: SqliteConversationIndex
) -> None:
    reply = send_message(Agent(OK), ALICE, None, "what is 17 * 23?", store)
    send_message(Agent(OK), ALICE, reply.session_id, "and again?", store)

    conversation = index.get(ALICE, reply.session_id)
    assert conversation.title == "what is 17 * 23?"
    assert conversation.message_count == 4
    assert stored_messages(store, reply.session_id) == 4


def test_an_answer_too_close_to_the_lambda_timeout_is_not_stored(
    store: ConversationStore, index: SqliteConversationIndex
) -> None:
    first = send_message(Agent(OK), ALICE, None, "first", store)

    with pytest.raises(AnsweredTooLate):
        send_message(Agent(OK), ALICE, first.session_id, "late", store, seconds_left=lambda: 0.5)
    with pytest.raises(AnsweredTooLate):
        send_message(Agent(OK), ALICE, "s" + "9" * 40, "late and new", store, seconds_left=lambda: 0.5)

    assert index.get(ALICE, first.session_id).message_count == 2
    assert stored_messages(store, first.session_id) == 2
    with pytest.raises(ConversationNotFound):
        index.get(ALICE, "s" + "9" * 40)
    assert stored_messages(store, "s" + "9" * 40) == 0


@pytest.mark.parametrize("failure", [AgentTimeout("slow"), {"unexpected": True}])
def test_a_failed_first_turn_leaves_no_conversation(
    store: ConversationStore, index: SqliteConversationIndex, failure: Any
) -> None:
    session = "s" + "1" * 40

    with pytest.raises((AgentTimeout, MalformedAgentReply)):
        send_message(Agent(failure), ALICE, session, "hello", store)

    with pytest.raises(ConversationNotFound):
        index.get(ALICE, session)
    assert index.list_page(ALICE, 10, None).items == []
    assert stored_messages(store, session) == 0


def test_a_failed_later_turn_leaves_the_conversation_as_it_was(
    store: ConversationStore, index: SqliteConversationIndex
) -> None:
    reply = send_message(Agent(OK), ALICE, None, "first", store)
    before = index.get(ALICE, reply.session_id)

    with pytest.raises(AgentTimeout):
        send_message(Agent(AgentTimeout("slow")), ALICE, reply.session_id, "second", store)

    assert index.get(ALICE, reply.session_id) == before
    assert stored_messages(store, reply.session_id) == 2


def test_another_actors_session_is_refused_before_the_agent_runs(
    store: ConversationStore, index: SqliteConversationIndex
) -> None:
    reply = send_message(Agent(OK), ALICE, None, "mine", store)
    agent = Agent(OK)

    with pytest.raises(ConversationNotFound):
        send_message(agent, BOB, reply.session_id, "let me in", store)

    assert agent.calls == 0
    assert index.get(ALICE, reply.session_id).message_count == 2


class Recording(Agent):
    def __init__(self, *answers: dict[str, Any]) -> None:
        super().__init__({})
        self.answers = list(answers)
        self.payloads: list[dict[str, Any]] = []

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        self.payloads.append(payload)
        return self.answers.pop(0)


PAUSED = {
    "response": "I need your approval",
    "tool_calls": [{"name": "create_ticket", "args": {"title": "t"}, "decision": "pending_approval"}],
    "pending_approval": {"call_id": "model-call-1", "tool": "create_ticket", "args": {"title": "t"}},
}
DONE = {
    "response": "Created",
    "tool_calls": [{"name": "create_ticket", "args": {"title": "t"}, "decision": "approved"}],
}


def test_an_approval_resumes_the_stored_call_once_and_counts_what_ran(store: ConversationStore) -> None:
    agent = Recording(PAUSED, DONE)
    paused = send_message(agent, ALICE, None, "open a ticket: t", store)
    assert paused.pending_approval is not None and paused.pending_approval.id.startswith("ap-")
    approval = ApprovalAnswer(id=paused.pending_approval.id, decision="approve")

    done = send_message(agent, ALICE, paused.session_id, "", store, approval=approval)
    with pytest.raises(ApprovalNotPending):
        send_message(agent, ALICE, paused.session_id, "", store, approval=approval)

    assert done.response == "Created" and len(agent.payloads) == 2  # the replay never reached the agent
    assert agent.payloads[1]["approval"] == {
        "call_id": paused.pending_approval.id,  # the approval's id, not the model's: the ticket's id
        "tool": "create_ticket",
        "args": {"title": "t"},  # as stored when the call paused
        "decision": "approved",
    }
    assert agent.payloads[1]["prompt"] == "Approved create_ticket."
    conversation = get_conversation(store.index, ALICE, paused.session_id)
    assert conversation.tool_counts == {"create_ticket": 1} and conversation.pending_approval is None


def test_without_storage_there_is_no_approval_to_give() -> None:
    with pytest.raises(ApprovalNotPending):
        send_message(
            Recording(DONE),
            ALICE,
            "s" + "1" * 40,
            "",
            None,
            approval=ApprovalAnswer(id="ap-1", decision="approve"),
        )
