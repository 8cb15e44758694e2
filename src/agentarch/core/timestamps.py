"""Storage timestamps: timezone-aware UTC, millisecond precision, ISO-8601 text that sorts as time.

Every adapter stores `2025-01-31T09:15:02.123Z`: fixed width, so string order is time order (the
DynamoDB `by_actor` index and the SQLite listing index both rely on that).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

ISO_MILLIS_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def to_utc_millis(moment: datetime) -> datetime:
    """The same instant in UTC, truncated to milliseconds; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_iso_millis(moment: datetime) -> str:
    """`2025-01-31T09:15:02.123Z` for an aware datetime."""
    moment = to_utc_millis(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_millis(text: str) -> datetime:
    """Inverse of `format_iso_millis`; raises ValueError on anything else."""
    if not ISO_MILLIS_PATTERN.fullmatch(text):
        raise ValueError(f"not an ISO-8601 UTC millisecond timestamp: {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def utc_now() -> datetime:
    """The current instant, as stored."""
    return to_utc_millis(datetime.now(UTC))
