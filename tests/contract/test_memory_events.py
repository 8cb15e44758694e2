"""The memory events contract, run against AgentCore Memory (moto, service order) and SQLite alike."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from agentarch.core.contracts import ToolCall
from agentarch.core.pagination import InvalidCursor, InvalidLimit
from agentarch.dev.testing.aws import MEMORY_ID, REGION
from agentarch.services.memory import InvalidMessage, MemoryEvents, Message
from tests.contract.conftest import Storage

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def write_turns(memory: MemoryEvents, actor: str, session: str, turns: int, step: timedelta) -> None:
    for n in range(turns):
        memory.append_turn(actor, session, f"question {n}", f"answer {n}", T0 + n * step)


def expected_messages(turns: range, step: timedelta) -> list[tuple[str, str, datetime]]:
    out = []
    for n in turns:
        out += [("user", f"question {n}", T0 + n * step), ("assistant", f"answer {n}", T0 + n * step)]
    return out


def as_tuples(messages: list[Message]) -> list[tuple[str, str, datetime]]:
    return [(m.role, m.text, m.created_at) for m in messages]


def whole_history(memory: MemoryEvents, actor: str, session: str, limit: int) -> tuple[list[Message], int]:
    """Follow every cursor; pages come newest first, so each one goes in front of the last."""
    history: list[Message] = []
    cursor, pages = None, 0
    while True:
        page = memory.list_messages(actor, session, limit, cursor)
        pages += 1
        assert page.items == sorted(page.items, key=lambda m: m.created_at), "a page reads oldest first"
        assert len(page.items) <= max(limit, 2)
        history = page.items + history
        cursor = page.next_cursor
        if cursor is None:
            return history, pages
        assert pages < 1000, "pagination does not terminate"


def test_recent_messages_are_the_last_k_turns_in_order(memory: MemoryEvents) -> None:
    actor, session = new_id(), new_id()
    write_turns(memory, actor, session, 12, timedelta(seconds=30))

    recent = memory.recent_messages(actor, session, 5)

    assert as_tuples(recent) == expected_messages(range(7, 12), timedelta(seconds=30))


def test_recent_messages_of_a_short_or_new_conversation(memory: MemoryEvents) -> None:
    actor, session = new_id(), new_id()
    assert memory.recent_messages(actor, session, 10) == []

    write_turns(memory, actor, session, 2, timedelta(seconds=1))

    assert as_tuples(memory.recent_messages(actor, session, 10)) == expected_messages(
        range(2), timedelta(seconds=1)
    )


def test_turns_written_within_the_same_second_keep_their_order(memory: MemoryEvents) -> None:
    actor, session = new_id(), new_id()
    write_turns(memory, actor, session, 6, timedelta(milliseconds=7))

    assert as_tuples(memory.recent_messages(actor, session, 6)) == expected_messages(
        range(6), timedelta(milliseconds=7)
    )


@pytest.mark.parametrize("limit", [2, 7, 20, 100])
def test_300_messages_come_back_complete_and_in_order(memory: MemoryEvents, limit: int) -> None:
    actor, session = new_id(), new_id()
    write_turns(memory, actor, session, 150, timedelta(seconds=2))
    memory.append_turn(actor, new_id(), "other session", "not in this history", T0)

    history, pages = whole_history(memory, actor, session, limit)

    assert as_tuples(history) == expected_messages(range(150), timedelta(seconds=2))
    assert pages >= 300 // limit


def test_the_first_page_is_the_newest(memory: MemoryEvents) -> None:
    actor, session = new_id(), new_id()
    write_turns(memory, actor, session, 30, timedelta(seconds=1))

    first = memory.list_messages(actor, session, 10, None)

    assert as_tuples(first.items) == expected_messages(range(25, 30), timedelta(seconds=1))
    assert first.next_cursor is not None


def test_sessions_and_actors_do_not_mix(memory: MemoryEvents) -> None:
    alice, bob, session = new_id(), new_id(), new_id()
    memory.append_turn(alice, session, "alice asks", "alice is answered", T0)
    memory.append_turn(bob, session, "bob asks", "bob is answered", T0 + timedelta(seconds=1))

    assert [m.text for m in memory.recent_messages(alice, session, 10)] == ["alice asks", "alice is answered"]
    assert [m.text for m in memory.list_messages(bob, session, 10, None).items] == [
        "bob asks",
        "bob is answered",
    ]


def test_delete_session_removes_every_message(memory: MemoryEvents) -> None:
    actor, session, other = new_id(), new_id(), new_id()
    write_turns(memory, actor, session, 130, timedelta(seconds=1))  # more than one ListEvents page
    memory.append_turn(actor, other, "keep", "me", T0)

    memory.delete_session(actor, session)
    memory.delete_session(actor, session)  # nothing left: still fine

    assert memory.recent_messages(actor, session, 10) == []
    assert memory.list_messages(actor, session, 100, None).items == []
    assert [m.text for m in memory.recent_messages(actor, other, 10)] == ["keep", "me"]


@pytest.mark.parametrize(
    "user_text, assistant_text", [("", "answer"), ("question", ""), ("x" * 100_001, "a")]
)
def test_an_unstorable_message_is_refused_and_nothing_is_written(
    memory: MemoryEvents, user_text: str, assistant_text: str
) -> None:
    actor, session = new_id(), new_id()

    with pytest.raises(InvalidMessage):
        memory.append_turn(actor, session, user_text, assistant_text, T0)

    assert memory.recent_messages(actor, session, 10) == []


def _forge(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "e30",
        "Zm9v",
        "B" * 5000,
        _forge({"scope": "0" * 16, "before_seq": 5, "token": "x", "events": 1}),
    ],
)
def test_a_malformed_cursor_is_invalid_cursor(memory: MemoryEvents, cursor: str) -> None:
    actor, session = new_id(), new_id()
    write_turns(memory, actor, session, 3, timedelta(seconds=1))

    with pytest.raises(InvalidCursor):
        memory.list_messages(actor, session, 2, cursor)


def test_a_cursor_from_another_session_is_refused(memory: MemoryEvents) -> None:
    actor, first, second = new_id(), new_id(), new_id()
    write_turns(memory, actor, first, 5, timedelta(seconds=1))
    write_turns(memory, actor, second, 5, timedelta(seconds=1))
    cursor = memory.list_messages(actor, first, 2, None).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        memory.list_messages(actor, second, 2, cursor)


@pytest.mark.parametrize("limit", [0, 101])
def test_a_page_size_out_of_range_is_refused(memory: MemoryEvents, limit: int) -> None:
    with pytest.raises(InvalidLimit):
        memory.list_messages(new_id(), new_id(), limit, None)


def test_the_agents_storage_path_costs_two_memory_calls_per_turn(aws_storage: Storage) -> None:
    storage = aws_storage
    client = storage.clients["bedrock-agentcore"]
    calls: list[str] = []
    client.meta.events.register(
        "before-call.bedrock-agentcore.*", lambda model, **_: calls.append(model.name)
    )
    actor, session = new_id(), new_id()

    per_turn = []
    for n in range(60):
        before = len(calls)
        storage.memory.recent_messages(actor, session, 10)
        storage.memory.append_turn(actor, session, f"q{n}", f"a{n}", T0 + timedelta(seconds=n))
        per_turn.append(calls[before:])

    assert all(turn == ["ListEvents", "CreateEvent"] for turn in per_turn)


def test_stock_moto_lists_oldest_first(aws_credentials: None) -> None:
    """Why agentarch.dev.testing.aws patches ListEvents: moto 5.2.5 does not order like the service.

    If this starts failing, moto has learned the service's order: drop the patch.
    """
    with mock_aws():
        client = boto3.client("bedrock-agentcore", region_name=REGION)
        session = new_id()
        for n in range(3):
            client.create_event(
                memoryId=MEMORY_ID,
                actorId="actor",
                sessionId=session,
                eventTimestamp=T0 + timedelta(seconds=n),
                payload=[{"conversational": {"role": "USER", "content": {"text": f"m{n}"}}}],
            )
        answer = client.list_events(
            memoryId=MEMORY_ID, actorId="actor", sessionId=session, includePayloads=True, maxResults=2
        )

    texts = [e["payload"][0]["conversational"]["content"]["text"] for e in answer["events"]]
    assert texts == ["m0", "m1"]
    assert answer.get("nextToken") is None


def test_an_answer_keeps_the_tools_it_used(memory: MemoryEvents) -> None:
    actor, session = new_id(), new_id()
    calculator = ToolCall(name="calculator", args={"expression": "17 * 23"}, output="17 * 23 = 391")
    huge = ToolCall(name="current_time", args={"timezone": "UTC"}, output="x" * 150_000)

    memory.append_turn(actor, session, "what is 17 * 23?", "391", T0, [calculator, huge])
    memory.append_turn(actor, session, "thanks", "you are welcome", T0 + timedelta(seconds=1))
    page = memory.list_messages(actor, session, 10, None).items
    recent = memory.recent_messages(actor, session, 5)

    assert [(m.role, [c.name for c in m.tool_calls]) for m in page] == [
        ("user", []),
        ("assistant", ["calculator", "current_time"]),
        ("user", []),
        ("assistant", []),
    ]
    assert page[1].tool_calls[0] == calculator
    assert page[1].tool_calls[1].output.startswith("xxx") and len(page[1].tool_calls[1].output) < 100_000
    assert recent[1].tool_calls == page[1].tool_calls
