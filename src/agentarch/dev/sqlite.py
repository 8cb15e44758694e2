"""Every storage port on one SQLite file, for the local stack (never deployed), and its backend.

Several processes share the file at once (the local Lambda process writes conversations while the
agent process writes messages), so: WAL journal, a busy timeout instead of "database is locked",
one short-lived connection per operation (no connection crosses a thread or a fork), and
`BEGIN IMMEDIATE` around every read-then-write so two writers serialise instead of deadlocking.
A file that is missing, unreadable or unwritable raises `StorageUnavailable` (a 503), and a file
deleted while the stack runs is made afresh on the next operation: no restart needed.

Listing is keyset pagination over an index that matches the ORDER BY exactly, so a page costs one
index seek plus `limit` rows whether the actor has a hundred conversations or ten thousand.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord
from pydantic import Field

from agentarch.adapters import wiring
from agentarch.adapters.wiring import NotaryReading
from agentarch.config import AuditApiSettings, Env, GovernanceSettings, SettingsError, StorageSettings
from agentarch.core.contracts import PendingApproval, ToolCall
from agentarch.core.errors import StorageUnavailable
from agentarch.core.pagination import CursorState, Page, check_limit, decode_cursor, encode_cursor, scope_of
from agentarch.core.timestamps import format_iso_millis, parse_iso_millis
from agentarch.services.audit import (
    AuditCursor,
    AuditQuery,
    AuditRecord,
    ChainHead,
    StoredRecord,
    cursor_after,
)
from agentarch.services.conversations import (
    ApprovalNotPending,
    Conversation,
    ConversationNotFound,
    decode_listing_cursor,
    listing_page,
)
from agentarch.services.locks import Lock
from agentarch.services.memory import Message, check_turn, newest_first_to_page, tool_call_text
from agentarch.services.quotas import DailyLimits, Usage
from agentarch.services.tickets import SEARCH_LIMIT, Ticket, TicketComment, matches

BUSY_TIMEOUT_SECONDS = 30.0
DATABASE_FILE = "agentarch.db"  # in the local stack's state directory: SQLITE_PATH
BACKEND_NAME = "sqlite"  # the STORAGE_BACKEND / GOVERNANCE_BACKEND value that picks this backend

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    session_id    TEXT PRIMARY KEY,
    actor_id      TEXT NOT NULL,
    title         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0,
    tool_counts   TEXT NOT NULL DEFAULT '{}',  -- JSON {tool: calls that ran}
    token_total   INTEGER NOT NULL DEFAULT 0,  -- model tokens of the recorded turns
    agent_seconds REAL NOT NULL DEFAULT 0,  -- the agent's wall time of the recorded turns
    pending_approval TEXT,  -- JSON PendingApproval, or NULL
    deleted_at    TEXT,  -- a tombstone: deleted, the session id still owned (NULL: live)
    purged        INTEGER NOT NULL DEFAULT 0,  -- 1 once every message of a tombstone is gone
    swept         INTEGER NOT NULL DEFAULT 0  -- 1 once the sweep went over the tombstone
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversations_by_actor
    ON conversations (actor_id, updated_at DESC, session_id DESC);
CREATE TABLE IF NOT EXISTS messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id   TEXT NOT NULL,
    session_id TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    tool_calls TEXT  -- JSON list of the tools an answer used (assistant rows)
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages (actor_id, session_id, seq);
-- The audit trail: append-only (the adapter only INSERTs), one chain per session.
CREATE TABLE IF NOT EXISTS audit_records (
    session_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    actor_id    TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    record      TEXT NOT NULL,  -- the record's canonical JSON, hashes included
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit_records (actor_id, recorded_at, session_id, seq);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_records (recorded_at, session_id, seq);
-- What the local notary reads (agentarch.dev.notary): every append in order (the counterpart of the
-- DynamoDB stream's INSERT), and every UPDATE or DELETE of a record (its MODIFY and REMOVE), which
-- the adapter never does: whoever does it is tampering, and the notary signs that it happened.
CREATE TABLE IF NOT EXISTS audit_appends (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS audit_tampering (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('modified', 'removed')),
    old_hash   TEXT,
    new_hash   TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_appended AFTER INSERT ON audit_records BEGIN
    INSERT INTO audit_appends (session_id, seq, hash, expires_at)
    VALUES (NEW.session_id, NEW.seq, json_extract(NEW.record, '$.hash'), json_extract(NEW.record, '$.expires_at'));
END;
CREATE TRIGGER IF NOT EXISTS audit_modified AFTER UPDATE ON audit_records BEGIN
    INSERT INTO audit_tampering (session_id, seq, change, old_hash, new_hash)
    VALUES (OLD.session_id, OLD.seq, 'modified', json_extract(OLD.record, '$.hash'),
            json_extract(NEW.record, '$.hash'));
END;
CREATE TRIGGER IF NOT EXISTS audit_removed AFTER DELETE ON audit_records BEGIN
    INSERT INTO audit_tampering (session_id, seq, change, old_hash)
    VALUES (OLD.session_id, OLD.seq, 'removed', json_extract(OLD.record, '$.hash'));
END;
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id  TEXT PRIMARY KEY,
    actor_id   TEXT NOT NULL,
    author_name TEXT,  -- the author's user name, for people to read (NULL: not known)
    session_id TEXT NOT NULL,
    title      TEXT NOT NULL,
    severity   TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ticket_comments (
    ticket_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    author_id  TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quota_usage (
    actor_id   TEXT NOT NULL,
    day        TEXT NOT NULL,  -- UTC, YYYY-MM-DD
    requests   INTEGER NOT NULL DEFAULT 0,
    tokens     INTEGER NOT NULL DEFAULT 0,
    reserved   INTEGER NOT NULL DEFAULT 0,  -- tokens held by turns in flight
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (actor_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS locks (
    lock_key   TEXT PRIMARY KEY,  -- user#<sub>, session#<id>, all#*
    lock       TEXT NOT NULL      -- the Lock as JSON
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency (
    id                  TEXT PRIMARY KEY,  -- Powertools' hashed key (function and actor-scoped data)
    status              TEXT NOT NULL,
    expiration          INTEGER,           -- epoch seconds
    in_progress_expiry  INTEGER,           -- epoch milliseconds
    payload_hash        TEXT,
    response_data       TEXT
) WITHOUT ROWID;
"""

