"""The kill switch's lock store, once per adapter (DynamoDB under moto, SQLite), and the gate that reads it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from agentarch.adapters.aws_locks import DynamoLockStore, RuntimeSessionStopper
from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase, SqliteLockStore
from agentarch.dev.testing.aws import LOCKS_TABLE_NAME, REGION, create_locks_table
from agentarch.services import locks
from agentarch.services.audit import LOCKS_SESSION, AuditRecord, AuditTrail
from agentarch.services.locks import Locked, LockGate, LockScope, LockStore


@pytest.fixture(params=["aws", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None) -> Iterator[LockStore]:
    if request.param == "aws":
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            create_locks_table(dynamodb)
            yield DynamoLockStore(LOCKS_TABLE_NAME, client=dynamodb)
    else:
        yield SqliteLockStore(SqliteDatabase(tmp_path / "state" / "agentarch.sqlite3"))


def test_a_lock_set_is_read_back_listed_and_lifted(store: LockStore) -> None:
    lock = locks.make_lock("user", "alice", "admin-1", "looping on refunds")
    store.put(lock)

    assert store.get_many(locks.keys_for("alice", "s-1")) == [lock]
    assert store.get_many(locks.keys_for("bob", "s-1")) == []
    assert store.list_all() == [lock]

    assert store.delete(lock.key) is True
    assert store.delete(lock.key) is False  # a second unlock finds nothing
    assert store.list_all() == []


def test_each_scope_covers_exactly_its_own(store: LockStore) -> None:
    store.put(locks.make_lock("session", "s-2", "admin-1"))
    gate = LockGate(store, ttl=0)

    assert gate.lock_on("alice", "s-1") is None
    covered = gate.lock_on("bob", "s-2")
    assert covered is not None and covered.scope is LockScope.SESSION

    store.put(locks.make_lock("all", None, "admin-1", "incident"))
    everyone = gate.lock_on("carol", "s-9")
    assert everyone is not None and everyone.scope is LockScope.ALL
    with pytest.raises(Locked, match="the assistant"):
        gate.check("carol", None)


def test_locking_again_replaces_the_lock_and_the_reason(store: LockStore) -> None:
    store.put(locks.make_lock("user", "alice", "admin-1", "first"))
    store.put(locks.make_lock("user", "alice", "admin-2", "second"))

    [only] = store.list_all()
    assert (only.locked_by, only.reason) == ("admin-2", "second")


def test_a_gate_sees_a_new_lock_once_its_cache_is_older_than_its_ttl(store: LockStore) -> None:
    now = [0.0]
    gate = LockGate(store, ttl=1.0, clock=lambda: now[0])
    assert gate.lock_on("alice", "s-1") is None

    store.put(locks.make_lock("user", "alice", "admin-1"))
    now[0] = 0.5
    assert gate.lock_on("alice", "s-1") is None  # within the cache's second: the read is not repeated
    now[0] = 1.0
    assert gate.lock_on("alice", "s-1") is not None  # a second later: read again, and locked

    store.delete(locks.lock_key(LockScope.USER, "alice"))
    now[0] = 2.0
    assert gate.lock_on("alice", "s-1") is None


@pytest.mark.parametrize(
    ("scope", "target", "message"),
    [("user", None, "user id"), ("session", "  ", "session id"), ("team", "x", "scope must be")],
)
def test_a_lock_that_names_no_target_is_refused(scope: str, target: str | None, message: str) -> None:
    with pytest.raises(locks.InvalidLock, match=message):
        locks.make_lock(scope, target, "admin-1")


class _Stopper:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def stop(self, session_ids: Iterable[str]) -> list[str]:
        self.asked += list(session_ids)
        return list(self.asked)


def _trail(tmp_path: Path) -> AuditTrail:
    return AuditTrail(SqliteAuditStore(SqliteDatabase(tmp_path / "trail.sqlite3")))


def _turn(trail: AuditTrail, actor: str, session: str) -> None:
    trail.turn(AuditContext(Actor(id=actor), session), outcome="ok", latency_ms=5)


def test_a_user_lock_stops_that_users_sessions_seen_lately_and_is_recorded(tmp_path: Path) -> None:
    trail, store, stopper = (
        _trail(tmp_path),
        SqliteLockStore(SqliteDatabase(tmp_path / "l.sqlite3")),
        _Stopper(),
    )
    _turn(trail, "alice", "s-alice-1")
    _turn(trail, "alice", "s-alice-2")
    _turn(trail, "bob", "s-bob-1")
    lock = locks.make_lock("user", "alice", "admin-1", "runaway")

    stopped = locks.set_lock(
        store, lock, trail, stopper, lambda lock: locks.sessions_in_flight(trail.store, lock)
    )

    assert sorted(stopped) == ["s-alice-1", "s-alice-2"]
    assert store.list_all() == [lock]
    [record] = [AuditRecord.from_json(r.text) for r in trail.store.stored(LOCKS_SESSION)]
    assert (record.kind, record.actor, record.lock_action, record.lock, record.reason) == (
        "lock",
        "admin-1",
        "lock",
        "user#alice",
        "runaway",
    )


def test_an_all_lock_stops_every_session_seen_lately_but_not_older_ones(tmp_path: Path) -> None:
    trail = _trail(tmp_path)
    _turn(trail, "alice", "s-1")
    _turn(trail, "bob", "s-2")
    lock = locks.make_lock("all", None, "admin-1")

    assert sorted(locks.sessions_in_flight(trail.store, lock)) == ["s-1", "s-2"]
    later = datetime.now(UTC) + locks.IN_FLIGHT_WINDOW + timedelta(minutes=1)
    assert locks.sessions_in_flight(trail.store, lock, now=later) == []
    assert locks.sessions_in_flight(trail.store, locks.make_lock("session", "s-9", "a")) == ["s-9"]


def test_the_runtime_stopper_calls_stop_runtime_session_and_skips_sessions_not_running() -> None:
    client = boto3.client("bedrock-agentcore", region_name=REGION)
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agentarch-abc"
    with Stubber(client) as stub:
        expected = {"agentRuntimeArn": arn, "qualifier": "DEFAULT", "runtimeSessionId": "s" * 40}
        stub.add_response("stop_runtime_session", {"runtimeSessionId": "s" * 40, "statusCode": 200}, expected)
        stub.add_client_error(
            "stop_runtime_session",
            "ResourceNotFoundException",
            expected_params={**expected, "runtimeSessionId": "t" * 40},
        )
        stopped = RuntimeSessionStopper(arn, client=client).stop(["s" * 40, "t" * 40])
        stub.assert_no_pending_responses()

    assert stopped == ["s" * 40]
