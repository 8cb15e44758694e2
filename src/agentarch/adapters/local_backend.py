"""The local stack's storage: both ports on one SQLite file per path (never deployed)."""

from __future__ import annotations

import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from agentarch.adapters.sqlite_store import (
    SqliteAuditStore,
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


def audit_store(settings: StorageSettings) -> SqliteAuditStore:
    """The audit trail on the local file."""
    return SqliteAuditStore(database(settings))


class FileArgumentKey:
    """`ArgumentKey` from a 0600 file of 32 random bytes, made atomically on first use."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._key: bytes | None = None

    def mac(self, message: bytes) -> bytes:
        if self._key is None:
            self._key = self._load()
        return hmac.new(self._key, message, "sha256").digest()

    def _load(self) -> bytes:
        if not self._path.exists():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            draft = self._path.with_name(f".{self._path.name}.{os.getpid()}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(32))
            try:
                os.link(draft, self._path)  # atomic: two processes starting at once agree on one key
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        key = self._path.read_bytes()
        if len(key) < 32:
            raise SettingsError(f"{Env.AUDIT_KEY_FILE} must hold at least 32 bytes")
        return key


def argument_key(settings: StorageSettings) -> FileArgumentKey:
    """The local HMAC key file `AUDIT_KEY_FILE` names."""
    if settings.audit_key_file is None:
        raise SettingsError(f"{Env.AUDIT_KEY_FILE} is required for argument digests")
    return FileArgumentKey(settings.audit_key_file.expanduser())


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