# Full statements, not assembled strings: nothing user-supplied can ever reach SQL text.
_INSERT_CONVERSATION = (
    "INSERT INTO conversations (session_id, actor_id, title, created_at, updated_at, message_count) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING"
)
_SELECT_CONVERSATION = (
    "SELECT session_id, actor_id, title, created_at, updated_at, message_count, tool_counts, pending_approval, "
    "token_total, agent_seconds "
    "FROM conversations "
    "WHERE session_id = ?"
)
_SELECT_OWN_CONVERSATION = (
    "SELECT session_id, actor_id, title, created_at, updated_at, message_count, tool_counts, pending_approval, "
    "token_total, agent_seconds "
    "FROM conversations "
    "WHERE session_id = ? AND actor_id = ? AND deleted_at IS NULL"
)
_RECORD_TURN = (
    "UPDATE conversations SET message_count = message_count + ?, updated_at = ?, tool_counts = ?, "
    "pending_approval = ?, token_total = token_total + ?, agent_seconds = agent_seconds + ? "
    "WHERE session_id = ? AND actor_id = ? "
    "RETURNING session_id, actor_id, title, created_at, updated_at, message_count, tool_counts, "
    "pending_approval, token_total, agent_seconds"
)
_FIND_APPROVAL = (
    "SELECT pending_approval FROM conversations WHERE session_id = ? AND actor_id = ? AND deleted_at IS NULL "
    "AND json_extract(pending_approval, '$.id') = ? AND json_extract(pending_approval, '$.requested_at') >= ?"
)
_CLEAR_APPROVAL = "UPDATE conversations SET pending_approval = NULL WHERE session_id = ?"
_OWNER = "SELECT actor_id, deleted_at, purged FROM conversations WHERE session_id = ?"
_TOMBSTONE = (
    "UPDATE conversations SET deleted_at = COALESCE(deleted_at, ?), title = '', tool_counts = '{}', "
    "pending_approval = NULL WHERE session_id = ?"
)
_PURGED = (
    "UPDATE conversations SET purged = 1 WHERE session_id = ? AND actor_id = ? AND deleted_at IS NOT NULL"
)
_FIRST_PAGE = (
    "SELECT session_id, actor_id, title, created_at, updated_at, message_count, tool_counts, pending_approval, "
    "token_total, agent_seconds "
    "FROM conversations "
    "WHERE actor_id = ? AND deleted_at IS NULL ORDER BY updated_at DESC, session_id DESC LIMIT ?"
)
_NEXT_PAGE = (
    "SELECT session_id, actor_id, title, created_at, updated_at, message_count, tool_counts, pending_approval, "
    "token_total, agent_seconds "
    "FROM conversations "
    "WHERE actor_id = ? AND deleted_at IS NULL AND (updated_at, session_id) < (?, ?) "
    "ORDER BY updated_at DESC, session_id DESC LIMIT ?"
)
_RECENT_MESSAGES = (
    "SELECT seq, role, text, created_at, tool_calls FROM messages WHERE actor_id = ? AND session_id = ? "
    "ORDER BY seq DESC LIMIT ?"
)
_MESSAGES_BEFORE = (
    "SELECT seq, role, text, created_at, tool_calls FROM messages "
    "WHERE actor_id = ? AND session_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?"
)
_TO_SWEEP = (
    "SELECT actor_id, session_id FROM conversations WHERE deleted_at IS NOT NULL AND swept = 0 "
    "AND deleted_at < ? ORDER BY deleted_at LIMIT ?"
)
_SWEPT = "UPDATE conversations SET swept = 1 WHERE session_id = ? AND actor_id = ? AND deleted_at IS NOT NULL"


