"""EventBridge's schedule invokes the conversations Lambda to sweep deleted conversations; API
requests never reach the sweep, and the schedule never reaches the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentarch.dev.sqlite import SqliteConversationIndex, SqliteDatabase, SqliteMemoryEvents
from agentarch.dev.testing import LocalLambdaContext, rest_api_event
from agentarch.handlers import conversations as handler
from agentarch.services.conversations import delete_conversation, start_or_resume

SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def test_a_scheduled_event_sweeps_old_tombstones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    index, memory = SqliteConversationIndex(database), SqliteMemoryEvents(database)
    monkeypatch.setattr(handler, "storage", lambda: (index, memory))
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    session = "s" + "5" * 40
    start_or_resume(index, "alice", session, "hello", long_ago)
    delete_conversation(index, memory, "alice", session, long_ago)
    memory.append_turn("alice", session, "left", "behind", long_ago)  # a turn that died mid-write

    swept = handler.lambda_handler(SCHEDULED, LocalLambdaContext(function_name="conversations"))  # type: ignore[arg-type]
    api = handler.lambda_handler(
        rest_api_event("GET", "/api/conversations", claims={"sub": "alice"}),
        LocalLambdaContext(function_name="conversations"),  # type: ignore[arg-type]
    )

    assert swept == {"swept": 1}
    assert memory.recent_messages("alice", session, 10) == []
    assert api["statusCode"] == 200 and "swept" not in api["body"]
