"""One chat turn against a real store (SQLite): claims, the single write of a turn, and failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentarch.adapters.agent_runtime import AgentTimeout, AgentUnavailable
from agentarch.core.contracts import ApprovalAnswer
from agentarch.core.identity import Actor
from agentarch.core.sessions import new_session_id
from agentarch.dev.sqlite import SqliteAuditStore, SqliteConversationIndex, SqliteDatabase, SqliteMemoryEvents
from agentarch.services.audit import AuditRecord, AuditTrail, list_records, make_query
from agentarch.services.chat import (
    AgentInvoker,
    Answer,
    AnsweredTooLate,
    Audited,
    ChatReply,
    ConversationStore,
    MalformedAgentReply,
    TurnRequest,
    pipeline,
)
from agentarch.services.conversations import ApprovalNotPending, ConversationNotFound, get_conversation

ALICE, BOB = "alice-sub", "bob-sub"


def send_message(
    agent: AgentInvoker,
    actor: str,
    session: str | None,
    message: str,
    store: ConversationStore | None = None,
    *,
    seconds_left: Any = None,
    approval: ApprovalAnswer | None = None,
    audit: AuditTrail | None = None,
    request_id: str | None = None,
) -> ChatReply:
    """One turn through the chat pipeline as the chat Lambda runs it (the audit step when given a trail)."""
    request = TurnRequest(
        actor=Actor(id=actor),
        session_id=session or new_session_id(),
        message=message,
        approval=approval,
        request_id=request_id,
        **({"seconds_left": seconds_left} if seconds_left else {}),
    )
    steps = [Audited(audit)] if audit is not None else []
    return pipeline(*steps, turn=Answer(agent, store))(request)


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


def test_an_approval_resumes_the_stored_call_once_and_leaves_counting_to_the_agent(
    store: ConversationStore,
) -> None:
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
    # The agent counts each call as it runs (atomically); the turn adds nothing after: no double count
    assert conversation.tool_counts == {} and conversation.pending_approval is None


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


# --- the turn's audit record -------------------------------------------------------------------


@pytest.fixture
def audit(tmp_path: Path) -> AuditTrail:
    return AuditTrail(SqliteAuditStore(SqliteDatabase(tmp_path / "db.sqlite3")))


def turn_records(audit: AuditTrail, session: str) -> list[AuditRecord]:
    return list_records(audit.store, make_query(session=session), 100, None).items


def test_an_answered_turn_leaves_one_turn_record_with_the_models_token_counts(
    store: ConversationStore, audit: AuditTrail
) -> None:
    answer = {
        "response": "391",
        "tool_calls": [{"name": "calculator", "args": {"expression": "17*23"}, "output": "391"}],
        "usage": {"input_tokens": 120, "output_tokens": 9},
    }

    reply = send_message(Agent(answer), ALICE, None, "what is 17 * 23?", store, audit=audit, request_id="r-1")

    (record,) = turn_records(audit, reply.session_id)
    assert (record.kind, record.outcome, record.actor, record.request_id) == ("turn", "ok", ALICE, "r-1")
    assert (record.input_tokens, record.output_tokens, record.tool_calls) == (120, 9, 1)
    assert record.latency_ms is not None and record.latency_ms >= 0
    assert "17 * 23" not in record.to_json()  # records keep no conversation text


@pytest.mark.parametrize(
    ("failure", "code"),
    [(AgentTimeout("slow"), "agent_timeout"), (AgentUnavailable("502"), "agent_error")],
)
def test_a_failed_turn_leaves_a_turn_record_with_outcome_error(
    store: ConversationStore, audit: AuditTrail, failure: Exception, code: str
) -> None:
    session = "s" + "e" * 40
    with pytest.raises(type(failure)):
        send_message(Agent(failure), ALICE, session, "hello", store, audit=audit)

    (record,) = turn_records(audit, session)
    assert (record.outcome, record.error, record.input_tokens) == ("error", code, None)


def test_the_agent_receives_the_request_id_its_tool_records_name(store: ConversationStore) -> None:
    seen: list[dict[str, Any]] = []

    class Seeing(Agent):
        def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
            seen.append(payload)
            return super().invoke(payload, session_id)

    send_message(Seeing(OK), ALICE, None, "hi", store, request_id="req-42")

    assert seen[0]["request_id"] == "req-42"


def test_the_agent_receives_the_quotas_reservation_and_what_the_session_spent(
    store: ConversationStore, index: SqliteConversationIndex
) -> None:
    # Given a conversation whose earlier turn spent 700 tokens and 4 s of the agent's time
    seen: list[dict[str, Any]] = []

    class Seeing(Agent):
        def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
            seen.append(payload)
            return super().invoke(payload, session_id)

    agent = Seeing({**OK, "usage": {"input_tokens": 600, "output_tokens": 100}, "seconds": 4.0})
    session = send_message(agent, ALICE, None, "hi", store).session_id

    # When the quota reserved only 300 tokens for the next message (the day is nearly spent)
    request = TurnRequest(actor=Actor(id=ALICE), session_id=session, message="again", token_budget=300)
    pipeline(turn=Answer(agent, store))(request)

    # Then the agent is told both: it stops at the reservation, and counts the session's caps from the totals
    assert (seen[1]["token_budget"], seen[1]["session_tokens"], seen[1]["session_seconds"]) == (300, 700, 4.0)
    assert get_conversation(index, ALICE, session).token_total == 1400
