"""What a benchmark returns, and the helpers every one uses to state a figure honestly.

A figure that compares says against what, measured in the same run: a ratio of medians with the
min–max of the paired ratios, never a lone absolute time (other work on the machine moves those).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Table:
    """One table of the report: what it compares against, its columns and rows, notes under it."""

    title: str
    compares: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    """A benchmark's answer: its tables for people, `data` (raw figures) for `latest.json`."""

    name: str
    tables: list[Table]
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "tables": [asdict(t) for t in self.tables], "data": self.data}


@dataclass(frozen=True)
class Spread:
    """Median and range of a set of samples."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def fmt(self, unit: str = "", digits: int = 1) -> str:
        if self.n == 1:
            return f"{self.median:.{digits}f}{unit}"
        return f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}–{self.high:.{digits}f})"

    def as_json(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}


def percentile(samples: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (p50, p99) of the samples."""
    ordered = sorted(samples)
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def ratio(ours: Sequence[float], baseline: Sequence[float]) -> Spread:
    """Ratios of paired samples (taken side by side, interleaved): median and min–max."""
    return Spread.of([a / b for a, b in zip(ours, baseline, strict=True) if b > 0])
