"""The audit trail: append-only, hash-chained records of every turn and every tool call.

Who writes what (see README, "Audit trail"):
- the **agent** writes tool-call records, where tools run: `tool_call_started` before a permitted
  call starts and `tool_call_finished` after it ends, or one `tool_call_decided` for a call that
  never runs (denied, waiting for approval, rejected) or the approval itself;
- the **chat Lambda** writes one `turn` record per turn, after the agent answered or failed.

Records are never updated: "completed" is a new record. Each record carries its session, a sequence
number in that session and the hash of the previous record of the session (the first links to
`GENESIS`), so a changed, removed or reordered record breaks the chain and `verify` names it. Two
writers append to one session: the store's conditional put refuses a taken sequence number and
`AuditTrail.append` re-reads the head and tries again.

Records hold digests, never conversation text: arguments and results are keyed HMAC-SHA256 digests
(`ArgumentKey`), so a small value (an amount, a yes/no) cannot be guessed back from its digest;
only arguments a tool declares non-sensitive are kept as they are.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator

from agentarch.core.contracts import AuditContext, AuditHead
from agentarch.core.decisions import Decision, Outcome, PolicyMode
from agentarch.core.errors import InvalidInput, StorageUnavailable
from agentarch.core.pagination import (
    CursorState,
    InvalidCursor,
    check_limit,
    decode_cursor,
    encode_cursor,
    scope_of,
)
from agentarch.core.timestamps import format_iso_millis, to_utc_millis, utc_now

GENESIS = "0" * 64  # what the first record of every session links to
APPEND_ATTEMPTS = 8  # two writers per session: a handful of collisions at most
DAY_SHARDS = 8  # partitions of one day in the time index (DynamoDB GSI `by_day`); a listing fans out
KNOWN_HEADS = 1024  # chain heads a writer remembers (sessions it wrote to lately)
# A listing by time alone with no `since` looks back this far (DynamoDB reads it day bucket by day bucket).
TIME_LISTING_LOOKBACK_DAYS = 366

Kind = Literal["turn", "tool_call", "lock"]
LOCKS_SESSION = "kill-switch"  # the chain the kill switch's lock and unlock records go to (services/locks.py)


class InvalidAuditQuery(InvalidInput):
    """A filter of an audit listing is wrong (a date, a decision, a window); the message names it."""


class AuditChainBusy(StorageUnavailable):
    """Another writer kept taking the session's next sequence number; nothing was written."""


