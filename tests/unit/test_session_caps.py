"""The per-session caps on model tokens and the agent's wall time (SESSION_MAX_TOKENS, SESSION_MAX_SECONDS).

The chat service keeps what each recorded turn spent in the conversation index and tells the agent;
the agent stops before a model call once the session is over a cap, with a sentence and a stable
reason the turn's audit record carries. Real agent (offline model), real SQLite store, an injected
clock: nothing here waits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from agentarch.agent.app import AgentService
from agentarch.agent.offline_model import OfflineChatModel
from agentarch.config import (
    DEFAULT_SESSION_MAX_SECONDS,
    DEFAULT_SESSION_MAX_TOKENS,
    AgentSettings,
)
from agentarch.core.contracts import AgentInvocation
from agentarch.core.decisions import StopReason
from agentarch.core.identity import Actor
from agentarch.core.sessions import new_session_id
from agentarch.dev.sqlite import SqliteAuditStore, SqliteConversationIndex, SqliteDatabase, SqliteMemoryEvents
from agentarch.services.audit import AuditTrail, list_records, make_query
from agentarch.services.chat import Answer, Audited, ChatReply, ConversationStore, TurnRequest, pipeline
from agentarch.services.conversations import get_conversation

ALICE = Actor(id="alice-sub")


class Clock:
    """Seconds that pass only when the model thinks."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ThirtySecondModel(OfflineChatModel):
    """The offline model, each of whose calls takes 30 s on the test's clock (and no real time)."""

    clock: Any = None
    calls: int = 0

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.calls += 1
        if self.clock is not None:
            self.clock.now += 30
        return super()._generate(messages, *args, **kwargs)


class InProcess:
    """The chat Lambda's invoker, calling the agent service in this process (payload in, JSON out)."""

    def __init__(self, service: AgentService) -> None:
        self.service = service

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        reply = self.service.invoke(AgentInvocation.model_validate(payload), session_id)
        return reply.model_dump(mode="json")


@pytest.fixture
def database(tmp_path: Path) -> SqliteDatabase:
    return SqliteDatabase(tmp_path / "db.sqlite3")


@pytest.fixture
def store(database: SqliteDatabase) -> ConversationStore:
    return ConversationStore(SqliteConversationIndex(database), SqliteMemoryEvents(database))


@pytest.fixture
def audit(database: SqliteDatabase) -> AuditTrail:
    return AuditTrail(SqliteAuditStore(database))


def _agent(
    store: ConversationStore, model: ThirtySecondModel, clock: Clock | None = None, **caps: str
) -> InProcess:
    settings = AgentSettings.model_validate({"MODEL_PROVIDER": "offline", **caps})
    service = AgentService(settings, store.memory, index=store.index, model=model, clock=clock or Clock())
    return InProcess(service)


def _say(agent: InProcess, store: ConversationStore, session: str, text: str, audit: AuditTrail) -> ChatReply:
    request = TurnRequest(actor=ALICE, session_id=session, message=text, request_id="r-1")
    return pipeline(Audited(audit), turn=Answer(agent, store))(request)


def _turn_errors(audit: AuditTrail, session: str) -> list[str | None]:
    records = list_records(audit.store, make_query(session=session), 100, None).items
    return [record.error for record in records if record.kind == "turn"]