_AUDIT_EARLIEST, _AUDIT_LATEST = "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"
_AUDIT_HEAD = "SELECT record FROM audit_records WHERE session_id = ? ORDER BY seq DESC LIMIT 1"
_AUDIT_INSERT = (
    "INSERT INTO audit_records (session_id, seq, actor_id, recorded_at, record) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (session_id, seq) DO NOTHING"
)
_AUDIT_OF_SESSION = "SELECT record FROM audit_records WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
_AUDIT_OF_ACTOR = (
    "SELECT record FROM audit_records WHERE actor_id = ? AND recorded_at BETWEEN ? AND ? "
    "AND (recorded_at, session_id, seq) < (?, ?, ?) "
    "ORDER BY recorded_at DESC, session_id DESC, seq DESC LIMIT ?"
)
_AUDIT_BY_TIME = (
    "SELECT record FROM audit_records WHERE recorded_at BETWEEN ? AND ? "
    "AND (recorded_at, session_id, seq) < (?, ?, ?) "
    "ORDER BY recorded_at DESC, session_id DESC, seq DESC LIMIT ?"
)
_AUDIT_STORED = (
    "SELECT session_id, seq, actor_id, recorded_at, record FROM audit_records ORDER BY session_id, seq"
)
_AUDIT_STORED_SESSION = (
    "SELECT session_id, seq, actor_id, recorded_at, record FROM audit_records "
    "WHERE session_id = ? ORDER BY seq"
)


