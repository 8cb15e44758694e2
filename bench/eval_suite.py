"""`agentarch eval` on the shipped suite (`evals/`) at k=3 through a local stack, and what the harness
itself adds to the turns it sends.

Wall time: starting the stack (one user per scenario run), the runs (4 at a time), the checks and
the report. Harness overhead, per scenario run: the run's wall time from its first request to its
last answer, minus the turns' own request-to-answer times, over those turn times (what the runner
adds between turns: building requests, reading replies); over the whole suite, the checks' time
(`build_report`) is added to it. Signing each run's user in (scrypt at the local identity issuer) is
setup, shown apart. Target: the harness adds at most 10% to the turns' own time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from agentarch.dev.evals.report import build_report
from agentarch.dev.evals.runner import own_stack, run_suites
from agentarch.dev.evals.suite import load_suites
from bench.report import Result, Spread, Table

ROOT = Path(__file__).resolve().parents[1]


def run(smoke: bool) -> Result:
    suites = load_suites([ROOT / "evals"])
    if smoke:
        suites = suites[:1]
    runs = 1 if smoke else 3
    with tempfile.TemporaryDirectory() as tmp:
        begun = time.perf_counter()
        with own_stack(suites, runs, Path(tmp)) as target:
            ready = time.perf_counter()
            records = run_suites(target, suites, runs, concurrency=4)
            ran = time.perf_counter()
        report = build_report(suites, records, runs, "bench")
        checked = time.perf_counter()
    if report.status != "pass":
        raise RuntimeError(f"the shipped suite did not pass: {report.status}")
    turns_ms = sum(r.turns_ms for r in records)
    between_ms = sum(r.duration_ms - r.turns_ms for r in records)
    checks_ms = (checked - ran) * 1000
    per_run = Spread.of([100 * (r.duration_ms - r.turns_ms) / r.turns_ms for r in records if r.turns_ms > 0])
    signin = Spread.of([r.signin_ms for r in records])
    scenarios = sum(len(s.scenarios) for s in suites)
    wall = Table(
        title=f"Shipped eval suite at k={runs} ({scenarios} scenarios, {len(records)} runs, 4 at a time)",
        compares="parts of one `agentarch eval` run, in the same process",
        columns=["part", "seconds"],
        rows=[
            ["start the local stack (one user per run)", f"{ready - begun:.1f}"],
            ["the runs (sign-in, turns, harness)", f"{ran - ready:.1f}"],
            ["the checks and the report", f"{checks_ms / 1000:.2f}"],
            ["total", f"{checked - begun:.1f}"],
        ],
        notes=[f"pass^{runs} = {report.pass_hat.get(str(runs), 0):.3f}"],
    )
    overhead = Table(
        title="What the harness adds to the turns' own time",
        compares="the turns' request-to-answer times in the same runs (100% = the turns)",
        columns=["measure", "value"],
        rows=[
            [
                "per scenario run: harness between turns, % of its turns (median, min–max)",
                per_run.fmt("%", 2),
            ],
            [
                "whole suite: harness between turns + checks, % of all turns",
                f"{100 * (between_ms + checks_ms) / turns_ms:.2f}%",
            ],
            ["sign-in per run user, ms (setup, not counted above)", signin.fmt(" ms")],
            [
                "turn time, ms (median over runs of a run's turns)",
                f"{statistics.median(r.turns_ms for r in records):.0f}",
            ],
        ],
        notes=["target: the harness adds at most 10% to the turns' own time"],
    )
    return Result(
        name="eval_suite",
        tables=[wall, overhead],
        data={
            "runs": runs,
            "scenario_runs": len(records),
            "stack_start_s": ready - begun,
            "runs_s": ran - ready,
            "checks_s": checks_ms / 1000,
            "turns_ms": turns_ms,
            "harness_between_turns_ms": between_ms,
            "harness_per_run_pct": per_run.as_json(),
            "signin_ms": signin.as_json(),
        },
    )