class AuditEvent(BaseModel):
    """What a writer says happened; the trail adds the session position and the hashes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    time: datetime
    actor: str = Field(min_length=1, max_length=255)  # the user's `sub`
    groups: tuple[str, ...] = ()
    session: str = Field(min_length=1, max_length=256)
    request_id: str | None = None
    kind: Kind
    tool: str | None = None
    call_id: str | None = None
    decision: Decision | None = None
    policy_ids: tuple[str, ...] = ()
    mode: PolicyMode | None = None
    approval_id: str | None = None
    args_digest: str | None = None  # keyed HMAC-SHA256 of the canonical JSON of the arguments
    args_plain: dict[str, Any] = Field(default_factory=dict)  # only arguments declared non-sensitive
    result_size: int | None = None  # bytes of the canonical JSON of what the tool returned
    result_digest: str | None = None
    resource_ids: tuple[str, ...] = ()  # what the tool reports it touched
    latency_ms: int | None = None
    outcome: Outcome
    error: str | None = None  # a short code, never an exception's text
    input_tokens: int | None = None  # turns: the model's token counts
    output_tokens: int | None = None
    tool_calls: int | None = None  # turns: how many tool calls the agent made
    # Provenance facts of a tool call (agent/provenance.py): the arguments that did not trace to the
    # user, and the untrusted sources read before it ("ticket t-12, written by bob"). None on records
    # written before provenance existed, and left out of their hash then.
    untrusted_args: tuple[str, ...] | None = None
    read: tuple[str, ...] | None = None
    # The kill switch (kind `lock`): "lock" or "unlock", the lock's key (`user#<sub>`), the admin's reason.
    lock_action: Literal["lock", "unlock"] | None = None
    lock: str | None = Field(None, max_length=300)
    reason: str | None = Field(None, max_length=300)

    @field_validator("time")
    @classmethod
    def _utc_millis(cls, value: datetime) -> datetime:
        return to_utc_millis(value)

    @field_serializer("time")
    def _time_text(self, value: datetime) -> str:
        return format_iso_millis(value)


class AuditRecord(AuditEvent):
    """One stored record: the event, its place in the session's chain, and the chain's hashes."""

    seq: int = Field(ge=1)
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_at: int | None = None  # epoch seconds (DynamoDB TTL), the same for a whole session
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    def to_json(self) -> str:
        """The stored form: canonical JSON of every field."""
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, text: str) -> AuditRecord:
        """Parse the stored form (raises ValueError on anything else)."""
        return cls.model_validate_json(text)

    @property
    def day(self) -> str:
        """The UTC day bucket of the record (`2026-11-26`), for the time index."""
        return self.time_text[:10]

    @property
    def day_bucket(self) -> str:
        """The time index's partition key: the day and a shard of the session (`2026-11-26#5`), so a
        busy day spreads over `DAY_SHARDS` partitions instead of one hot one."""
        return f"{self.day}#{day_shard(self.session)}"

    @property
    def time_text(self) -> str:
        """`time` as stored: ISO-8601 UTC with milliseconds, so string order is time order."""
        return format_iso_millis(self.time)


def day_shard(session: str) -> int:
    """Which of the `DAY_SHARDS` partitions of a day a session's records go to (stable everywhere)."""
    return hashlib.sha256(session.encode("utf-8")).digest()[0] % DAY_SHARDS


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: the same bytes for the same value, whoever writes it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


_LATER_FIELDS = frozenset(
    {"untrusted_args", "read", "lock_action", "lock", "reason"}
)  # absent from older records: hashed only when set