class SqliteDatabase:
    """The file, its schema, and how to get a connection to it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._initialise()

    def _initialise(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            for leftover in (
                self.path.with_name(self.path.name + "-wal"),
                self.path.with_name(self.path.name + "-shm"),
            ):
                leftover.unlink(missing_ok=True)  # a deleted file's journal must not replay into a new one
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            # WAL is a property of the file: set once, every later connection inherits it.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(messages)")}
            if "tool_calls" not in columns:  # a file written before answers kept their tools
                connection.execute("ALTER TABLE messages ADD COLUMN tool_calls TEXT")
            columns = {row[1] for row in connection.execute("PRAGMA table_info(conversations)")}
            if "tool_counts" not in columns:  # a file written before tool policies counted calls
                connection.execute(
                    "ALTER TABLE conversations ADD COLUMN tool_counts TEXT NOT NULL DEFAULT '{}'"
                )
                connection.execute("ALTER TABLE conversations ADD COLUMN pending_approval TEXT")
            columns = {row[1] for row in connection.execute("PRAGMA table_info(conversations)")}
            if "deleted_at" not in columns:  # a file written before deletes left tombstones
                connection.execute("ALTER TABLE conversations ADD COLUMN deleted_at TEXT")
                connection.execute("ALTER TABLE conversations ADD COLUMN purged INTEGER NOT NULL DEFAULT 0")
            if "swept" not in columns:  # a file written before the sweep
                connection.execute("ALTER TABLE conversations ADD COLUMN swept INTEGER NOT NULL DEFAULT 0")
            if "token_total" not in columns:  # a file written before the per-session token and time caps
                connection.execute(
                    "ALTER TABLE conversations ADD COLUMN token_total INTEGER NOT NULL DEFAULT 0"
                )
                connection.execute(
                    "ALTER TABLE conversations ADD COLUMN agent_seconds REAL NOT NULL DEFAULT 0"
                )
            columns = {row[1] for row in connection.execute("PRAGMA table_info(tickets)")}
            if "author_name" not in columns:  # a file written before tickets kept their author's name
                connection.execute("ALTER TABLE tickets ADD COLUMN author_name TEXT")
            columns = {row[1] for row in connection.execute("PRAGMA table_info(quota_usage)")}
            if "reserved" not in columns:  # a file written before turns reserved their tokens
                connection.execute("ALTER TABLE quota_usage ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0")
        finally:
            connection.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh autocommit connection, closed on exit; store failures become `StorageUnavailable`."""
        try:
            if not self.path.exists():
                self._initialise()
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StorageUnavailable(f"the database cannot be opened ({type(exc).__name__})") from exc
        try:
            connection.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
            yield connection
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError):
                raise  # a bug in a statement, not a store that is unavailable
            if "no such table" in str(exc):  # an empty file put in its place: make the schema again
                with suppress(sqlite3.Error, OSError):
                    self._initialise()
            raise StorageUnavailable(f"the database is unusable ({type(exc).__name__})") from exc
        finally:
            connection.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside `BEGIN IMMEDIATE`: committed on success, rolled back on error."""
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")


class _MessageCursor(CursorState):
    before_seq: int = Field(gt=0)


def _conversation(row: tuple[str, str, str, str, str, int, str, str | None, int, float]) -> Conversation:
    (
        session_id,
        actor_id,
        title,
        created_at,
        updated_at,
        message_count,
        tool_counts,
        pending,
        tokens,
        seconds,
    ) = row
    return Conversation(
        actor_id=actor_id,
        session_id=session_id,
        title=title,
        created_at=parse_iso_millis(created_at),
        updated_at=parse_iso_millis(updated_at),
        message_count=message_count,
        tool_counts=json.loads(tool_counts or "{}"),
        token_total=tokens or 0,
        agent_seconds=seconds or 0.0,
        pending_approval=PendingApproval.model_validate_json(pending) if pending else None,
    )


class SqliteConversationIndex:
    """`ConversationIndex` on SQLite."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def create_if_absent(self, conversation: Conversation) -> Conversation:
        with self._db.write() as connection:
            connection.execute(
                _INSERT_CONVERSATION,
                (
                    conversation.session_id,
                    conversation.actor_id,
                    conversation.title,
                    format_iso_millis(conversation.created_at),
                    format_iso_millis(conversation.updated_at),
                    conversation.message_count,
                ),
            )
            owner, deleted_at, _ = connection.execute(_OWNER, (conversation.session_id,)).fetchone()
            if owner != conversation.actor_id or deleted_at is not None:  # another's, or deleted: not here
                raise ConversationNotFound(conversation.session_id)
            row = connection.execute(_SELECT_CONVERSATION, (conversation.session_id,)).fetchone()
        return _conversation(row)

    def get(self, actor_id: str, session_id: str) -> Conversation:
        with self._db.connect() as connection:
            row = connection.execute(_SELECT_OWN_CONVERSATION, (session_id, actor_id)).fetchone()
        if row is None:
            raise ConversationNotFound(session_id)
        return _conversation(row)

    def record_turn(
        self,
        actor_id: str,
        session_id: str,
        messages_added: int,
        at: datetime,
        tools_run: Mapping[str, int] | None = None,
        pending: PendingApproval | None = None,
        *,
        tokens: int = 0,
        seconds: float = 0.0,
    ) -> Conversation:
        with self._db.write() as connection:  # read and write the counts in one transaction
            row = connection.execute(_SELECT_OWN_CONVERSATION, (session_id, actor_id)).fetchone()
            if row is None:
                raise ConversationNotFound(session_id)
            counts = Counter(json.loads(row[6] or "{}")) + Counter(tools_run or {})
            row = connection.execute(
                _RECORD_TURN,
                (
                    messages_added,
                    format_iso_millis(at),
                    json.dumps(dict(counts), sort_keys=True),
                    _approval_json(pending),
                    tokens,
                    seconds,
                    session_id,
                    actor_id,
                ),
            ).fetchone()
        return _conversation(row)

    def take_approval(
        self, actor_id: str, session_id: str, approval_id: str, not_before: datetime
    ) -> PendingApproval:
        with self._db.write() as connection:  # found and cleared in one transaction: taken once
            row = connection.execute(
                _FIND_APPROVAL, (session_id, actor_id, approval_id, format_iso_millis(not_before))
            ).fetchone()
            if row is None:
                raise ApprovalNotPending(approval_id)
            connection.execute(_CLEAR_APPROVAL, (session_id,))
        return PendingApproval.model_validate_json(row[0])

    def list_page(self, actor_id: str, limit: int, cursor: str | None) -> Page[Conversation]:
        check_limit(limit)
        params: tuple[object, ...]
        if cursor is None:
            query, params = _FIRST_PAGE, (actor_id, limit + 1)
        else:
            after = decode_listing_cursor(cursor, actor_id)
            query, params = _NEXT_PAGE, (actor_id, after.updated_at, after.session_id, limit + 1)
        with self._db.connect() as connection:
            rows = connection.execute(query, params).fetchall()
        return listing_page(actor_id, [_conversation(row) for row in rows], limit)

    def delete(self, actor_id: str, session_id: str, *, only_if_empty: bool = False) -> None:
        with self._db.write() as connection:
            row = connection.execute(
                "SELECT message_count FROM conversations WHERE session_id = ? AND actor_id = ? "
                "AND deleted_at IS NULL",
                (session_id, actor_id),
            ).fetchone()
            if row is None:
                raise ConversationNotFound(session_id)
            if only_if_empty and row[0] > 0:
                return
            connection.execute("DELETE FROM conversations WHERE session_id = ?", (session_id,))

    def tombstone(self, actor_id: str, session_id: str, at: datetime) -> None:
        with self._db.write() as connection:
            row = connection.execute(_OWNER, (session_id,)).fetchone()
            if row is None or row[0] != actor_id or row[2]:
                raise ConversationNotFound(session_id)
            connection.execute(_TOMBSTONE, (format_iso_millis(at), session_id))

    def mark_purged(self, actor_id: str, session_id: str) -> None:
        with self._db.write() as connection:
            connection.execute(_PURGED, (session_id, actor_id))

    def tombstones_to_sweep(self, deleted_before: datetime, limit: int) -> list[tuple[str, str]]:
        with self._db.connect() as connection:
            rows = connection.execute(_TO_SWEEP, (format_iso_millis(deleted_before), limit)).fetchall()
        return [(actor, session) for actor, session in rows]

    def mark_swept(self, actor_id: str, session_id: str) -> None:
        with self._db.write() as connection:
            connection.execute(_SWEPT, (session_id, actor_id))

    def count_call(self, actor_id: str, session_id: str, tool: str, seen: int) -> bool:
        with self._db.write() as connection:  # compared and set in one transaction
            row = connection.execute(_SELECT_OWN_CONVERSATION, (session_id, actor_id)).fetchone()
            if row is None:
                raise ConversationNotFound(session_id)
            counts = Counter(json.loads(row[6] or "{}"))
            if counts[tool] != seen:
                return False
            counts[tool] += 1
            connection.execute(
                "UPDATE conversations SET tool_counts = ? WHERE session_id = ?",
                (json.dumps(dict(counts), sort_keys=True), session_id),
            )
        return True


