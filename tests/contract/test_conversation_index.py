"""The conversation index contract, run against DynamoDB (moto) and SQLite alike."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from agentarch.core.contracts import PendingApproval
from agentarch.core.errors import InvalidIdentifier
from agentarch.core.pagination import InvalidCursor, InvalidLimit
from agentarch.services.conversations import (
    ApprovalNotPending,
    Conversation,
    ConversationIndex,
    ConversationNotFound,
    forget_unused,
    get_conversation,
    list_conversations,
    record_turn,
    start_or_resume,
)

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def every_page(index: ConversationIndex, actor: str, limit: int) -> list[list[Conversation]]:
    pages, cursor = [], None
    while True:
        page = list_conversations(index, actor, limit, cursor)
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 1000, "pagination does not terminate"


def test_first_message_claims_the_session_with_a_derived_title(index: ConversationIndex) -> None:
    actor, session = new_id(), new_id()

    created = start_or_resume(index, actor, session, "  Plan a trip\nto Lisbon in May", T0)

    assert created == get_conversation(index, actor, session)
    assert (created.title, created.message_count, created.created_at, created.updated_at) == (
        "Plan a trip",
        0,
        T0,
        T0,
    )


def test_resuming_returns_the_stored_conversation_unchanged(index: ConversationIndex) -> None:
    actor, session = new_id(), new_id()
    start_or_resume(index, actor, session, "first question", T0)
    record_turn(index, actor, session, T0 + timedelta(seconds=5))

    resumed = start_or_resume(index, actor, session, "a later message", T0 + timedelta(minutes=1))

    assert (resumed.title, resumed.message_count, resumed.created_at) == ("first question", 2, T0)


def test_each_turn_adds_two_messages_and_moves_the_conversation_to_the_top(index: ConversationIndex) -> None:
    actor = new_id()
    sessions = [new_id() for _ in range(4)]
    for n, session in enumerate(sessions):
        start_or_resume(index, actor, session, f"conversation {n}", T0 + timedelta(minutes=n))

    touched = record_turn(index, actor, sessions[0], T0 + timedelta(hours=1))
    record_turn(index, actor, sessions[0], T0 + timedelta(hours=2))

    assert touched.message_count == 2
    listed = list_conversations(index, actor, 10, None).items
    assert [c.session_id for c in listed] == [sessions[0], sessions[3], sessions[2], sessions[1]]
    assert listed[0].message_count == 4
    assert listed[0].updated_at == T0 + timedelta(hours=2)


@pytest.mark.parametrize("limit", [1, 7, 50, 100])
def test_250_conversations_page_through_without_duplicate_or_gap(
    index: ConversationIndex, limit: int
) -> None:
    # Given 250 conversations, some sharing the same updated_at (ties must not break pagination)
    actor = new_id()
    expected = set()
    for n in range(250):
        session = new_id()
        start_or_resume(index, actor, session, f"message {n}", T0 + timedelta(seconds=n // 3))
        expected.add(session)
    start_or_resume(index, new_id(), new_id(), "someone else's", T0 + timedelta(days=1))

    # When the actor follows every cursor
    pages = every_page(index, actor, limit)

    # Then every conversation appears exactly once, newest first, and no page is over the limit
    seen = [c.session_id for page in pages for c in page]
    assert len(seen) == len(set(seen)) == 250
    assert set(seen) == expected
    stamps = [c.updated_at for page in pages for c in page]
    assert stamps == sorted(stamps, reverse=True)
    assert all(len(page) <= limit for page in pages)
    assert pages[-1], "no empty trailing page"


def test_another_actors_session_does_not_exist_for_you(index: ConversationIndex) -> None:
    alice, bob, session = new_id(), new_id(), new_id()
    original = start_or_resume(index, alice, session, "alice's secret plans", T0)

    with pytest.raises(ConversationNotFound):
        start_or_resume(index, bob, session, "let me in", T0 + timedelta(seconds=1))
    with pytest.raises(ConversationNotFound):
        get_conversation(index, bob, session)
    with pytest.raises(ConversationNotFound):
        record_turn(index, bob, session, T0 + timedelta(seconds=2))
    with pytest.raises(ConversationNotFound):
        index.delete(bob, session)
    with pytest.raises(ConversationNotFound):
        index.delete(bob, session, only_if_empty=True)
    forget_unused(index, bob, session)  # swallows the not-found, deletes nothing

    assert list_conversations(index, bob, 100, None).items == []
    assert get_conversation(index, alice, session) == original, "nothing bob tried changed it"


def test_the_not_found_for_someone_elses_session_is_the_same_as_for_no_session(
    index: ConversationIndex,
) -> None:
    alice, bob, taken, unused = new_id(), new_id(), new_id(), new_id()
    start_or_resume(index, alice, taken, "hello", T0)

    errors = []
    for session in (taken, unused):
        with pytest.raises(ConversationNotFound) as caught:
            get_conversation(index, bob, session)
        errors.append((type(caught.value), str(caught.value).replace(session, "<id>")))

    assert errors[0] == errors[1]


def test_delete_removes_it_from_reads_and_the_list(index: ConversationIndex) -> None:
    actor, keep, drop = new_id(), new_id(), new_id()
    start_or_resume(index, actor, keep, "keep me", T0)
    start_or_resume(index, actor, drop, "drop me", T0 + timedelta(seconds=1))

    index.delete(actor, drop)

    with pytest.raises(ConversationNotFound):
        get_conversation(index, actor, drop)
    assert [c.session_id for c in list_conversations(index, actor, 10, None).items] == [keep]
    with pytest.raises(ConversationNotFound):
        index.delete(actor, drop)


def test_a_failed_first_turn_can_forget_its_claim_but_never_a_used_conversation(
    index: ConversationIndex,
) -> None:
    actor, unused, used = new_id(), new_id(), new_id()
    start_or_resume(index, actor, unused, "the agent failed on this one", T0)
    start_or_resume(index, actor, used, "this one worked", T0)
    record_turn(index, actor, used, T0 + timedelta(seconds=3))

    forget_unused(index, actor, unused)
    forget_unused(index, actor, used)
    forget_unused(index, actor, unused)  # twice is fine

    assert [c.session_id for c in list_conversations(index, actor, 10, None).items] == [used]
    assert get_conversation(index, actor, used).message_count == 2


def _forge(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "!!!!",
        "e30",  # {}
        "A" * 5000,
        _forge([1, 2, 3]),
        _forge({"scope": "0" * 16, "updated_at": "yesterday", "session_id": "x"}),
        _forge({"scope": "0" * 16, "updated_at": "2025-03-01T09:00:00.000Z", "session_id": "a" * 40}),
    ],
)
def test_a_malformed_cursor_is_invalid_cursor(index: ConversationIndex, cursor: str) -> None:
    actor = new_id()
    start_or_resume(index, actor, new_id(), "hello", T0)

    with pytest.raises(InvalidCursor):
        list_conversations(index, actor, 10, cursor)


def test_a_cursor_from_another_actors_listing_is_refused(index: ConversationIndex) -> None:
    alice, bob = new_id(), new_id()
    for n in range(3):
        start_or_resume(index, alice, new_id(), f"a{n}", T0 + timedelta(seconds=n))
        start_or_resume(index, bob, new_id(), f"b{n}", T0 + timedelta(seconds=n))
    alices_cursor = list_conversations(index, alice, 1, None).next_cursor
    assert alices_cursor is not None

    with pytest.raises(InvalidCursor):
        list_conversations(index, bob, 1, alices_cursor)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_a_page_size_out_of_range_is_refused(index: ConversationIndex, limit: int) -> None:
    with pytest.raises(InvalidLimit):
        list_conversations(index, new_id(), limit, None)


@pytest.mark.parametrize(
    "session", ["short", "a" * 101, "-starts-with-a-dash-0123456789abcdef", "has space" * 5]
)
def test_a_malformed_session_id_is_refused_before_storage(index: ConversationIndex, session: str) -> None:
    with pytest.raises(InvalidIdentifier):
        start_or_resume(index, new_id(), session, "hello", T0)
    with pytest.raises(InvalidIdentifier):
        get_conversation(index, new_id(), session)


def test_tool_calls_that_ran_are_counted_per_conversation(index: ConversationIndex) -> None:
    actor, session = new_id(), new_id()
    start_or_resume(index, actor, session, "hello", T0)

    record_turn(index, actor, session, T0 + timedelta(minutes=1), {"calculator": 2, "weather": 1})
    after = record_turn(index, actor, session, T0 + timedelta(minutes=2), {"calculator": 1})

    assert after.tool_counts == {"calculator": 3, "weather": 1}
    assert get_conversation(index, actor, session).tool_counts == {"calculator": 3, "weather": 1}


def test_the_tokens_and_agent_seconds_of_recorded_turns_add_up_per_conversation(
    index: ConversationIndex,
) -> None:
    # Given a conversation and another of the same actor
    actor, session, other = new_id(), new_id(), new_id()
    start_or_resume(index, actor, session, "hello", T0)
    start_or_resume(index, actor, other, "hello", T0)
    assert (
        get_conversation(index, actor, session).token_total,
        get_conversation(index, actor, session).agent_seconds,
    ) == (0, 0.0)

    # When two turns are recorded with what they spent
    record_turn(index, actor, session, T0 + timedelta(minutes=1), tokens=1200, seconds=2.5)
    after = record_turn(
        index, actor, session, T0 + timedelta(minutes=2), {"calculator": 1}, tokens=800, seconds=1.25
    )

    # Then the conversation holds their sums, with the other counters of the same write; the other
    # conversation is untouched
    assert (after.token_total, after.agent_seconds, after.message_count) == (2000, 3.75, 4)
    stored = get_conversation(index, actor, session)
    assert (stored.token_total, stored.agent_seconds, stored.tool_counts) == (2000, 3.75, {"calculator": 1})
    assert (
        get_conversation(index, actor, other).token_total,
        get_conversation(index, actor, other).agent_seconds,
    ) == (0, 0.0)


def test_a_turn_recorded_in_another_actors_conversation_adds_nothing(index: ConversationIndex) -> None:
    actor, session = new_id(), new_id()
    start_or_resume(index, actor, session, "hello", T0)

    with pytest.raises(ConversationNotFound):
        record_turn(index, new_id(), session, T0 + timedelta(minutes=1), tokens=5000, seconds=60)

    assert get_conversation(index, actor, session).token_total == 0


def _pending(approval_id: str, at: datetime) -> PendingApproval:
    arguments = {"title": "printer", "severity": "medium", "body": "floor 3"}
    return PendingApproval(id=approval_id, tool="create_ticket", arguments=arguments, requested_at=at)


def test_a_pending_approval_is_taken_once_by_its_actor_only(index: ConversationIndex) -> None:
    actor, session = new_id(), new_id()
    start_or_resume(index, actor, session, "open a ticket", T0)
    pending = _pending("ap-" + new_id(), T0 + timedelta(seconds=5))
    record_turn(index, actor, session, T0 + timedelta(seconds=5), pending=pending)

    assert get_conversation(index, actor, session).pending_approval == pending
    with pytest.raises(ApprovalNotPending):
        index.take_approval(new_id(), session, pending.id, T0)  # someone else
    with pytest.raises(ApprovalNotPending):
        index.take_approval(actor, session, "ap-forged", T0)  # an id nobody issued
    assert index.take_approval(actor, session, pending.id, T0) == pending
    with pytest.raises(ApprovalNotPending):
        index.take_approval(actor, session, pending.id, T0)  # replayed
    assert get_conversation(index, actor, session).pending_approval is None


def test_a_stale_or_superseded_approval_cannot_be_taken(index: ConversationIndex) -> None:
    actor, session = new_id(), new_id()
    start_or_resume(index, actor, session, "open a ticket", T0)
    old = _pending("ap-old", T0)
    record_turn(index, actor, session, T0, pending=old)

    with pytest.raises(ApprovalNotPending):
        index.take_approval(actor, session, old.id, T0 + timedelta(seconds=1))  # requested too long ago
    record_turn(index, actor, session, T0 + timedelta(minutes=1))  # a new message leaves nothing waiting
    with pytest.raises(ApprovalNotPending):
        index.take_approval(actor, session, old.id, T0 - timedelta(days=1))
