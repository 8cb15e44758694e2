"""Build the storage adapters that `STORAGE_BACKEND` names.

Adapters are imported and their boto3 clients created only when first needed, so the SQLite path
never imports boto3 and a Lambda cold start does not pay for a client it has not used yet.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from agentarch.config import Env, SettingsError, StorageSettings

if TYPE_CHECKING:
    from agentarch.adapters.sqlite_store import SqliteDatabase
    from agentarch.services.conversations import ConversationIndex
    from agentarch.services.memory import MemoryEvents


def _require(value: str | None, name: Env, backend: str) -> str:
    if not value:
        raise SettingsError(f"{name} is required when {Env.STORAGE_BACKEND}={backend}")
    return value


@lru_cache(maxsize=8)
def _sqlite(path: Path) -> SqliteDatabase:
    from agentarch.adapters.sqlite_store import SqliteDatabase

    return SqliteDatabase(path)


def _sqlite_database(settings: StorageSettings) -> SqliteDatabase:
    if settings.sqlite_path is None:
        raise SettingsError(f"{Env.SQLITE_PATH} is required when {Env.STORAGE_BACKEND}=sqlite")
    return _sqlite(settings.sqlite_path.expanduser().resolve())


def conversation_index(settings: StorageSettings) -> ConversationIndex:
    """The conversation index for this backend (DynamoDB table, or the SQLite file)."""
    if settings.storage_backend == "sqlite":
        from agentarch.adapters.sqlite_store import SqliteConversationIndex

        return SqliteConversationIndex(_sqlite_database(settings))
    table = _require(settings.conversations_table, Env.CONVERSATIONS_TABLE, "aws")
    from agentarch.adapters.aws_conversations import DynamoConversationIndex

    return DynamoConversationIndex(
        table, region=settings.aws_region, expiry_days=settings.conversation_expiry_days
    )


def memory_events(settings: StorageSettings) -> MemoryEvents:
    """The message store for this backend (AgentCore Memory, or the SQLite file)."""
    if settings.storage_backend == "sqlite":
        from agentarch.adapters.sqlite_store import SqliteMemoryEvents

        return SqliteMemoryEvents(_sqlite_database(settings))
    memory_id = _require(settings.memory_id, Env.MEMORY_ID, "aws")
    from agentarch.adapters.aws_memory import AgentCoreMemoryEvents

    return AgentCoreMemoryEvents(
        memory_id, region=settings.aws_region, delete_deadline_seconds=settings.delete_deadline_seconds
    )