def _approval_json(pending: PendingApproval | None) -> str | None:
    if pending is None:
        return None
    # requested_at as the index compares it: ISO-8601 UTC milliseconds, so string order is time order
    return json.dumps(
        pending.model_dump(mode="json") | {"requested_at": format_iso_millis(pending.requested_at)}
    )


class SqliteTicketStore:
    """`TicketStore` on the local file: a ticket per id, made once."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def create_once(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """Insert unless the id exists; the stored ticket and whether it is new."""
        with self._db.write() as connection:
            inserted = connection.execute(
                "INSERT OR IGNORE INTO tickets (ticket_id, actor_id, session_id, title, severity, body, "
                "created_at, author_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ticket.ticket_id,
                    ticket.actor_id,
                    ticket.session_id,
                    ticket.title,
                    ticket.severity,
                    ticket.body,
                    format_iso_millis(ticket.created_at),
                    ticket.author_name,
                ),
            ).rowcount
        stored = self._get(ticket.ticket_id)
        assert stored is not None
        return stored, inserted == 1

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[Ticket]:
        """Every ticket matching the query, newest first (`matches` decides, as in DynamoDB)."""
        with self._db.connect() as connection:
            ids = [
                row[0] for row in connection.execute("SELECT ticket_id FROM tickets ORDER BY created_at DESC")
            ]
        found = [t for t in (self._get(i) for i in ids) if t is not None and matches(t, query)]
        return found[:limit]

    def add_comment(self, ticket_id: str, comment: TicketComment) -> Ticket | None:
        """Append a comment, numbered after the ticket's last one."""
        with self._db.write() as connection:
            if (
                connection.execute("SELECT 1 FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
                is None
            ):
                return None
            connection.execute(
                "INSERT INTO ticket_comments (ticket_id, seq, author_id, text, created_at) VALUES "
                "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_comments WHERE ticket_id = ?), ?, ?, ?)",
                (
                    ticket_id,
                    ticket_id,
                    comment.author_id,
                    comment.text,
                    format_iso_millis(comment.created_at),
                ),
            )
        return self._get(ticket_id)

    def _get(self, ticket_id: str) -> Ticket | None:
        with self._db.connect() as connection:
            row = connection.execute(
                "SELECT ticket_id, actor_id, session_id, title, severity, body, created_at, author_name "
                "FROM tickets WHERE ticket_id = ?",
                (ticket_id,),
            ).fetchone()
            if row is None:
                return None
            comments = connection.execute(
                "SELECT author_id, text, created_at FROM ticket_comments WHERE ticket_id = ? ORDER BY seq",
                (ticket_id,),
            ).fetchall()
        return Ticket.model_validate(
            dict(zip(("ticket_id", "actor_id", "session_id", "title", "severity", "body"), row, strict=False))
            | {
                "created_at": parse_iso_millis(row[6]),
                "author_name": row[7],
                "comments": [
                    TicketComment(author_id=a, text=t, created_at=parse_iso_millis(c)) for a, t, c in comments
                ],
            }
        )


class SqliteMemoryEvents:
    """`MemoryEvents` on SQLite: one row per message, a turn's two rows written in one transaction."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def append_turn(
        self,
        actor_id: str,
        session_id: str,
        user_text: str,
        assistant_text: str,
        at: datetime,
        tool_calls: Sequence[ToolCall] = (),
    ) -> None:
        check_turn(user_text, assistant_text)
        created_at = format_iso_millis(at)
        tools = json.dumps([json.loads(tool_call_text(call)) for call in tool_calls]) if tool_calls else None
        with self._db.write() as connection:
            connection.executemany(
                "INSERT INTO messages (actor_id, session_id, role, text, created_at, tool_calls) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (actor_id, session_id, "user", user_text, created_at, None),
                    (actor_id, session_id, "assistant", assistant_text, created_at, tools),
                ],
            )

    def recent_messages(self, actor_id: str, session_id: str, turns_k: int) -> list[Message]:
        check_limit(turns_k)
        with self._db.connect() as connection:
            rows = connection.execute(_RECENT_MESSAGES, (actor_id, session_id, turns_k * 2)).fetchall()
        return [_message(row) for row in reversed(rows)]

    def list_messages(self, actor_id: str, session_id: str, limit: int, cursor: str | None) -> Page[Message]:
        check_limit(limit)
        scope = scope_of("messages", actor_id, session_id)
        params: tuple[object, ...]
        if cursor is None:
            query, params = _RECENT_MESSAGES, (actor_id, session_id, limit + 1)
        else:
            before = decode_cursor(cursor, _MessageCursor, scope).before_seq
            query, params = _MESSAGES_BEFORE, (actor_id, session_id, before, limit + 1)
        with self._db.connect() as connection:
            rows = connection.execute(query, params).fetchall()
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(_MessageCursor(scope=scope, before_seq=page[-1][0]))
        return newest_first_to_page([_message(row) for row in page], next_cursor)

    def delete_session(self, actor_id: str, session_id: str) -> None:
        with self._db.write() as connection:
            connection.execute(
                "DELETE FROM messages WHERE actor_id = ? AND session_id = ?", (actor_id, session_id)
            )


def _message(row: tuple[int, str, str, str, str | None]) -> Message:
    _, role, text, created_at, tools = row
    return Message.model_validate(
        {
            "role": role,
            "text": text,
            "created_at": parse_iso_millis(created_at),
            "tool_calls": json.loads(tools) if tools else (),
        }
    )


_READ_QUOTA = "SELECT requests, tokens, reserved FROM quota_usage WHERE actor_id = ? AND day = ?"
_ADMIT = (
    "INSERT INTO quota_usage (actor_id, day, requests, tokens, reserved, expires_at) VALUES (?, ?, 1, 0, ?, ?) "
    "ON CONFLICT (actor_id, day) DO UPDATE SET requests = requests + 1, reserved = reserved + excluded.reserved, "
    "expires_at = excluded.expires_at"
)
_SETTLE = (
    "INSERT INTO quota_usage (actor_id, day, requests, tokens, reserved, expires_at) VALUES (?, ?, 0, ?, 0, ?) "
    "ON CONFLICT (actor_id, day) DO UPDATE SET tokens = tokens + excluded.tokens, "
    "reserved = MAX(0, reserved - ?), expires_at = excluded.expires_at"
)


class SqliteQuotaStore:
    """`QuotaStore` on SQLite: the check and the increment in one `BEGIN IMMEDIATE` transaction."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def admit(
        self, actor_id: str, day: str, limits: DailyLimits, expires_at: int, budget: int
    ) -> tuple[int | None, Usage]:
        with self._db.write() as connection:
            row = connection.execute(_READ_QUOTA, (actor_id, day)).fetchone()
            used = Usage(requests=row[0], tokens=row[1], reserved=row[2]) if row else Usage()
            left = limits.tokens_per_day - used.tokens - used.reserved
            if used.requests >= limits.requests_per_day or left <= 0:
                return None, used
            reserved = min(budget, left)
            connection.execute(_ADMIT, (actor_id, day, reserved, expires_at))
        return reserved, used.model_copy(
            update={"requests": used.requests + 1, "reserved": used.reserved + reserved}
        )

    def settle(self, actor_id: str, day: str, reserved: int, used: int, expires_at: int) -> None:
        with self._db.write() as connection:
            connection.execute(_SETTLE, (actor_id, day, used, expires_at, reserved))

    def usage(self, actor_id: str, day: str) -> Usage:
        with self._db.connect() as connection:
            row = connection.execute(_READ_QUOTA, (actor_id, day)).fetchone()
        return Usage(requests=row[0], tokens=row[1], reserved=row[2]) if row else Usage()


