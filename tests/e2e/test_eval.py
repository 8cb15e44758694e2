"""`agentarch eval` on the shipped suite (`evals/`), through the real API of a local stack it starts:
the offline model holds every check at k=5, and every fault class of the faulty model is caught,
at the rate the scenarios' call counts predict."""

from __future__ import annotations

import json
from math import comb, sqrt
from pathlib import Path
from typing import Any

import pytest

from agentarch.agent.offline_model import OfflineChatModel
from agentarch.dev.cli import main
from agentarch.dev.evals.suite import load_suites
from agentarch.dev.models.faulty import FAULT_CLASSES

pytestmark = pytest.mark.e2e

SHIPPED = Path(__file__).resolve().parents[2] / "evals"


# The statistics hold for the core suites, whose every turn with a tool call states what must run
# (suites in subfolders, such as evals/injection/, are other concerns' and are left out of them).
CORE = sorted(SHIPPED.glob("*.yaml"))


def evaluate(tmp_path: Path, *options: str, suites: list[Path] | None = None) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    named = [str(p) for p in suites] if suites else [str(SHIPPED)]
    status = main(["eval", *named, "--format", "json", "--out", str(out), "--quiet", *options])
    return status, json.loads(out.read_text(encoding="utf-8"))


def failed_checks(report: dict[str, Any]) -> set[str]:
    return {
        failure["check"]
        for suite in report["suites"]
        for scenario in suite["scenarios"]
        for failure in scenario["failures"]
    }


def test_the_offline_model_holds_every_check_of_the_shipped_suite_at_k5(tmp_path: Path) -> None:
    status, report = evaluate(tmp_path, "--runs", "5")

    assert failed_checks(report) == set() and status == 0
    assert report["pass_hat"]["3"] == 1.0 and report["pass_hat"]["5"] == 1.0
    assert sum(len(s["scenarios"]) for s in report["suites"]) >= 25
    skipped = {c["check"] for s in report["suites"] for sc in s["scenarios"] for c in sc["skipped_checks"]}
    assert skipped == {"judge"}  # offline, the LLM judge is reported as skipped, never as passed


# The check each fault class must trip (others may trip too).
CAUGHT_BY = {
    "wrong_tool": "tools",
    "skip_tool": "tools",
    "wrong_args": "args.calculator",
    "no_approval": "approval",
    "retry_denied": "no_denied_retry",
    "ignore_result": "answer_contains",
    "extra_calls": "tools",
}


@pytest.mark.parametrize("fault", FAULT_CLASSES)
def test_every_fault_class_is_caught_by_the_shipped_suite(tmp_path: Path, fault: str) -> None:
    status, report = evaluate(tmp_path, "--runs", "1", "--offline-model", f"faulty:{fault}=1", "--seed", "1")

    assert status == 1 and report["status"] == "fail"
    assert CAUGHT_BY[fault] in failed_checks(report)


def planned_calls() -> dict[str, int]:
    """Tool calls the offline model plans in one run of each scenario: skip_tool's opportunities."""
    counts = {}
    for suite in load_suites(CORE):
        for scenario in suite.scenarios:
            counts[f"{suite.suite}/{scenario.id}"] = sum(
                len(OfflineChatModel._plan_tool_calls(turn.say, 0))
                for turn in scenario.turns
                if turn.say is not None and turn.expect.status == 200
            )
    return counts


def binomial_pass_hat(q: float, n: int, k: int) -> tuple[float, float]:
    """Mean and variance of τ-bench's C(c, k)/C(n, k) when each of n runs succeeds with chance q."""
    pmf = [comb(n, c) * q**c * (1 - q) ** (n - c) for c in range(n + 1)]
    values = [comb(c, k) / comb(n, k) for c in range(n + 1)]
    mean = sum(p * v for p, v in zip(pmf, values, strict=True))
    return mean, sum(p * v * v for p, v in zip(pmf, values, strict=True)) - mean * mean


def test_measured_pass_hat_matches_the_rate_the_call_counts_predict(tmp_path: Path) -> None:
    # Given skip_tool at rate p per planned call, a scenario with m planned calls passes a run with
    # chance (1 - p)^m, since every skipped call fails a check; n runs of each of the 30 scenarios.
    rate, runs = 0.1, 8
    calls = planned_calls()

    status, report = evaluate(
        tmp_path,
        "--runs",
        str(runs),
        "--offline-model",
        f"faulty:skip_tool={rate}",
        "--seed",
        "11",
        suites=CORE,
    )

    assert status == 1
    measured = {f"{s['suite']}/{sc['id']}": sc for s in report["suites"] for sc in s["scenarios"]}
    assert all(sc["runs"] == runs and not sc["errors"] for sc in measured.values())
    for k in (1, 2, 3):
        moments = [binomial_pass_hat((1 - rate) ** m, runs, k) for m in calls.values()]
        predicted = sum(mean for mean, _ in moments) / len(moments)
        half_width = 1.96 * sqrt(sum(var for _, var in moments)) / len(moments)  # 95% confidence
        assert abs(report["pass_hat"][str(k)] - predicted) <= half_width, (
            k,
            report["pass_hat"],
            predicted,
            half_width,
        )