def record_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of every field but `hash` itself."""
    body = {k: v for k, v in fields.items() if k != "hash" and not (k in _LATER_FIELDS and v is None)}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def seal(event: AuditEvent, seq: int, prev_hash: str, expires_at: int | None) -> AuditRecord:
    """The record for `event` at position `seq`, linked to `prev_hash`."""
    fields = {**event.model_dump(mode="json"), "seq": seq, "prev_hash": prev_hash, "expires_at": expires_at}
    return AuditRecord.model_validate({**fields, "hash": record_hash(fields)})


# --- the ports ---------------------------------------------------------------------------------


class ArgumentKey(Protocol):
    """A secret key that computes HMAC-SHA256 (a local key file, or a KMS HMAC key in AWS)."""

    def mac(self, message: bytes) -> bytes:
        """HMAC-SHA256 of `message` (at most 4,096 bytes: KMS GenerateMac's limit)."""
        ...


@dataclass(frozen=True)
class ChainHead:
    """The last record of a session: where the next one goes."""

    seq: int
    hash: str
    expires_at: int | None


@dataclass(frozen=True)
class StoredRecord:
    """A record as the store holds it, for `verify`: its key, its indexed copies and its text."""

    session: str
    seq: int
    indexed: dict[str, str]  # attributes the store indexes (actor, time, day) as stored beside the record
    text: str


@dataclass(frozen=True)
class AuditQuery:
    """Filters of a listing. A session lists in chain order; otherwise newest first."""

    actor: str | None = None
    session: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    decision: Decision | None = None
    untrusted: bool | None = None  # True: only calls with an argument that did not trace to the user
    read: str | None = None  # only calls made after reading a source whose label contains this

    def matches(self, record: AuditRecord) -> bool:
        """Whether a record read from the store passes the filters the key could not apply."""
        return (
            (self.untrusted is None or bool(record.untrusted_args) == self.untrusted)
            and (self.read is None or any(self.read.casefold() in r.casefold() for r in record.read or ()))
            and (self.actor is None or record.actor == self.actor)
            and (self.session is None or record.session == self.session)
            and (self.since is None or record.time >= self.since)
            and (self.until is None or record.time <= self.until)
            and (self.decision is None or record.decision == self.decision)
        )

    def scope(self) -> str:
        """Binds a cursor to these filters."""
        return scope_of(
            "audit",
            self.actor or "",
            self.session or "",
            format_iso_millis(self.since) if self.since else "",
            format_iso_millis(self.until) if self.until else "",
            self.decision or "",
            "" if self.untrusted is None else str(self.untrusted),
            self.read or "",
        )


class AuditCursor(CursorState):
    """Where a listing stopped: the last record read (and, for the time index, its day bucket)."""

    time: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    session: str | None = Field(default=None, min_length=1, max_length=256)
    seq: int | None = Field(default=None, ge=1)
    day: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class AuditPage:
    """A page of records; `read` is how many items the store returned for it (constant per page)."""

    items: list[AuditRecord]
    next_cursor: str | None
    read: int


class AuditStore(Protocol):
    """Where records live: DynamoDB in AWS, SQLite locally. Only `put` writes, and never overwrites."""

    def head(self, session: str) -> ChainHead | None:
        """The session's last record, or None for a new session."""
        ...

    def put(self, record: AuditRecord) -> bool:
        """Store a new record; False (and nothing written) when its (session, seq) is taken."""
        ...

    def list_page(
        self, query: AuditQuery, limit: int, cursor: AuditCursor | None
    ) -> tuple[list[AuditRecord], AuditCursor | None, int]:
        """Up to `limit` records in listing order (before the filters the key cannot apply), the
        position to go on from (None: nothing left), and how many items were read."""
        ...

    def stored(self, session: str | None = None) -> Iterator[StoredRecord]:
        """Every stored record (of one session) as it is stored, ordered by session and seq."""
        ...


# --- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCallHandle:
    """What `tool_call_started` returns and `tool_call_finished` takes."""

    started: AuditRecord
    monotonic_start: float = field(default_factory=time.monotonic)


class AuditTrail:
    """Appends records to session chains; computes the argument and result digests."""

    def __init__(
        self,
        store: AuditStore,
        key: ArgumentKey | None = None,
        *,
        retention_days: int | None = None,
        clock: Any = utc_now,
    ) -> None:
        self.store = store
        self._key = key
        self._retention_days = retention_days
        self._clock = clock
        # Heads this writer knows (it wrote them, or they came with the turn): no Query per record.
        self._heads: OrderedDict[str, ChainHead] = OrderedDict()
        self._heads_lock = threading.Lock()

    def known_head(self, session: str) -> ChainHead | None:
        """The session's head as this writer last saw it (None: it will read the store)."""
        with self._heads_lock:
            return self._heads.get(session)

    def hand_over(self, session: str, head: ChainHead | AuditHead | None) -> None:
        """Take the head another writer handed along with the turn."""
        if head is not None:
            self._remember(session, ChainHead(head.seq, head.hash, head.expires_at))

    def _remember(self, session: str, head: ChainHead) -> None:
        with self._heads_lock:
            self._heads[session] = head
            self._heads.move_to_end(session)
            while len(self._heads) > KNOWN_HEADS:
                self._heads.popitem(last=False)

    # -- the agent's side: tool calls --

    def tool_call_started(
        self,
        context: AuditContext,
        *,
        tool: str,
        call_id: str,
        args: Mapping[str, Any],
        non_sensitive: Iterable[str] = (),
        decision: Decision = Decision.ALLOW,
        policy_ids: Sequence[str] = (),
        mode: PolicyMode = PolicyMode.ENFORCE,
        approval_id: str | None = None,
        provenance: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    ) -> ToolCallHandle:
        """Record a permitted call before it starts. If this raises, the tool must not run.

        `provenance`: (the arguments that do not trace to the user, the untrusted sources read)."""
        event = self._tool_event(
            context,
            Outcome.STARTED,
            tool=tool,
            call_id=call_id,
            args=args,
            non_sensitive=non_sensitive,
            decision=decision,
            policy_ids=policy_ids,
            mode=mode,
            approval_id=approval_id,
            provenance=provenance,
        )
        return ToolCallHandle(self.append(event))

    def tool_call_finished(
        self,
        handle: ToolCallHandle,
        *,
        outcome: Literal["ok", "error"],
        result: Any = None,
        resource_ids: Sequence[str] = (),
        error: str | None = None,
        latency_ms: int | None = None,
    ) -> AuditRecord:
        """Record how a started call ended: a new record, the started one stays as it is."""
        started = handle.started
        if latency_ms is None:
            latency_ms = round((time.monotonic() - handle.monotonic_start) * 1000)
        size, digest = (None, None) if result is None else self.result_digest(result)
        event = AuditEvent.model_validate(
            {
                **started.model_dump(include=set(AuditEvent.model_fields)),
                "time": self._clock(),
                "outcome": outcome,
                "result_size": size,
                "result_digest": digest,
                "resource_ids": tuple(resource_ids),
                "latency_ms": latency_ms,
                "error": error,
            }
        )
        return self.append(event)

    def tool_call_decided(
        self,
        context: AuditContext,
        *,
        tool: str,
        call_id: str,
        args: Mapping[str, Any],
        outcome: Outcome,
        decision: Decision,
        non_sensitive: Iterable[str] = (),
        policy_ids: Sequence[str] = (),
        mode: PolicyMode = PolicyMode.ENFORCE,
        approval_id: str | None = None,
        provenance: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    ) -> AuditRecord:
        """Record a call that does not run now (denied, waiting for approval, rejected), or the
        user's approval of one (then `tool_call_started` follows when it runs)."""
        if Outcome(outcome).ran:
            raise ValueError(f"a call that ran is recorded by tool_call_started/finished, not {outcome}")
        return self.append(
            self._tool_event(
                context,
                outcome,
                tool=tool,
                call_id=call_id,
                args=args,
                non_sensitive=non_sensitive,
                decision=decision,
                policy_ids=policy_ids,
                mode=mode,
                approval_id=approval_id,
                provenance=provenance,
            )
        )

    # -- the chat Lambda's side: turns --

    def turn(
        self,
        context: AuditContext,
        *,
        outcome: Literal["ok", "error"],
        latency_ms: int,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        tool_calls: int | None = None,
        error: str | None = None,
    ) -> AuditRecord:
        """Record one turn, after the agent answered or failed."""
        return self.append(
            AuditEvent(
                time=self._clock(),
                actor=context.actor.id,
                groups=context.actor.groups,
                session=context.session,
                request_id=context.request_id,
                kind="turn",
                outcome=outcome,
                latency_ms=latency_ms,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                tool_calls=tool_calls,
                error=error,
            )
        )

    # -- the kill switch (services/locks.py) --

    def lock_changed(
        self, by: str, action: Literal["lock", "unlock"], key: str, reason: str = ""
    ) -> AuditRecord:
        """Record that admin `by` set or lifted the lock `key`, in the kill switch's own chain."""
        return self.append(
            AuditEvent(
                time=self._clock(),
                actor=by,
                session=LOCKS_SESSION,
                kind="lock",
                outcome=Outcome.OK,
                lock_action=action,
                lock=key,
                reason=reason or None,
            )
        )

    # -- the mechanism --

    def append(self, event: AuditEvent) -> AuditRecord:
        """Append `event` to its session's chain: read the head, put conditionally, retry on a race."""
        with self._heads_lock:
            head = self._heads.pop(event.session, None)
        for attempt in range(APPEND_ATTEMPTS):
            if head is None or attempt:
                head = self.store.head(event.session)  # unknown, or the known one was stale
            if head is None:
                record = seal(event, 1, GENESIS, self._expiry(event.time))
            else:
                record = seal(event, head.seq + 1, head.hash, head.expires_at)
            if self.store.put(record):
                self._remember(event.session, ChainHead(record.seq, record.hash, record.expires_at))
                return record
        raise AuditChainBusy(f"the audit chain of a session stayed busy for {APPEND_ATTEMPTS} attempts")

    def args_digest(
        self, args: Mapping[str, Any], non_sensitive: Iterable[str] = ()
    ) -> tuple[str, dict[str, Any]]:
        """The keyed digest of all arguments, and the raw values of the non-sensitive ones."""
        plain_names = set(non_sensitive)
        return self._digest(canonical_json(dict(args)).encode("utf-8")), {
            name: value for name, value in args.items() if name in plain_names
        }

    def result_digest(self, result: Any) -> tuple[int, str]:
        """Size in bytes and keyed digest of what a tool returned."""
        data = canonical_json(result).encode("utf-8")
        return len(data), self._digest(data)

    def _digest(self, data: bytes) -> str:
        if self._key is None:
            raise RuntimeError("this audit trail has no argument key (AUDIT_KEY_ID or AUDIT_KEY_FILE)")
        # HMAC over the SHA-256 of the data: KMS GenerateMac takes at most 4 KiB, arguments may be more.
        return self._key.mac(hashlib.sha256(data).digest()).hex()

    def _expiry(self, at: datetime) -> int | None:
        # One expiry for the whole session, from its first record: TTL removes a chain at once, never
        # its oldest records alone (which `verify` could not tell from tampering).
        if self._retention_days is None:
            return None
        return int((at + timedelta(days=self._retention_days)).timestamp())

    def _tool_event(
        self,
        context: AuditContext,
        outcome: Outcome,
        *,
        tool: str,
        call_id: str,
        args: Mapping[str, Any],
        non_sensitive: Iterable[str],
        decision: Decision,
        policy_ids: Sequence[str],
        mode: PolicyMode,
        approval_id: str | None,
        provenance: tuple[tuple[str, ...], tuple[str, ...]] | None,
    ) -> AuditEvent:
        digest, plain = self.args_digest(args, non_sensitive)
        return AuditEvent(
            time=self._clock(),
            actor=context.actor.id,
            groups=context.actor.groups,
            session=context.session,
            request_id=context.request_id,
            kind="tool_call",
            tool=tool,
            call_id=call_id,
            decision=decision,
            policy_ids=tuple(policy_ids),
            mode=mode,
            approval_id=approval_id,
            args_digest=digest,
            args_plain=plain,
            outcome=outcome,
            untrusted_args=provenance[0] if provenance is not None else None,
            read=provenance[1] if provenance is not None else None,
        )


# --- reading -----------------------------------------------------------------------------------


# What a filter's time may be: records are made after 1970, and a listing looks back a year from its
# `until` (the window must stay inside what datetime and the stored fixed-width times can hold).
EARLIEST_FILTER = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_FILTER = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)


