"""Every storage port, once per adapter: DynamoDB + AgentCore Memory under moto, and SQLite.

`aws_credentials` comes from the agentarch pytest plugin (agentarch.dev.testing.plugin).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentarch.dev.sqlite import SqliteConversationIndex, SqliteDatabase, SqliteMemoryEvents
from agentarch.dev.testing.aws import moto_storage
from agentarch.services.conversations import ConversationIndex
from agentarch.services.memory import MemoryEvents


@dataclass
class Storage:
    """Both ports of one backend, plus the raw clients the AWS tests inspect."""

    backend: str
    index: ConversationIndex
    memory: MemoryEvents
    clients: dict[str, Any]


def _aws_storage() -> Iterator[Storage]:
    # The plugin's moto storage (agentarch.dev.testing.aws), as teams get it from `agentarch_aws`.
    with moto_storage() as aws:
        yield Storage(
            "aws", aws.index, aws.memory, {"dynamodb": aws.dynamodb, "bedrock-agentcore": aws.agentcore}
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