def test_a_session_that_reached_its_token_cap_over_two_turns_is_stopped_on_the_next(
    store: ConversationStore, audit: AuditTrail, tmp_path: Path
) -> None:
    # Given what one plain turn costs (the offline model's count is deterministic), and a cap that the
    # first turn stays under and the second reaches
    probe_store = ConversationStore(
        SqliteConversationIndex(SqliteDatabase(tmp_path / "probe.sqlite3")), store.memory
    )
    probe = _say(_agent(probe_store, ThirtySecondModel()), probe_store, new_session_id(), "hello", audit)
    first = probe.usage.total
    model = ThirtySecondModel()
    agent = _agent(store, model, SESSION_MAX_TOKENS=str(first + 1))
    session = new_session_id()

    # When the user sends three messages in one conversation
    replies = [_say(agent, store, session, "hello", audit) for _ in range(3)]

    # Then the first two are answered, and their tokens are counted in the conversation
    assert [reply.stopped for reply in replies[:2]] == [None, None]
    spent = get_conversation(store.index, ALICE.id, session).token_total
    assert spent == replies[0].usage.total + replies[1].usage.total > first
    # and the third is refused before any model call, with a sentence, not an error
    assert replies[2].stopped is StopReason.SESSION_TOKEN_CAP
    assert replies[2].response.startswith("I stopped here: this conversation used as many model tokens")
    assert replies[2].usage.total == 0 and model.calls == 2
    # and its turn record says why
    assert _turn_errors(audit, session) == [None, None, "session_token_cap"]
    # and another conversation of the same user is not affected
    assert _say(agent, store, new_session_id(), "hello", audit).stopped is None


def test_a_session_that_reached_its_time_cap_over_two_turns_is_stopped_on_the_next(
    store: ConversationStore, audit: AuditTrail
) -> None:
    # Given a model whose every call takes 30 s (on the injected clock) and a cap of 50 s a session
    clock = Clock()
    model = ThirtySecondModel(clock=clock)
    agent = _agent(store, model, clock, SESSION_MAX_SECONDS="50")
    session = new_session_id()

    # When the user sends three messages in one conversation
    replies = [_say(agent, store, session, "hello", audit) for _ in range(3)]

    # Then two turns ran (30 s, then 60 s in all), and the third stopped before its model call
    assert [reply.stopped for reply in replies] == [None, None, StopReason.SESSION_TIME_CAP]
    assert get_conversation(store.index, ALICE.id, session).agent_seconds == pytest.approx(60.0)
    assert replies[2].response.startswith("I stopped here: this conversation has run as long as it may")
    assert model.calls == 2
    assert _turn_errors(audit, session) == [None, None, "session_time_cap"]


def test_a_browsers_payload_cannot_claim_a_lower_session_total() -> None:
    # Given an agent behind JWT inbound auth (patterns 0 and 1): the browser writes the payload
    model = ThirtySecondModel()
    service = AgentService(
        AgentSettings.model_validate({"MODEL_PROVIDER": "offline", "AGENT_INBOUND_AUTH": "JWT"}), model=model
    )
    # When the payload claims any session totals
    invocation = AgentInvocation(prompt="hello", actor=ALICE, session_tokens=10**9, session_seconds=10**6)

    # Then they are not believed either way: the turn runs on what the agent knows itself
    answer = service.invoke(invocation, "s" * 40)
    assert answer.stopped is None and model.calls == 1


def test_the_trusted_caller_s_session_totals_stop_the_turn() -> None:
    service = AgentService(
        AgentSettings.model_validate({"MODEL_PROVIDER": "offline", "SESSION_MAX_TOKENS": "1000"}),
        model=ThirtySecondModel(),
    )

    answer = service.invoke(AgentInvocation(prompt="hello", actor=ALICE, session_tokens=1000), "s" * 40)

    assert answer.stopped is StopReason.SESSION_TOKEN_CAP


def test_the_session_caps_are_settings_with_generous_defaults() -> None:
    settings = AgentSettings.model_validate({"SESSION_MAX_TOKENS": "5000", "SESSION_MAX_SECONDS": "90"})
    assert (settings.session_max_tokens, settings.session_max_seconds) == (5000, 90.0)
    defaults = AgentSettings.model_validate({})
    assert (defaults.session_max_tokens, defaults.session_max_seconds) == (
        DEFAULT_SESSION_MAX_TOKENS,
        DEFAULT_SESSION_MAX_SECONDS,
    )
    with pytest.raises(ValueError, match="SESSION_MAX_SECONDS"):
        AgentSettings.model_validate({"SESSION_MAX_SECONDS": "0"})
