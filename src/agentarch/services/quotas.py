"""Per-user daily quotas: requests and model tokens per actor per UTC day.

A request is admitted by one atomic conditional update (DynamoDB `UpdateItem` with a condition, a
transaction in SQLite) **before** the agent runs, so N concurrent requests at the limit admit exactly
what is left, never more. Admission also **reserves** the turn's token allowance: the per-turn
budget (`TURN_TOKEN_BUDGET`), or what is left of the day when that is less. The agent is told the
reservation and stops when it is spent; after the turn the reservation is settled against the
tokens really used. So concurrent turns together never hold more than the day's tokens; one turn
may still overshoot its own reservation by its last model call (the agent checks between calls).

Limits come per Cognito group; an actor in several groups gets, per limit, the most generous of
them, and an actor in none gets the default (`CHAT_QUOTAS`, see `config.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from agentarch.core.errors import StorageUnavailable

# How long a day's counters outlive the day (TTL): long enough to read yesterday's usage, then gone.
COUNTER_RETENTION = timedelta(days=2)


class DailyLimits(BaseModel):
    """What one actor may spend per UTC day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_day: int = Field(ge=0, le=1_000_000)
    tokens_per_day: int = Field(ge=0, le=10_000_000_000)


class QuotaPolicy(BaseModel):
    """The default limits and the limits of each Cognito group (the `CHAT_QUOTAS` setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: DailyLimits
    groups: dict[str, DailyLimits] = Field(default_factory=dict)

    def limits_for(self, groups: Sequence[str]) -> DailyLimits:
        """The most generous limits among the actor's groups; the default for an actor in none."""
        matched = [self.groups[g] for g in groups if g in self.groups] or [self.default]
        return DailyLimits(
            requests_per_day=max(m.requests_per_day for m in matched),
            tokens_per_day=max(m.tokens_per_day for m in matched),
        )


DEFAULT_POLICY = QuotaPolicy(default=DailyLimits(requests_per_day=200, tokens_per_day=400_000))


class Usage(BaseModel):
    """What an actor has spent on one day, and what turns in flight hold."""

    requests: int = 0
    tokens: int = 0
    reserved: int = Field(0, description="tokens held by turns still running, settled when they end")


class UsageReport(BaseModel):
    """`GET /api/usage`: the caller's limits, what is used and what is left, and when it resets."""

    limits: DailyLimits
    used: Usage
    remaining: Usage
    resets_at: datetime = Field(description="the next UTC midnight, when every counter starts at 0")
    resets_in_seconds: int


class QuotaExceeded(Exception):
    """The actor has spent a daily limit; nothing ran. Retry after `retry_after_seconds`."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class QuotaStore(Protocol):
    """Daily counters per actor. Raises `StorageUnavailable` when the store cannot answer."""

    def admit(
        self, actor_id: str, day: str, limits: DailyLimits, expires_at: int, budget: int
    ) -> tuple[int | None, Usage]:
        """Atomically count one request and reserve up to `budget` tokens, if both counters are below
        their limits: the reservation is the budget or what is left of the day, whichever is less.

        Answers the tokens reserved (None when refused) and the usage after it (or as it stands).
        """
        ...

    def settle(self, actor_id: str, day: str, reserved: int, used: int, expires_at: int) -> None:
        """A turn ended: release its reservation and charge the tokens it used (no limit: it ran)."""
        ...

    def usage(self, actor_id: str, day: str) -> Usage:
        """The day's counters (zeros when nothing was spent)."""
        ...


def day_of(now: datetime) -> str:
    """The UTC day a moment counts against, `YYYY-MM-DD`."""
    return now.astimezone(UTC).date().isoformat()


def resets_at(now: datetime) -> datetime:
    """The next UTC midnight after `now`."""
    today = now.astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)


def seconds_until_reset(now: datetime) -> int:
    """Whole seconds until the next UTC midnight (at least 1: what `Retry-After` says)."""
    return max(1, math.ceil((resets_at(now) - now).total_seconds()))


def _expires_at(now: datetime) -> int:
    return int((resets_at(now) + COUNTER_RETENTION).timestamp())


def admit_request(
    store: QuotaStore,
    policy: QuotaPolicy,
    actor_id: str,
    groups: Sequence[str],
    now: datetime,
    budget: int,
) -> tuple[str, int]:
    """Count one request and reserve its tokens, or raise `QuotaExceeded`; answers the day charged
    and the tokens reserved."""
    limits = policy.limits_for(groups)
    day = day_of(now)
    reserved, used = store.admit(actor_id, day, limits, _expires_at(now), budget)
    if reserved is None:
        spent = "requests" if used.requests >= limits.requests_per_day else "model tokens"
        raise QuotaExceeded(
            f"you have used today's {spent}; the quota resets at 00:00 UTC",
            seconds_until_reset(now),
        )
    return day, reserved


ResultT = TypeVar("ResultT")


def metered(
    store: QuotaStore,
    policy: QuotaPolicy,
    actor_id: str,
    groups: Sequence[str],
    clock: Callable[[], datetime],
    turn: Callable[[int], tuple[ResultT, int]],
    budget: int,
    uncharged: Callable[[int], None] = lambda tokens: None,
) -> ResultT:
    """Run `turn` only if the actor is within quota, with the tokens reserved for it; settle after.

    `turn` takes the reservation (its token budget) and answers (its result, the tokens it used). A
    turn that fails still counts as a request and charges what its exception reports having used
    (a `tokens_used` attribute; none otherwise). Its reservation is released whatever happens. Tokens that cannot be charged
    (the store failed after the turn) are reported to `uncharged` and the answer still given:
    failing it would make the user retry and pay for the agent twice.
    """
    day, reserved = admit_request(store, policy, actor_id, groups, clock(), budget)
    used = 0
    try:
        result, used = turn(reserved)
    except Exception as exc:
        used = int(getattr(exc, "tokens_used", 0))
        raise
    finally:
        try:
            store.settle(actor_id, day, reserved, used, _expires_at(clock()))
        except StorageUnavailable:
            uncharged(used)
    return result


def report(
    store: QuotaStore, policy: QuotaPolicy, actor_id: str, groups: Sequence[str], now: datetime
) -> UsageReport:
    """The caller's limits, today's usage, what is left, and when it resets."""
    limits = policy.limits_for(groups)
    used = store.usage(actor_id, day_of(now))
    return UsageReport(
        limits=limits,
        used=used,
        remaining=Usage(
            requests=max(0, limits.requests_per_day - used.requests),
            tokens=max(0, limits.tokens_per_day - used.tokens - used.reserved),
        ),
        resets_at=resets_at(now),
        resets_in_seconds=seconds_until_reset(now),
    )
