"""One chat turn against a real conversation index (SQLite): claims, records, and failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentarch.adapters.agent_runtime import AgentTimeout
from agentarch.adapters.sqlite_store import SqliteConversationIndex, SqliteDatabase
from agentarch.services.chat import MalformedAgentReply, send_message
from agentarch.services.conversations import ConversationNotFound

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
def index(tmp_path: Path) -> SqliteConversationIndex:
    return SqliteConversationIndex(SqliteDatabase(tmp_path / "db.sqlite3"))


OK = {"response": "391", "tool_calls": []}


def test_a_first_message_creates_the_conversation_and_a_turn_counts_two_messages(
    index: SqliteConversationIndex,
) -> None:
    reply = send_message(Agent(OK), ALICE, [], None, "what is 17 * 23?", index)
    send_message(Agent(OK), ALICE, [], reply.session_id, "and again?", index)

    conversation = index.get(ALICE, reply.session_id)
    assert conversation.title == "what is 17 * 23?"
    assert conversation.message_count == 4


@pytest.mark.parametrize("failure", [AgentTimeout("slow"), {"unexpected": True}])
def test_a_failed_first_turn_leaves_no_conversation(index: SqliteConversationIndex, failure: Any) -> None:
    session = "s" + "1" * 40

    with pytest.raises((AgentTimeout, MalformedAgentReply)):
        send_message(Agent(failure), ALICE, [], session, "hello", index)

    with pytest.raises(ConversationNotFound):
        index.get(ALICE, session)
    assert index.list_page(ALICE, 10, None).items == []


def test_a_failed_later_turn_leaves_the_conversation_as_it_was(index: SqliteConversationIndex) -> None:
    reply = send_message(Agent(OK), ALICE, [], None, "first", index)
    before = index.get(ALICE, reply.session_id)

    with pytest.raises(AgentTimeout):
        send_message(Agent(AgentTimeout("slow")), ALICE, [], reply.session_id, "second", index)

    assert index.get(ALICE, reply.session_id) == before


def test_another_actors_session_is_refused_before_the_agent_runs(index: SqliteConversationIndex) -> None:
    reply = send_message(Agent(OK), ALICE, [], None, "mine", index)
    agent = Agent(OK)

    with pytest.raises(ConversationNotFound):
        send_message(agent, BOB, [], reply.session_id, "let me in", index)

    assert agent.calls == 0
    assert index.get(ALICE, reply.session_id).message_count == 2
