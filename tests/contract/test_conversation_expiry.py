"""The DynamoDB index expires with Memory's events: TTL written, honoured on read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from agentarch.adapters.aws_conversations import EXPIRY_ATTRIBUTE, DynamoConversationIndex
from agentarch.dev.testing.aws import TABLE_NAME
from agentarch.services.conversations import (
    ConversationNotFound,
    get_conversation,
    list_conversations,
    record_turn,
    start_or_resume,
)
from tests.contract.conftest import Storage

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)
DAY = 86400


def index_at(storage: Storage, now: datetime, expiry_days: int | None = 30) -> DynamoConversationIndex:
    return DynamoConversationIndex(
        TABLE_NAME, client=storage.clients["dynamodb"], expiry_days=expiry_days, clock=now.timestamp
    )


def stored_expiry(storage: Storage, session: str) -> int:
    item = storage.clients["dynamodb"].get_item(TableName=TABLE_NAME, Key={"session_id": {"S": session}})[
        "Item"
    ]
    return int(item[EXPIRY_ATTRIBUTE]["N"])


def test_a_new_conversation_expires_with_its_events(aws_storage: Storage) -> None:
    actor, session = str(uuid.uuid4()), str(uuid.uuid4())
    start_or_resume(index_at(aws_storage, T0), actor, session, "hello", T0)
    assert stored_expiry(aws_storage, session) == int(T0.timestamp()) + 30 * DAY


def test_each_turn_pushes_the_expiry_out(aws_storage: Storage) -> None:
    actor, session = str(uuid.uuid4()), str(uuid.uuid4())
    later = T0 + timedelta(days=10)
    start_or_resume(index_at(aws_storage, T0), actor, session, "hello", T0)
    record_turn(index_at(aws_storage, later), actor, session, later)
    assert stored_expiry(aws_storage, session) == int(later.timestamp()) + 30 * DAY


def test_an_expired_conversation_is_gone_before_dynamodb_deletes_it(aws_storage: Storage) -> None:
    actor, session = str(uuid.uuid4()), str(uuid.uuid4())
    start_or_resume(index_at(aws_storage, T0), actor, session, "hello", T0)
    after = index_at(aws_storage, T0 + timedelta(days=31))
    assert list_conversations(after, actor, 10, None).items == []
    try:
        get_conversation(after, actor, session)
    except ConversationNotFound:
        pass
    else:
        raise AssertionError("an expired conversation must not be found")
    # and its session id can start a new conversation
    assert start_or_resume(after, actor, session, "again", T0 + timedelta(days=31)).title == "again"


def test_without_an_expiry_nothing_is_written(aws_storage: Storage) -> None:
    actor, session = str(uuid.uuid4()), str(uuid.uuid4())
    start_or_resume(index_at(aws_storage, T0, expiry_days=None), actor, session, "hello", T0)
    item = aws_storage.clients["dynamodb"].get_item(TableName=TABLE_NAME, Key={"session_id": {"S": session}})[
        "Item"
    ]
    assert EXPIRY_ATTRIBUTE not in item
