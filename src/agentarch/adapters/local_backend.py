"""The local stack's storage: both ports on one SQLite file per path (never deployed)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from agentarch.adapters.sqlite_store import (
    SqliteConversationIndex,
    SqliteDatabase,
    SqliteMemoryEvents,
    SqliteTicketStore,
)
from agentarch.config import Env, SettingsError, StorageSettings


@lru_cache(maxsize=8)
def _database(path: Path) -> SqliteDatabase:
    return SqliteDatabase(path)


def database(settings: StorageSettings) -> SqliteDatabase:
    """The SQLite file `SQLITE_PATH` names, opened once per process."""
    if settings.sqlite_path is None:
        raise SettingsError(f"{Env.SQLITE_PATH} is required when {Env.STORAGE_BACKEND}=sqlite")
    return _database(settings.sqlite_path.expanduser().resolve())


def conversation_index(settings: StorageSettings) -> SqliteConversationIndex:
    """The conversation index on the local file."""
    return SqliteConversationIndex(database(settings))


def memory_events(settings: StorageSettings) -> SqliteMemoryEvents:
    """The message store on the local file."""
    return SqliteMemoryEvents(database(settings))


def ticket_store(settings: StorageSettings) -> SqliteTicketStore:
    """The ticket store on the local file."""
    return SqliteTicketStore(database(settings))
