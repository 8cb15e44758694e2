"""The kill switch's lock store, once per adapter (DynamoDB under moto, SQLite), and the gate that reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from agentarch.adapters.aws_locks import DynamoLockStore
from agentarch.dev.sqlite import SqliteDatabase, SqliteLockStore
from agentarch.dev.testing.aws import LOCKS_TABLE_NAME, REGION, create_locks_table
from agentarch.services import locks
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
