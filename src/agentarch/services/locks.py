"""The kill switch: an admin locks a user, a session or everything, and every model call, tool call and
new turn of that scope is refused within a second, on every runtime.

A lock is one row of a small table (SQLite locally, DynamoDB in AWS), keyed `<scope>#<target>`:
`user#<sub>`, `session#<id>` or `all#*`. Nothing is redeployed: the chat service reads the table before
a new turn, and the agent before each model call and each tool call (`LockGate`, which caches what it
read for at most `GATE_CACHE_SECONDS`, so a lock is seen within that much time plus one read).
Each lock and unlock is recorded in the audit trail (`audit.LOCKS_SESSION` chain); in AWS the sessions
in flight of the scope are also stopped (`StopRuntimeSession`, `adapters/agent_runtime_sessions.py`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agentarch.core.errors import InvalidInput
from agentarch.core.timestamps import utc_now

if TYPE_CHECKING:
    from agentarch.services.audit import AuditStore, AuditTrail

GATE_CACHE_SECONDS = 1.0  # how stale a gate's answer may be: a lock is seen within about this long
GATE_CACHE_ENTRIES = 4096  # (user, session) pairs a gate remembers
# A session counts as in flight when the trail holds a record of it this recent (AgentCore Runtime keeps an
# idle session's microVM for 15 minutes): a new lock stops those sessions, in AWS.
IN_FLIGHT_WINDOW = timedelta(minutes=15)
IN_FLIGHT_MAX_RECORDS = 2000  # records read to find them: a lock answers in about a second
ALL_TARGET = "*"
REASON_MAX_CHARS = 200


class LockScope(StrEnum):
    """What a lock covers."""

    USER = "user"
    SESSION = "session"
    ALL = "all"


class Lock(BaseModel):
    """One lock: its scope and target, who set it, when and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: LockScope
    target: str = Field(min_length=1, max_length=256)
    reason: str = Field("", max_length=REASON_MAX_CHARS)
    locked_by: str = Field(min_length=1, max_length=255)
    locked_at: datetime

    @property
    def key(self) -> str:
        """The row's key: `user#<sub>`, `session#<id>`, `all#*`."""
        return lock_key(self.scope, self.target)

    @property
    def what(self) -> str:
        """What is paused, in the user's words (never the reason, which is the admin's)."""
        return {
            LockScope.USER: "your account",
            LockScope.SESSION: "this conversation",
            LockScope.ALL: "the assistant",
        }[self.scope]

    def sentence(self) -> str:
        """What the user reads when a lock stops their turn in flight."""
        return f"I stopped here: an administrator has paused {self.what}. Nothing more was done."


class InvalidLock(InvalidInput):
    """A lock's scope or target is wrong (the message names it)."""


class Locked(Exception):
    """A lock covers this actor or session: nothing runs (the chat service answers 403 `locked`)."""

    def __init__(self, lock: Lock) -> None:
        super().__init__(f"an administrator has paused {lock.what}; nothing was run")
        self.lock = lock


class LockStore(Protocol):
    """The locks table. Raises `StorageUnavailable` when it cannot answer."""

    def put(self, lock: Lock) -> None:
        """Set (or replace) a lock."""
        ...

    def delete(self, key: str) -> bool:
        """Remove a lock; whether there was one."""
        ...

    def get_many(self, keys: Sequence[str]) -> list[Lock]:
        """The locks among `keys` (a strongly consistent read)."""
        ...

    def list_all(self) -> list[Lock]:
        """Every lock, oldest first."""
        ...


class SessionStopper(Protocol):
    """Ends a runtime session in flight (AWS: `StopRuntimeSession`); locally nothing needs stopping."""

    def stop(self, session_ids: Iterable[str]) -> list[str]:
        """Stop the sessions; answers those the runtime stopped."""
        ...


def lock_key(scope: LockScope, target: str) -> str:
    """The key of a lock of `scope` on `target`."""
    return f"{scope.value}#{target}"


def keys_for(actor_id: str | None, session_id: str | None) -> tuple[str, ...]:
    """The keys any of which locks this actor's turn in this session."""
    keys = [lock_key(LockScope.ALL, ALL_TARGET)]
    if actor_id:
        keys.append(lock_key(LockScope.USER, actor_id))
    if session_id:
        keys.append(lock_key(LockScope.SESSION, session_id))
    return tuple(keys)


