"""Daily quotas at the UTC day boundary (a frozen clock) and the limits of each group."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentarch.config import Env, GovernanceSettings, SettingsError, load
from agentarch.core.errors import StorageUnavailable
from agentarch.dev.sqlite import SqliteDatabase, SqliteQuotaStore
from agentarch.services import quotas
from agentarch.services.quotas import DailyLimits, QuotaExceeded, QuotaPolicy

POLICY = QuotaPolicy(
    default=DailyLimits(requests_per_day=2, tokens_per_day=100),
    groups={
        "pro": DailyLimits(requests_per_day=50, tokens_per_day=1000),
        "bulk": DailyLimits(requests_per_day=10, tokens_per_day=5000),
    },
)


@pytest.fixture
def store(tmp_path: Path) -> SqliteQuotaStore:
    return SqliteQuotaStore(SqliteDatabase(tmp_path / "agentarch.sqlite3"))


def test_a_spent_quota_comes_back_at_utc_midnight_and_not_a_second_before(store: SqliteQuotaStore) -> None:
    evening = datetime(2026, 11, 26, 23, 59, 0, tzinfo=UTC)
    quotas.admit_request(store, POLICY, "alice", [], evening, 1)
    quotas.admit_request(store, POLICY, "alice", [], evening, 1)

    with pytest.raises(QuotaExceeded) as refused:
        quotas.admit_request(
            store, POLICY, "alice", [], datetime(2026, 11, 26, 23, 59, 59, 500000, tzinfo=UTC), 1
        )
    assert refused.value.retry_after_seconds == 1

    midnight = datetime(2026, 11, 27, 0, 0, 0, tzinfo=UTC)
    report = quotas.report(store, POLICY, "alice", [], midnight)
    assert report.used.requests == 0 and report.remaining.requests == 2
    assert report.resets_at == datetime(2026, 11, 28, tzinfo=UTC)
    assert report.resets_in_seconds == 24 * 3600
    quotas.admit_request(store, POLICY, "alice", [], midnight, 1)  # admitted again


def test_retry_after_counts_down_to_midnight_utc_whatever_the_callers_zone(store: SqliteQuotaStore) -> None:
    tokyo_morning = datetime.fromisoformat("2026-11-27T08:30:00+09:00")  # 23:30 UTC on the 26th

    report = quotas.report(store, POLICY, "alice", [], tokyo_morning)

    assert report.resets_at == datetime(2026, 11, 27, tzinfo=UTC)
    assert report.resets_in_seconds == 30 * 60


@pytest.mark.parametrize(
    ("groups", "requests", "tokens"),
    [
        ([], 2, 100),  # in no group: the default
        (["unknown"], 2, 100),
        (["pro"], 50, 1000),
        (["pro", "bulk"], 50, 5000),  # each limit from the most generous group
    ],
)
def test_the_most_generous_group_wins(groups: list[str], requests: int, tokens: int) -> None:
    assert POLICY.limits_for(groups) == DailyLimits(requests_per_day=requests, tokens_per_day=tokens)


def test_the_limits_come_from_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(Env.CHAT_QUOTAS, POLICY.model_dump_json())

    assert load(GovernanceSettings).chat_quotas == POLICY


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"groups": {}}',  # no default
        '{"default": {"requests_per_day": -1, "tokens_per_day": 10}}',
        '{"default": {"requests_per_day": 1, "tokens_per_day": 10, "typo": 1}}',
    ],
)
def test_a_malformed_limits_setting_fails_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(Env.CHAT_QUOTAS, value)

    with pytest.raises(SettingsError, match=Env.CHAT_QUOTAS):
        load(GovernanceSettings)


class ChargeFails(SqliteQuotaStore):
    def settle(self, actor_id: str, day: str, reserved: int, used: int, expires_at: int) -> None:
        raise StorageUnavailable("the store answered ThrottlingException")


def test_an_answer_whose_tokens_cannot_be_charged_is_still_given_and_reported(tmp_path: Path) -> None:
    store = ChargeFails(SqliteDatabase(tmp_path / "agentarch.sqlite3"))
    missed: list[int] = []
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    answer = quotas.metered(
        store, POLICY, "alice", [], lambda: now, lambda reserved: ("391", 150), 1000, missed.append
    )

    assert answer == "391"
    assert missed == [150]
    assert store.usage("alice", "2026-11-26").requests == 1  # the request itself was counted
