"""The audit trail contract, run against DynamoDB (moto) and SQLite alike."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.core.pagination import InvalidCursor
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
from agentarch.dev.testing.aws import moto_audit_store
from agentarch.services.audit import (
    DAY_SHARDS,
    GENESIS,
    AuditQuery,
    AuditRecord,
    AuditStore,
    AuditTrail,
    InvalidAuditQuery,
    list_records,
    make_query,
    verify,
)

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
KEY = b"k" * 32


class FixedKey:
    def mac(self, message: bytes) -> bytes:
        return hmac.new(KEY, message, "sha256").digest()


class Clock:
    """Each record one second after the previous one, from T0."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["aws", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None) -> Iterator[AuditStore]:
    if request.param == "aws":
        with moto_audit_store() as (dynamo, _):
            yield dynamo
    else:
        yield SqliteAuditStore(SqliteDatabase(tmp_path / "agentarch.sqlite3"))


def trail_on(store: AuditStore, clock: Clock | None = None) -> AuditTrail:
    return AuditTrail(store, FixedKey(), clock=clock or Clock())


def every_page(store: AuditStore, query: AuditQuery, limit: int) -> list[AuditRecord]:
    records, cursor = [], None
    for _ in range(1000):
        page = list_records(store, query, limit, cursor)
        # A time listing on DynamoDB reads each of a day's shards (DAY_SHARDS partitions, no hot one).
        assert page.read <= (limit + 1) * (DAY_SHARDS if query.session is None and query.actor is None else 1)
        records += page.items
        cursor = page.next_cursor
        if cursor is None:
            return records
    raise AssertionError("pagination does not terminate")


def test_a_tool_call_leaves_a_started_and_a_finished_record_chained_in_its_session(store: AuditStore) -> None:
    trail = trail_on(store)
    context = AuditContext(
        actor=Actor(id="alice", groups=("staff",)), session="s-" + uuid.uuid4().hex, request_id="r1"
    )

    handle = trail.tool_call_started(
        context,
        tool="create_ticket",
        call_id="c1",
        args={"title": "VPN down", "priority": 2},
        non_sensitive={"priority"},
        policy_ids=("allow-staff-tickets",),
    )
    done = trail.tool_call_finished(handle, outcome="ok", result={"ticket": "T-9"}, resource_ids=("T-9",))

    records = every_page(store, make_query(session=context.session), 10)
    assert [(r.seq, r.outcome) for r in records] == [(1, "started"), (2, "ok")]
    started, finished = records
    assert started.prev_hash == GENESIS and finished.prev_hash == started.hash
    assert finished == done
    assert (started.actor, started.groups, started.request_id, started.decision, started.mode) == (
        "alice",
        ("staff",),
        "r1",
        "allow",
        "ENFORCE",
    )
    assert started.args_plain == {"priority": 2}  # the title is only in the digest
    assert "VPN down" not in started.to_json()
    assert finished.args_digest == started.args_digest and finished.resource_ids == ("T-9",)
    assert finished.result_size == len(b'{"ticket":"T-9"}') and finished.result_digest
    assert finished.latency_ms is not None and finished.latency_ms >= 0


def test_argument_digests_are_keyed_so_small_values_cannot_be_guessed(store: AuditStore) -> None:
    trail = trail_on(store)
    digest, _ = trail.args_digest({"approve": True})
    unkeyed = hashlib.sha256(b'{"approve":true}').hexdigest()
    assert digest != unkeyed
    other_key = AuditTrail(
        store, type("K", (), {"mac": lambda self, m: hmac.new(b"x" * 32, m, "sha256").digest()})()
    )
    assert other_key.args_digest({"approve": True})[0] != digest
    assert trail.args_digest({"b": 1, "a": 2})[0] == trail.args_digest({"a": 2, "b": 1})[0]  # canonical


def test_a_call_that_never_runs_leaves_one_record_with_its_decision(store: AuditStore) -> None:
    trail = trail_on(store)
    context = AuditContext(actor=Actor(id="bob"), session="s-" + uuid.uuid4().hex)

    trail.tool_call_decided(
        context,
        tool="create_ticket",
        call_id="c1",
        args={"title": "x"},
        outcome="denied",
        decision="deny",
        policy_ids=("forbid-guests",),
    )

    (record,) = every_page(store, make_query(session=context.session), 10)
    assert (record.outcome, record.decision, record.policy_ids) == ("denied", "deny", ("forbid-guests",))


def test_two_writers_share_one_session_chain(store: AuditStore) -> None:
    # Given two trails (the agent, the chat Lambda) writing to the same store and session
    agent, lambda_ = trail_on(store), trail_on(store, Clock(T0 + timedelta(minutes=1)))
    context = AuditContext(actor=Actor(id="alice"), session="s-" + uuid.uuid4().hex)

    handle = agent.tool_call_started(context, tool="calculator", call_id="c1", args={"expression": "1+1"})
    agent.tool_call_finished(handle, outcome="ok", result="2")
    lambda_.turn(context, outcome="ok", latency_ms=120, input_tokens=10, output_tokens=3, tool_calls=1)

    records = every_page(store, make_query(session=context.session), 10)
    assert [r.kind for r in records] == ["tool_call", "tool_call", "turn"]
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[2].prev_hash == records[1].hash
    assert (records[2].input_tokens, records[2].output_tokens, records[2].tool_calls) == (10, 3, 1)
    assert verify(store.stored()).clean


