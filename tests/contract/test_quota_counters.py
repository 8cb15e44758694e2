"""The quota store, once per adapter (DynamoDB under moto, SQLite): atomic admission, charges, usage."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from threading import Barrier, Event

import boto3
import pytest
from moto import mock_aws

from agentarch.adapters.aws_quotas import DynamoQuotaStore
from agentarch.dev.sqlite import SqliteDatabase, SqliteQuotaStore
from agentarch.dev.testing.aws import (
    QUOTAS_TABLE_NAME,
    REGION,
    create_quotas_table,
    dynamodb_writes_one_at_a_time,
)
from agentarch.services import quotas
from agentarch.services.quotas import DailyLimits, QuotaExceeded, QuotaPolicy, QuotaStore

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
LIMIT = 5
BUDGET = 100  # tokens one turn may spend: the reservation each admission makes
POLICY = QuotaPolicy(default=DailyLimits(requests_per_day=LIMIT, tokens_per_day=1000))


@pytest.fixture(params=["aws", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None) -> Iterator[QuotaStore]:
    if request.param == "aws":
        with mock_aws(), dynamodb_writes_one_at_a_time():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            create_quotas_table(dynamodb)
            yield DynamoQuotaStore(QUOTAS_TABLE_NAME, client=dynamodb)
    else:
        yield SqliteQuotaStore(SqliteDatabase(tmp_path / "state" / "agentarch.sqlite3"))


def _admitted(store: QuotaStore, actor: str = "alice") -> bool:
    try:
        quotas.admit_request(store, POLICY, actor, [], NOW, BUDGET)
    except QuotaExceeded:
        return False
    return True


def test_sixteen_concurrent_requests_of_one_user_at_the_limit_admit_exactly_the_limit(
    store: QuotaStore,
) -> None:
    # Given 16 clients of one user who starts a fresh day with a limit of 5
    barrier = Barrier(16)

    def one_client(_: int) -> bool:
        barrier.wait()  # all 16 ask at once
        return _admitted(store)

    # When they all send a request at the same moment
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(one_client, range(16)))

    # Then exactly 5 are admitted, never more, and the counter says so
    assert outcomes.count(True) == LIMIT
    assert store.usage("alice", quotas.day_of(NOW)).requests == LIMIT


def test_the_limit_is_per_user(store: QuotaStore) -> None:
    for _ in range(LIMIT):
        assert _admitted(store, "alice")

    assert not _admitted(store, "alice")
    assert _admitted(store, "bob")


def test_tokens_settled_after_a_turn_refuse_the_next_request_once_spent(store: QuotaStore) -> None:
    day, reserved = quotas.admit_request(store, POLICY, "alice", [], NOW, 600)
    store.settle("alice", day, reserved, 600, 0)
    assert _admitted(store)  # 600 of 1000 (and 100 reserved): still room
    store.settle("alice", day, BUDGET, 600, 0)  # one turn may overshoot its own reservation

    with pytest.raises(QuotaExceeded, match="model tokens") as refused:
        quotas.admit_request(store, POLICY, "alice", [], NOW, BUDGET)

    assert refused.value.retry_after_seconds == 9 * 3600  # 15:00 UTC to midnight
    assert store.usage("alice", day).model_dump() == {"requests": 2, "tokens": 1200, "reserved": 0}


def test_a_reservation_is_the_budget_or_what_is_left_of_the_day(store: QuotaStore) -> None:
    day, first = quotas.admit_request(store, POLICY, "alice", [], NOW, 700)
    _, second = quotas.admit_request(store, POLICY, "alice", [], NOW, 700)

    assert (first, second) == (700, 300)
    assert store.usage("alice", day).reserved == 1000
    with pytest.raises(QuotaExceeded, match="model tokens"):  # everything is held by turns in flight
        quotas.admit_request(store, POLICY, "alice", [], NOW, 700)


def test_concurrent_turns_together_never_spend_more_than_the_day(store: QuotaStore) -> None:
    # Given a day of 1,000 tokens, and five long turns that would each use 900 if let run
    wants = 900
    started, admissions = Event(), iter(range(1, 6))
    attempted: list[int] = []
    admit = store.admit

    def counted_admit(*args: object) -> tuple[int | None, quotas.Usage]:
        try:
            return admit(*args)  # type: ignore[arg-type]
        finally:
            attempted.append(next(admissions))
            if len(attempted) == 5:
                started.set()  # every admission happened before any turn ends

    store.admit = counted_admit  # type: ignore[method-assign]

    def turn(reserved: int) -> tuple[int, int]:
        assert started.wait(30)
        return reserved, min(wants, reserved)  # the agent stops at its reservation

    def one_client(_: int) -> int:
        try:
            return quotas.metered(store, POLICY, "alice", [], lambda: NOW, turn, 20_000)
        except QuotaExceeded:
            return 0

    # When all five are sent at once, and none settles before every one was admitted or refused
    with ThreadPoolExecutor(max_workers=5) as pool:
        reservations = list(pool.map(one_client, range(5)))

    # Then what they held and spent together stays within the day, and nothing stays reserved
    usage = store.usage("alice", quotas.day_of(NOW))
    assert sum(reservations) <= 1000 and usage.tokens <= 1000
    assert usage.reserved == 0 and usage.requests == sum(1 for r in reservations if r)


def test_a_refused_request_is_not_counted(store: QuotaStore) -> None:
    for _ in range(LIMIT + 3):
        _admitted(store)

    report = quotas.report(store, POLICY, "alice", [], NOW)

    assert report.used.requests == LIMIT
    assert report.remaining.requests == 0


def test_nothing_spent_reads_as_zero(store: QuotaStore) -> None:
    assert store.usage("nobody", "2026-11-26").model_dump() == {"requests": 0, "tokens": 0, "reserved": 0}