def make_lock(scope: LockScope | str, target: str | None, by: str, reason: str = "") -> Lock:
    """A lock from what an admin typed; `InvalidLock` when the scope and target do not fit together."""
    try:
        scope = LockScope(scope)
    except ValueError:
        raise InvalidLock("scope must be user, session or all") from None
    if scope is LockScope.ALL:
        target = ALL_TARGET
    elif not target or not target.strip() or len(target) > 256:
        raise InvalidLock(f"a {scope.value} lock needs a {scope.value} id (1-256 characters)")
    if len(reason) > REASON_MAX_CHARS:
        raise InvalidLock(f"reason: at most {REASON_MAX_CHARS} characters")
    return Lock(scope=scope, target=target, reason=reason, locked_by=by, locked_at=utc_now())


class LockGate:
    """Answers "is this actor or session locked?" from the store, caching each answer at most `ttl` s."""

    def __init__(
        self,
        store: LockStore,
        ttl: float = GATE_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._seen: OrderedDict[tuple[str, ...], tuple[float, Lock | None]] = OrderedDict()
        self._guard = threading.Lock()

    def lock_on(self, actor_id: str | None, session_id: str | None) -> Lock | None:
        """The lock that covers this actor or session (the broadest first), or None."""
        keys = keys_for(actor_id, session_id)
        now = self._clock()
        with self._guard:
            cached = self._seen.get(keys)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        found = {lock.key: lock for lock in self._store.get_many(keys)}
        lock = next((found[k] for k in keys if k in found), None)
        with self._guard:
            self._seen[keys] = (now, lock)
            self._seen.move_to_end(keys)
            while len(self._seen) > GATE_CACHE_ENTRIES:
                self._seen.popitem(last=False)
        return lock

    def check(self, actor_id: str | None, session_id: str | None) -> None:
        """Raise `Locked` when a lock covers this actor or session."""
        lock = self.lock_on(actor_id, session_id)
        if lock is not None:
            raise Locked(lock)


def set_lock(
    store: LockStore,
    lock: Lock,
    trail: AuditTrail | None = None,
    stopper: SessionStopper | None = None,
    in_flight: Callable[[Lock], Iterable[str]] | None = None,
) -> list[str]:
    """Set a lock, record it, and stop the scope's sessions in flight where a runtime can; answers the
    sessions stopped. The row is written first: a failed audit write or stop still leaves it locked."""
    store.put(lock)
    stopped: list[str] = []
    if stopper is not None:
        sessions = list(in_flight(lock)) if in_flight is not None else []
        if lock.scope is LockScope.SESSION:
            sessions = [lock.target, *(s for s in sessions if s != lock.target)]
        if sessions:
            stopped = stopper.stop(sessions)
    if trail is not None:
        trail.lock_changed(lock.locked_by, "lock", lock.key, lock.reason)
    return stopped


def remove_lock(
    store: LockStore, scope: LockScope | str, target: str | None, by: str, trail: AuditTrail | None = None
) -> bool:
    """Lift a lock and record it; whether there was one."""
    key = make_lock(scope, target, by).key
    removed = store.delete(key)
    if trail is not None:
        trail.lock_changed(by, "unlock", key, "" if removed else "no such lock")
    return removed


def sessions_in_flight(store: AuditStore, lock: Lock, now: datetime | None = None) -> list[str]:
    """The sessions of the lock's scope that the audit trail saw lately (`IN_FLIGHT_WINDOW`): for a user
    lock that user's, for `all` everyone's; a session lock names its own. Best effort: a session whose
    first turn has written nothing yet is stopped by the lock table read at its next step."""
    if lock.scope is LockScope.SESSION:
        return [lock.target]
    from agentarch.core.pagination import MAX_PAGE_SIZE
    from agentarch.services import audit

    since = (now or utc_now()) - IN_FLIGHT_WINDOW
    query = audit.make_query(actor=lock.target if lock.scope is LockScope.USER else None, since=since)
    found: dict[str, None] = {}
    cursor, read = None, 0
    while read < IN_FLIGHT_MAX_RECORDS:
        page = audit.list_records(store, query, MAX_PAGE_SIZE, cursor)
        read += len(page.items) or 1
        found |= dict.fromkeys(r.session for r in page.items if r.session != audit.LOCKS_SESSION)
        cursor = page.next_cursor
        if cursor is None:
            break
    return list(found)