def parse_time(text: str, name: str) -> datetime:
    """An ISO-8601 date or date-time for a filter (a naive one is UTC); `InvalidAuditQuery` otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidAuditQuery(f"{name}: not an ISO-8601 date or time, e.g. 2026-11-26T09:00:00Z") from None
    return _utc(moment, name)


def _utc(moment: datetime, name: str) -> datetime:
    """The moment in UTC (a naive one is UTC), within the range a filter may name."""
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset that moves the moment past year 1 or 9999
        moment = EARLIEST_FILTER - timedelta(days=1)
    if not EARLIEST_FILTER <= moment <= LATEST_FILTER:
        raise InvalidAuditQuery(
            f"{name}: must be between {EARLIEST_FILTER:%Y-%m-%d} and {LATEST_FILTER:%Y-%m-%d}"
        )
    return moment


def make_query(
    *,
    actor: str | None = None,
    session: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    decision: str | None = None,
    untrusted: bool | None = None,
    read: str | None = None,
) -> AuditQuery:
    """Check the filters of a listing; wrong values raise `InvalidAuditQuery` naming the filter."""
    start = parse_time(since, "since") if isinstance(since, str) else since and _utc(since, "since")
    end = parse_time(until, "until") if isinstance(until, str) else until and _utc(until, "until")
    if start is not None and end is not None and start > end:
        raise InvalidAuditQuery("since: must not be after until")
    if decision is not None and decision not in set(Decision):
        raise InvalidAuditQuery(f"decision: must be one of {', '.join(Decision)}")
    for name, value in (("actor", actor), ("session", session)):
        if value is not None and not 1 <= len(value) <= 256:
            raise InvalidAuditQuery(f"{name}: must be 1 to 256 characters")
    chosen = Decision(decision) if decision is not None else None
    if read is not None and not 1 <= len(read) <= 256:
        raise InvalidAuditQuery("read: must be 1 to 256 characters")
    return AuditQuery(
        actor=actor, session=session, since=start, until=end, decision=chosen, untrusted=untrusted, read=read
    )


def list_records(store: AuditStore, query: AuditQuery, limit: int, cursor: str | None) -> AuditPage:
    """One page of a listing: a constant number of items read, whatever the table holds.

    A listing by time alone looks back `TIME_LISTING_LOOKBACK_DAYS` unless `since` says otherwise.
    Filters the key cannot apply (the decision, an actor within a session) are applied to the items
    read, so a page may hold fewer than `limit` records; `next_cursor` is null only at the end.
    """
    check_limit(limit)
    scope = query.scope()
    after = decode_cursor(cursor, AuditCursor, scope) if cursor is not None else None
    if query.session is None and query.actor is None and query.since is None:
        until = query.until or utc_now()
        query = replace(query, since=until - timedelta(days=TIME_LISTING_LOOKBACK_DAYS), until=until)
    rows, position, read = store.list_page(query, limit, after)
    next_cursor = encode_cursor(position.model_copy(update={"scope": scope})) if position else None
    return AuditPage([r for r in rows if query.matches(r)], next_cursor, read)


def cursor_after(record: AuditRecord, day: str | None = None) -> AuditCursor:
    """The position just after `record` (scope is filled in by `list_records`)."""
    return AuditCursor(scope="0" * 16, time=record.time_text, session=record.session, seq=record.seq, day=day)


def days_between(newest: datetime, oldest: datetime) -> Iterator[str]:
    """UTC day buckets from `newest` back to `oldest`, inclusive."""
    day = newest.date()
    while day >= oldest.date():
        yield day.isoformat()
        day -= timedelta(days=1)


# --- verifying ---------------------------------------------------------------------------------


# What `verify` tells apart (`audit verify --format jsonl` and the admin view name them):
TAMPER_CLASSES = (
    "edited",  # a record changed (its hash, or an indexed copy, no longer matches), or unreadable
    "moved",  # a record stored under another session or seq than its own (moved or swapped)
    "removed",  # records missing in the middle of a chain
    "relinked",  # a record does not link to its predecessor (inserted, replaced or reordered)
    "rewritten",  # the chain differs from a signed head though its hashes were recomputed
    "truncated",  # newest records dropped after the notary signed them
    "session removed",  # a whole session gone after the notary signed it
    "overwritten",  # the notary saw a record modified (a stream MODIFY)
    "deleted",  # the notary saw a record removed (a stream REMOVE, not a TTL expiry)
    "checkpoint missing",  # a gap in the checkpoints' numbers
    "checkpoint forged",  # a checkpoint whose signature does not verify
    "checkpoint edited",  # a checkpoint unreadable, moved, relinked, or not matching what it signs
    "unmigrated",  # not tampering: a time index written before sharding (`agentarch audit migrate`)
)


@dataclass(frozen=True)
class Problem:
    """One broken place in a chain, and its tamper class (one of `TAMPER_CLASSES`)."""

    session: str
    seq: int
    message: str
    tamper: str = "edited"


@dataclass
class Verification:
    """What `verify` found."""

    sessions: int = 0
    records: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """No problem found."""
        return not self.problems


def verify(stored: Iterable[StoredRecord], now: float | None = None) -> Verification:
    """Recompute every chain: a changed, removed or reordered record is a `Problem` naming it.

    A record is checked against its own hash, its key (session, seq), the indexed copies the store
    keeps beside it, and its predecessor's hash. A missing record shows as a gap in the sequence.
    A session whose expiry has passed may be partly removed by DynamoDB TTL: its gaps are expected.
    What a chain cannot show on its own is the loss of a session's newest records.
    """
    result = Verification()
    now = time.time() if now is None else now
    current: str | None = None
    previous: AuditRecord | None = None
    expected_seq = 1
    for item in stored:
        if item.session != current:
            current, previous, expected_seq = item.session, None, 1
            result.sessions += 1
        result.records += 1
        problems = result.problems
        try:
            record = AuditRecord.from_json(item.text)
            fields = json.loads(item.text)
        except (ValueError, ValidationError):
            problems.append(Problem(item.session, item.seq, "the record cannot be read (changed by hand?)"))
            previous, expected_seq = None, item.seq + 1
            continue
        expired = record.expires_at is not None and record.expires_at <= now
        if record_hash(fields) != record.hash or fields != record.model_dump(mode="json"):
            problems.append(
                Problem(item.session, item.seq, "the record was changed: its hash does not match")
            )
        if (record.session, record.seq) != (item.session, item.seq):
            problems.append(
                Problem(
                    item.session,
                    item.seq,
                    f"stored at seq {item.seq} but the record is seq {record.seq} of session "
                    f"{record.session} (moved or swapped)",
                    "moved",
                )
            )
        if item.indexed.get("day") == record.day:  # the unsharded form, from before the index was sharded
            problems.append(
                Problem(
                    item.session,
                    item.seq,
                    "the stored day is unsharded (written before sharding: `agentarch audit migrate`)",
                    "unmigrated",
                )
            )
        for name, value in (("actor", record.actor), ("time", record.time_text), ("day", record.day_bucket)):
            if name in item.indexed and item.indexed[name] != value and item.indexed[name] != record.day:
                problems.append(
                    Problem(item.session, item.seq, f"the stored {name} differs from the record's (changed)")
                )
        if item.seq > expected_seq and not expired:
            missing = f"{expected_seq}" if item.seq == expected_seq + 1 else f"{expected_seq}..{item.seq - 1}"
            problems.append(
                Problem(
                    item.session, item.seq, f"record(s) {missing} before it are missing (removed)", "removed"
                )
            )
        if previous is not None and item.seq == previous.seq + 1 and record.prev_hash != previous.hash:
            problems.append(
                Problem(
                    item.session,
                    item.seq,
                    f"does not link to seq {previous.seq} (that record was changed, replaced or reordered)",
                    "relinked",
                )
            )
        if item.seq == 1 and record.prev_hash != GENESIS:
            problems.append(
                Problem(
                    item.session, item.seq, "the first record does not link to the genesis value", "relinked"
                )
            )
        previous, expected_seq = record, item.seq + 1
    return result


__all__ = [
    "GENESIS",
    "TAMPER_CLASSES",
    "ArgumentKey",
    "AuditCursor",
    "AuditEvent",
    "AuditPage",
    "AuditQuery",
    "AuditRecord",
    "AuditStore",
    "AuditTrail",
    "ChainHead",
    "InvalidAuditQuery",
    "InvalidCursor",
    "Problem",
    "StoredRecord",
    "ToolCallHandle",
    "Verification",
    "list_records",
    "make_query",
    "verify",
]
