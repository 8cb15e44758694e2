"""Cursors, timestamps, the storage backends, and the SQLite file under concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import Field

from agentarch.adapters.wiring import conversation_index, memory_events
from agentarch.config import SettingsError, StorageSettings
from agentarch.core.pagination import CursorState, InvalidCursor, decode_cursor, encode_cursor, scope_of
from agentarch.core.timestamps import format_iso_millis, parse_iso_millis, to_utc_millis
from agentarch.dev.sqlite import SqliteConversationIndex, SqliteDatabase, SqliteMemoryEvents
from agentarch.services.conversations import list_conversations, record_turn, start_or_resume

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


class _Position(CursorState):
    offset: int = Field(ge=0)


def test_a_cursor_round_trips_and_is_url_safe() -> None:
    scope = scope_of("conversations", "alice")
    token = encode_cursor(_Position(scope=scope, offset=42))

    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(token, _Position, scope).offset == 42


def test_a_cursor_cannot_be_replayed_on_another_listing_or_widened() -> None:
    token = encode_cursor(_Position(scope=scope_of("conversations", "alice"), offset=1))

    with pytest.raises(InvalidCursor):
        decode_cursor(token, _Position, scope_of("conversations", "bob"))
    with pytest.raises(InvalidCursor):
        decode_cursor(token[:-3], _Position, scope_of("conversations", "alice"))  # truncated


def test_timestamps_are_utc_millisecond_text_that_sorts_as_time() -> None:
    lisbon_summer = timezone(timedelta(hours=1))
    moment = datetime(2025, 7, 1, 10, 0, 0, 123_999, tzinfo=lisbon_summer)

    text = format_iso_millis(moment)

    assert text == "2025-07-01T09:00:00.123Z"
    assert parse_iso_millis(text) == to_utc_millis(moment)
    assert format_iso_millis(T0) < format_iso_millis(T0 + timedelta(milliseconds=1))
    with pytest.raises(ValueError):
        to_utc_millis(datetime(2025, 1, 1))  # naive


def test_the_backends_say_which_variable_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CONVERSATIONS_TABLE"):
        conversation_index(StorageSettings.model_validate({"STORAGE_BACKEND": "aws"}))
    with pytest.raises(SettingsError, match="MEMORY_ID"):
        memory_events(StorageSettings.model_validate({"STORAGE_BACKEND": "aws"}))
    with pytest.raises(SettingsError, match="SQLITE_PATH"):
        memory_events(StorageSettings.model_validate({"STORAGE_BACKEND": "sqlite"}))


def test_the_backends_build_sqlite_for_the_local_stack(tmp_path: Path) -> None:
    settings = StorageSettings.model_validate(
        {"STORAGE_BACKEND": "sqlite", "SQLITE_PATH": str(tmp_path / "s" / "db.sqlite3")}
    )

    assert isinstance(conversation_index(settings), SqliteConversationIndex)
    assert isinstance(memory_events(settings), SqliteMemoryEvents)


def test_the_backends_create_no_aws_client_before_first_use() -> None:
    settings = StorageSettings.model_validate(
        {"STORAGE_BACKEND": "aws", "CONVERSATIONS_TABLE": "t", "MEMORY_ID": "agentarch_memory-abcdefghij"}
    )

    index = conversation_index(settings)
    memory = memory_events(settings)

    assert not index._clients.created  # type: ignore[attr-defined]
    assert not memory._clients.created  # type: ignore[attr-defined]


def test_the_listing_query_walks_the_index_in_order(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    with database.connect() as connection:
        plan = " ".join(
            str(row[-1])
            for row in connection.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM conversations WHERE actor_id = ? "
                "AND (updated_at, session_id) < (?, ?) ORDER BY updated_at DESC, session_id DESC LIMIT 21",
                ("a", "2025", "b"),
            )
        )
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]

    assert "conversations_by_actor" in plan
    assert "TEMP B-TREE" not in plan, "no sort step: a page costs the same at any size"
    assert mode == "wal"


def _write_turns(path: str, actor: str, worker: int, turns: int) -> None:
    database = SqliteDatabase(path)
    index, memory = SqliteConversationIndex(database), SqliteMemoryEvents(database)
    session = f"{worker:04d}-" + "s" * 40
    for n in range(turns):
        at = T0 + timedelta(seconds=n)
        start_or_resume(index, actor, session, "hello", at)
        memory.append_turn(actor, session, f"q{n}", f"a{n}", at)
        record_turn(index, actor, session, at)


def test_several_processes_and_threads_share_the_file(tmp_path: Path) -> None:
    # Given the local stack's shape: separate processes (and threads) writing the same file at once
    path, actor = str(tmp_path / "shared.sqlite3"), str(uuid.uuid4())
    SqliteDatabase(path)
    context = multiprocessing.get_context("spawn")  # separate interpreters, like the local stack
    processes = [context.Process(target=_write_turns, args=(path, actor, w, 40)) for w in range(4)]
    for process in processes:
        process.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda w: _write_turns(path, actor, w, 40), range(4, 8)))
    for process in processes:
        process.join(timeout=60)

    # Then nothing was lost and no writer saw "database is locked"
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    database = SqliteDatabase(path)
    conversations = list_conversations(SqliteConversationIndex(database), actor, 100, None).items
    assert len(conversations) == 8
    assert {c.message_count for c in conversations} == {80}
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 8 * 40 * 2


def test_a_throttled_or_failing_dynamodb_is_storage_unavailable_not_a_crash() -> None:
    import boto3
    from botocore.stub import Stubber

    from agentarch.adapters.aws_conversations import DynamoConversationIndex
    from agentarch.core.errors import StorageUnavailable
    from agentarch.services.conversations import ConversationNotFound

    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    index = DynamoConversationIndex("conversations", client=client)
    with Stubber(client) as stub:
        stub.add_client_error("query", "ProvisionedThroughputExceededException", http_status_code=400)
        stub.add_client_error("get_item", "InternalServerError", http_status_code=500)
        stub.add_response("get_item", {})  # an ordinary answer still means "no such item"

        with pytest.raises(StorageUnavailable):
            index.list_page("alice", 10, None)
        with pytest.raises(StorageUnavailable):
            index.get("alice", "s" + "1" * 40)
        with pytest.raises(ConversationNotFound):
            index.get("alice", "s" + "1" * 40)


def test_an_unusable_sqlite_file_is_storage_unavailable_and_a_deleted_one_comes_back(tmp_path: Path) -> None:
    from agentarch.core.errors import StorageUnavailable

    path = tmp_path / "db.sqlite3"
    index = SqliteConversationIndex(SqliteDatabase(path))
    start_or_resume(index, "alice", "s" + "1" * 40, "hello", T0)

    path.rename(tmp_path / "aside")
    path.mkdir()
    with pytest.raises(StorageUnavailable):
        list_conversations(index, "alice", 10, None)
    path.rmdir()
    (tmp_path / "aside").rename(path)
    assert len(list_conversations(index, "alice", 10, None).items) == 1

    for leftover in tmp_path.glob("db.sqlite3*"):
        leftover.unlink()
    assert list_conversations(index, "alice", 10, None).items == []
    path.write_bytes(b"")  # an empty file in its place: no schema, made again on first failure
    with pytest.raises(StorageUnavailable):
        list_conversations(index, "alice", 10, None)
    assert list_conversations(index, "alice", 10, None).items == []
