"""Every benchmark of `bench/registry.py` runs end to end at smoke size, so none of them rots.

Nothing here is timed: `make bench` measures; this only checks that each benchmark still runs and
reports what it compares against. Each runs in a process of its own, as `make bench` runs them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.registry import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", BENCHMARKS)
def test_benchmark_runs_at_smoke_size_and_reports_its_baseline(module: str, tmp_path: Path) -> None:
    name = module.rpartition(".")[2]

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", name, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["smoke"] is True and report["machine"]["cores"] >= 1
    [result] = report["benchmarks"]
    assert result["name"] == name
    markdown = (tmp_path / "latest.md").read_text()
    for table in result["tables"]:
        assert table["compares"], f"{name}: a table must say what it compares against"
        assert table["rows"] and all(len(row) == len(table["columns"]) for row in table["rows"])
        assert table["title"] in markdown


def test_an_unknown_benchmark_is_refused_with_the_known_names(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "no_such_bench", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "cold_start" in done.stderr
    assert not (tmp_path / "latest.json").exists()