_SELECT_RECORD = (
    "SELECT id, status, expiration, in_progress_expiry, payload_hash, response_data FROM idempotency "
    "WHERE id = ?"
)
_UPSERT_RECORD = (
    "INSERT OR REPLACE INTO idempotency "
    "(id, status, expiration, in_progress_expiry, payload_hash, response_data) VALUES (?, ?, ?, ?, ?, ?)"
)
_UPDATE_RECORD = "UPDATE idempotency SET status = ?, expiration = ?, response_data = ? WHERE id = ?"
_DELETE_RECORD = "DELETE FROM idempotency WHERE id = ?"


def _record(row: tuple[str, str, int | None, int | None, str | None, str | None]) -> DataRecord:
    key, status, expiration, in_progress_expiry, payload_hash, response_data = row
    return DataRecord(
        idempotency_key=key,
        status=status,
        expiry_timestamp=expiration,
        in_progress_expiry_timestamp=in_progress_expiry,
        payload_hash=payload_hash or "",
        response_data=response_data or "",
    )


class SqliteIdempotencyStore(BasePersistenceLayer):
    """Powertools' idempotency persistence on SQLite, with the DynamoDB layer's semantics.

    A record may be (re)placed only if none exists, it has expired, or it is in progress past its
    in-progress expiry (the Lambda that held it died): the same three conditions as
    `DynamoDBPersistenceLayer._put_record`, checked and written in one transaction. A refusal carries
    the stored record, so Powertools answers from it (or checks the payload) without a second read.
    """

    def __init__(self, database: SqliteDatabase) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._db = database

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._db.connect() as connection:
            row = connection.execute(_SELECT_RECORD, (idempotency_key,)).fetchone()
        if row is None:
            raise IdempotencyItemNotFoundError
        return _record(row)

    def _put_record(self, data_record: DataRecord) -> None:
        now = time.time()
        with self._db.write() as connection:
            row = connection.execute(_SELECT_RECORD, (data_record.idempotency_key,)).fetchone()
            if row is not None:
                stored = _record(row)
                expired = stored.expiry_timestamp is not None and stored.expiry_timestamp < now
                abandoned = (
                    stored._status == STATUS_CONSTANTS["INPROGRESS"]
                    and stored.in_progress_expiry_timestamp is not None
                    and stored.in_progress_expiry_timestamp < now * 1000
                )
                if not (expired or abandoned):
                    self._validate_payload(data_payload=data_record, stored_data_record=stored)
                    raise IdempotencyItemAlreadyExistsError(old_data_record=stored)
            connection.execute(
                _UPSERT_RECORD,
                (
                    data_record.idempotency_key,
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.in_progress_expiry_timestamp,
                    data_record.payload_hash or None,
                    None,
                ),
            )

    def _update_record(self, data_record: DataRecord) -> None:
        with self._db.write() as connection:
            connection.execute(
                _UPDATE_RECORD,
                (
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.response_data,
                    data_record.idempotency_key,
                ),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._db.write() as connection:
            connection.execute(_DELETE_RECORD, (data_record.idempotency_key,))


class SqliteAuditStore:
    """`AuditStore` on SQLite: INSERT only; the primary key (session_id, seq) refuses a taken place."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def head(self, session: str) -> ChainHead | None:
        with self._db.connect() as connection:
            row = connection.execute(_AUDIT_HEAD, (session,)).fetchone()
        if row is None:
            return None
        record = AuditRecord.from_json(row[0])
        return ChainHead(record.seq, record.hash, record.expires_at)

    def put(self, record: AuditRecord) -> bool:
        with self._db.write() as connection:
            inserted = connection.execute(
                _AUDIT_INSERT, (record.session, record.seq, record.actor, record.time_text, record.to_json())
            ).rowcount
        return bool(inserted)

    def list_page(
        self, query: AuditQuery, limit: int, cursor: AuditCursor | None
    ) -> tuple[list[AuditRecord], AuditCursor | None, int]:
        since = format_iso_millis(query.since) if query.since else _AUDIT_EARLIEST
        until = format_iso_millis(query.until) if query.until else _AUDIT_LATEST
        # Newest first: start just after the latest possible position, or after the cursor's.
        position = (cursor.time, cursor.session, cursor.seq) if cursor and cursor.time else ("~", "~", 0)
        statement: str
        params: tuple[object, ...]
        if query.session is not None:
            statement, params = _AUDIT_OF_SESSION, (query.session, cursor.seq if cursor and cursor.seq else 0)
        elif query.actor is not None:
            statement, params = _AUDIT_OF_ACTOR, (query.actor, since, until, *position)
        else:
            statement, params = _AUDIT_BY_TIME, (since, until, *position)
        with self._db.connect() as connection:
            rows = connection.execute(statement, (*params, limit + 1)).fetchall()
        records = [AuditRecord.from_json(row[0]) for row in rows]
        more = cursor_after(records[limit - 1]) if len(records) > limit else None
        return records[:limit], more, len(records)

    def stored(self, session: str | None = None) -> Iterator[StoredRecord]:
        # Streams: rows come off the cursor as they are read, so memory stays flat at any size.
        with self._db.connect() as connection:
            rows = (
                connection.execute(_AUDIT_STORED)
                if session is None
                else connection.execute(_AUDIT_STORED_SESSION, (session,))
            )
            for session_id, seq, actor, recorded_at, text in rows:
                yield StoredRecord(session_id, seq, {"actor": actor, "time": recorded_at}, text)


# --- the backend the local stack registers -------------------------------------------------------


_PUT_LOCK = "INSERT OR REPLACE INTO locks (lock_key, lock) VALUES (?, ?)"
_DELETE_LOCK = "DELETE FROM locks WHERE lock_key = ?"
_GET_LOCK = "SELECT lock FROM locks WHERE lock_key = ?"
_ALL_LOCKS = "SELECT lock FROM locks"


class SqliteLockStore:
    """`LockStore` on SQLite: one row per lock."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def put(self, lock: Lock) -> None:
        with self._db.write() as connection:
            connection.execute(_PUT_LOCK, (lock.key, lock.model_dump_json()))

    def delete(self, key: str) -> bool:
        with self._db.write() as connection:
            return connection.execute(_DELETE_LOCK, (key,)).rowcount > 0

    def get_many(self, keys: Sequence[str]) -> list[Lock]:
        with self._db.connect() as connection:
            rows = [connection.execute(_GET_LOCK, (key,)).fetchone() for key in keys]
        return [Lock.model_validate_json(row[0]) for row in rows if row]

    def list_all(self) -> list[Lock]:
        with self._db.connect() as connection:
            rows = connection.execute(_ALL_LOCKS).fetchall()
        return sorted((Lock.model_validate_json(row[0]) for row in rows), key=lambda lock: lock.locked_at)


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


@lru_cache(maxsize=8)
def _database(path: Path) -> SqliteDatabase:
    return SqliteDatabase(path)


def database(settings: StorageSettings | GovernanceSettings) -> SqliteDatabase:
    """The SQLite file `SQLITE_PATH` names, opened once per process."""
    if settings.sqlite_path is None:
        chooser = Env.STORAGE_BACKEND if isinstance(settings, StorageSettings) else Env.GOVERNANCE_BACKEND
        raise SettingsError(f"{Env.SQLITE_PATH} is required when {chooser}={BACKEND_NAME}")
    return _database(settings.sqlite_path.expanduser().resolve())


class SqliteBackend:
    """Every port on the file `SQLITE_PATH` names (`agentarch.adapters.wiring.Backend`)."""

    def conversation_index(self, settings: StorageSettings) -> SqliteConversationIndex:
        return SqliteConversationIndex(database(settings))

    def memory_events(self, settings: StorageSettings) -> SqliteMemoryEvents:
        return SqliteMemoryEvents(database(settings))

    def ticket_store(self, settings: StorageSettings) -> SqliteTicketStore:
        return SqliteTicketStore(database(settings))

    def audit_store(self, settings: StorageSettings) -> SqliteAuditStore:
        return SqliteAuditStore(database(settings))

    def argument_key(self, settings: StorageSettings) -> FileArgumentKey | None:
        """The local HMAC key file `AUDIT_KEY_FILE` names; None without one (the chat Lambda's case)."""
        if settings.audit_key_file is None:
            return None
        return FileArgumentKey(settings.audit_key_file.expanduser())

    def notary_checkpoints(self, settings: AuditApiSettings) -> NotaryReading | None:
        """The local notary's write-once directory `NOTARY_DIR` names, and its public key file."""
        if settings.notary_dir is None:
            return None
        from agentarch.dev.notary import reading

        return reading(settings.notary_dir.expanduser())

    def quota_store(self, settings: GovernanceSettings) -> SqliteQuotaStore:
        return SqliteQuotaStore(database(settings))

    def idempotency_store(self, settings: GovernanceSettings) -> SqliteIdempotencyStore:
        return SqliteIdempotencyStore(database(settings))

    def lock_store(self, settings: StorageSettings) -> SqliteLockStore:
        return SqliteLockStore(database(settings))


def register() -> None:
    """Make `STORAGE_BACKEND=sqlite` / `GOVERNANCE_BACKEND=sqlite` mean this file in this process."""
    wiring.register_backend(BACKEND_NAME, SqliteBackend())
