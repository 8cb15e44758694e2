"""Per-user daily quotas: requests and model tokens per actor per UTC day.

A request is admitted by one atomic conditional update (DynamoDB `UpdateItem` with a condition, a
transaction in SQLite) **before** the agent runs, so N concurrent requests at the limit admit exactly
what is left, never more. Tokens are charged after the turn, from the usage the agent reports; a
turn may therefore overshoot the token limit once, and the next request is refused.

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
    """What an actor has spent on one day."""

    requests: int = 0
    tokens: int = 0


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

    def admit(self, actor_id: str, day: str, limits: DailyLimits, expires_at: int) -> tuple[bool, Usage]:
        """Atomically count one request if both counters are below their limits.

        Answers whether it was admitted and the usage after it (or, when refused, as it stands).
        """
        ...

    def charge_tokens(self, actor_id: str, day: str, tokens: int, expires_at: int) -> None:
        """Add the tokens a turn used to the day's counter (no limit: the turn already ran)."""
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
    store: QuotaStore, policy: QuotaPolicy, actor_id: str, groups: Sequence[str], now: datetime
) -> str:
    """Count one request against the actor's day, or raise `QuotaExceeded`; answers the day charged."""
    limits = policy.limits_for(groups)
    day = day_of(now)
    admitted, used = store.admit(actor_id, day, limits, _expires_at(now))
    if not admitted:
        spent = "requests" if used.requests >= limits.requests_per_day else "model tokens"
        raise QuotaExceeded(
            f"you have used today's {spent}; the quota resets at 00:00 UTC",
            seconds_until_reset(now),
        )
    return day


def charge_tokens(store: QuotaStore, actor_id: str, day: str, tokens: int, now: datetime) -> None:
    """Charge a finished turn's tokens to the day its request was admitted on."""
    if tokens > 0:
        store.charge_tokens(actor_id, day, tokens, _expires_at(now))


ResultT = TypeVar("ResultT")


def metered(
    store: QuotaStore,
    policy: QuotaPolicy,
    actor_id: str,
    groups: Sequence[str],
    clock: Callable[[], datetime],
    turn: Callable[[], tuple[ResultT, int]],
    uncharged: Callable[[int], None] = lambda tokens: None,
) -> ResultT:
    """Run `turn` only if the actor is within quota, then charge the tokens it reports.

    `turn` answers (its result, the tokens it used). A turn that fails still counts as a request
    (it may have reached the model), but charges no tokens: none were reported. A turn whose tokens
    cannot be charged (the store failed after it ran) still answers, and `uncharged` hears of it:
    failing it would make the user retry and pay for the agent twice.
    """
    day = admit_request(store, policy, actor_id, groups, clock())
    result, tokens = turn()
    try:
        charge_tokens(store, actor_id, day, tokens, clock())
    except StorageUnavailable:
        uncharged(tokens)
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
            tokens=max(0, limits.tokens_per_day - used.tokens),
        ),
        resets_at=resets_at(now),
        resets_in_seconds=seconds_until_reset(now),
    )
