"""The local stack's storage: both ports on one SQLite file per path (never deployed)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from agentarch.adapters.sqlite_store import (
    SqliteConversationIndex,
    SqliteDatabase,
    SqliteIdempotencyStore,
    SqliteMemoryEvents,
    SqliteQuotaStore,
    SqliteTicketStore,
)
from agentarch.config import Env, GovernanceSettings, SettingsError, StorageSettings


@lru_cache(maxsize=8)
def _database(path: Path) -> SqliteDatabase:
    return SqliteDatabase(path)


def database(settings: StorageSettings | GovernanceSettings) -> SqliteDatabase:
    """The SQLite file `SQLITE_PATH` names, opened once per process."""
    if settings.sqlite_path is None:
        backend = Env.STORAGE_BACKEND if isinstance(settings, StorageSettings) else Env.GOVERNANCE_BACKEND
        raise SettingsError(f"{Env.SQLITE_PATH} is required when {backend}=sqlite")
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


def quota_store(settings: GovernanceSettings) -> SqliteQuotaStore:
    """Daily quota counters on the local file."""
    return SqliteQuotaStore(database(settings))


def idempotency_store(settings: GovernanceSettings) -> SqliteIdempotencyStore:
    """Powertools idempotency records on the local file."""
    return SqliteIdempotencyStore(database(settings))
