"""Every storage port, once per adapter: DynamoDB + AgentCore Memory under moto, and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from agentarch.adapters.aws_conversations import DynamoConversationIndex
from agentarch.adapters.aws_memory import AgentCoreMemoryEvents
from agentarch.adapters.sqlite_store import SqliteConversationIndex, SqliteDatabase, SqliteMemoryEvents
from agentarch.services.conversations import ConversationIndex
from agentarch.services.memory import MemoryEvents
from tests.contract.aws_doubles import (
    MEMORY_ID,
    REGION,
    TABLE_NAME,
    agentcore_list_events_like_the_service,
    create_conversations_table,
)


@dataclass
class Storage:
    """Both ports of one backend, plus the raw clients the AWS tests inspect."""

    backend: str
    index: ConversationIndex
    memory: MemoryEvents
    clients: dict[str, Any]


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _aws_storage() -> Iterator[Storage]:
    with mock_aws(), agentcore_list_events_like_the_service():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        agentcore = boto3.client("bedrock-agentcore", region_name=REGION)
        create_conversations_table(dynamodb)
        yield Storage(
            "aws",
            DynamoConversationIndex(TABLE_NAME, client=dynamodb),
            AgentCoreMemoryEvents(MEMORY_ID, client=agentcore),
            {"dynamodb": dynamodb, "bedrock-agentcore": agentcore},
        )


def _sqlite_storage(path: Path) -> Iterator[Storage]:
    database = SqliteDatabase(path)
    yield Storage("sqlite", SqliteConversationIndex(database), SqliteMemoryEvents(database), {})


@pytest.fixture(params=["aws", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None) -> Iterator[Storage]:
    if request.param == "aws":
        yield from _aws_storage()
    else:
        yield from _sqlite_storage(tmp_path / "state" / "agentarch.sqlite3")


@pytest.fixture
def aws_storage(aws_credentials: None) -> Iterator[Storage]:
    """The AWS adapters only, for what only they have (API call counts)."""
    yield from _aws_storage()


@pytest.fixture
def index(storage: Storage) -> ConversationIndex:
    return storage.index


@pytest.fixture
def memory(storage: Storage) -> MemoryEvents:
    return storage.memory