def test_a_taken_place_is_refused_and_the_writer_retries_after_the_new_head(store: AuditStore) -> None:
    trail = trail_on(store)
    context = AuditContext(actor=Actor(id="alice"), session="s-" + uuid.uuid4().hex)
    first = trail.turn(context, outcome="ok", latency_ms=1)

    # A second writer that read the head before `first` was written would put seq 1 again: refused.
    assert store.put(first.model_copy(update={"actor": "mallory"})) is False

    class StaleOnce:
        """A store whose first head read is stale, as when another writer appended meanwhile."""

        def __init__(self) -> None:
            self.stale = True

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def head(self, session: str) -> object:
            if self.stale:
                self.stale = False
                return None
            return store.head(session)

    second = AuditTrail(StaleOnce(), clock=Clock(T0 + timedelta(hours=1))).turn(  # type: ignore[arg-type]
        context, outcome="error", latency_ms=5, error="agent_timeout"
    )
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert [r.actor for r in every_page(store, make_query(session=context.session), 10)] == ["alice", "alice"]


def test_records_are_found_by_actor_newest_first_across_sessions(store: AuditStore) -> None:
    clock = Clock()
    trail = trail_on(store, clock)
    sessions = ["s-a-" + uuid.uuid4().hex, "s-b-" + uuid.uuid4().hex]
    for n in range(7):
        trail.turn(AuditContext(actor=Actor(id="alice"), session=sessions[n % 2]), outcome="ok", latency_ms=n)
        trail.turn(
            AuditContext(actor=Actor(id="bob"), session="s-bob-" + uuid.uuid4().hex),
            outcome="ok",
            latency_ms=n,
        )

    records = every_page(store, make_query(actor="alice"), 3)

    assert [r.latency_ms for r in records] == [6, 5, 4, 3, 2, 1, 0]
    assert {r.actor for r in records} == {"alice"}


def test_records_are_found_by_time_window_across_days(store: AuditStore) -> None:
    # Given one record every 10 hours for 5 days
    trail = trail_on(store, Clock())
    for n in range(12):
        trail._clock = lambda n=n: T0 + timedelta(hours=10 * n)  # type: ignore[misc]
        trail.turn(
            AuditContext(actor=Actor(id=f"user{n % 3}"), session=f"s-{n}-{uuid.uuid4().hex}"),
            outcome="ok",
            latency_ms=n,
        )

    since, until = T0 + timedelta(hours=15), T0 + timedelta(hours=75)
    records = every_page(store, make_query(since=since, until=until), 2)

    assert [r.latency_ms for r in records] == [7, 6, 5, 4, 3, 2]
    assert [
        r.latency_ms for r in every_page(store, make_query(actor="user1", since=since, until=until), 1)
    ] == [7, 4]


def test_filters_the_key_cannot_apply_still_hold_on_every_page(store: AuditStore) -> None:
    trail = trail_on(store)
    context = AuditContext(actor=Actor(id="alice"), session="s-" + uuid.uuid4().hex)
    for n in range(6):
        decision = "deny" if n % 3 == 0 else "allow"
        trail.tool_call_decided(
            context,
            tool="t",
            call_id=f"c{n}",
            args={},
            outcome="denied" if decision == "deny" else "pending",
            decision=decision,  # type: ignore[arg-type]
        )

    denied = every_page(store, make_query(session=context.session, decision="deny"), 2)

    assert [r.call_id for r in denied] == ["c0", "c3"]


def test_a_cursor_is_bound_to_its_filters(store: AuditStore) -> None:
    trail = trail_on(store)
    for n in range(3):
        trail.turn(
            AuditContext(actor=Actor(id="alice"), session=f"s-{n}-{uuid.uuid4().hex}"),
            outcome="ok",
            latency_ms=n,
        )
    page = list_records(store, make_query(actor="alice"), 1, None)
    assert page.next_cursor is not None

    with pytest.raises(InvalidCursor):
        list_records(store, make_query(actor="bob"), 1, page.next_cursor)
    with pytest.raises(InvalidCursor):
        list_records(store, make_query(actor="alice"), 1, page.next_cursor[:-3] + "!!!")


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"decision": "maybe"}, "decision"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "since"),
    ],
)
def test_bad_filters_are_refused_naming_the_filter(filters: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidAuditQuery, match=named):
        make_query(**filters)


def test_a_session_expiry_is_set_once_for_the_whole_chain(store: AuditStore) -> None:
    trail = AuditTrail(store, FixedKey(), retention_days=30, clock=Clock())
    context = AuditContext(actor=Actor(id="alice"), session="s-" + uuid.uuid4().hex)
    first = trail.turn(context, outcome="ok", latency_ms=1)
    later = trail.turn(context, outcome="ok", latency_ms=1)
    assert first.expires_at == int((first.time + timedelta(days=30)).timestamp()) == later.expires_at


def test_stored_records_are_what_verify_reads(store: AuditStore) -> None:
    trail = trail_on(store)
    contexts = [AuditContext(actor=Actor(id="a"), session=f"s-{n}-{uuid.uuid4().hex}") for n in range(3)]
    for context in contexts * 2:
        trail.turn(context, outcome="ok", latency_ms=1)

    result = verify(store.stored())

    assert (result.sessions, result.records, result.clean) == (3, 6, True)
    only = verify(store.stored(contexts[1].session))
    assert (only.sessions, only.records) == (1, 2)
    assert json.loads(next(iter(store.stored(contexts[1].session))).text)["seq"] == 1
