"""The report of an eval: each run's checks, pass^1…pass^k per scenario and per suite, in text, JSON
or JUnit XML.

pass^k is τ-bench's: for a scenario run n times with c successes, C(c, k) / C(n, k) — the chance
that k runs drawn from the n all succeed; a suite's pass^k is the mean over its scenarios.

The JSON document (`version` 1) is stable:

```
{"version": 1, "status": "pass" | "fail" | "error", "runs": k, "target": "...",
 "pass_hat": {"1": 1.0, ..., "k": 1.0},              # over every scenario of every suite
 "suites": [{"suite": name, "file": path, "status": ..., "pass_hat": {...},
   "scenarios": [{"id": ..., "status": "pass" | "fail" | "error" | "skipped",
                  "runs": n, "passed": c, "pass_hat": {...},
                  "failures": [{"run", "turn", "check", "expected", "got", "source"}],
                  "errors": [{"run", "turn", "message"}],
                  "skipped_checks": [{"check", "reason"}]}]}],
 "checks_sources": {"tools": "api", ...}}
```
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb
from typing import Any, Literal

from pydantic import BaseModel, Field

from agentarch.core.decisions import Decision
from agentarch.dev.evals.runner import RunRecord
from agentarch.dev.evals.suite import Scenario, Suite
from agentarch.services.evaluation import (
    CheckResult,
    Judge,
    check_expectations,
    consequential_tools,
    judge_check,
    trajectory_checks,
    transcript,
)

REPORT_VERSION = 1
Status = Literal["pass", "fail", "error", "skipped"]


def pass_hat(successes: int, runs: int, k: int) -> float:
    """τ-bench's pass^k: C(c, k) / C(n, k) for c successes in n runs (k ≤ n)."""
    if not 1 <= k <= runs:
        raise ValueError(f"pass^{k} needs at least {k} runs, have {runs}")
    return comb(successes, k) / comb(runs, k)


class Failure(BaseModel):
    run: int
    turn: int
    check: str
    expected: Any = None
    got: Any = None
    source: str = "api"


class RunError(BaseModel):
    run: int
    turn: int | None
    message: str


class SkippedCheck(BaseModel):
    check: str
    reason: str


class StoppedCall(BaseModel):
    """A call the policy let run only because of LOG_ONLY: ENFORCE would have stopped it."""

    run: int
    turn: int
    tool: str
    policies: list[str] = Field(default_factory=list)


class ScenarioReport(BaseModel):
    id: str
    status: Status
    runs: int
    passed: int
    pass_hat: dict[str, float] = Field(default_factory=dict)
    failures: list[Failure] = Field(default_factory=list)
    errors: list[RunError] = Field(default_factory=list)
    skipped_checks: list[SkippedCheck] = Field(default_factory=list)
    duration_ms: float = 0.0
    turns_ms: float = 0.0
    would_stop: list[StoppedCall] = Field(
        default_factory=list, description="LOG_ONLY: each call that ENFORCE would have stopped"
    )


class SuiteReport(BaseModel):
    suite: str
    file: str
    status: Status
    pass_hat: dict[str, float] = Field(default_factory=dict)
    scenarios: list[ScenarioReport]


class Report(BaseModel):
    version: int = REPORT_VERSION
    status: Literal["pass", "fail", "error"]
    runs: int
    target: str
    pass_hat: dict[str, float] = Field(default_factory=dict)
    suites: list[SuiteReport]
    checks_sources: dict[str, str] = Field(
        default_factory=lambda: {
            "tools, args, denied, approval": "api (the chat reply's tool_calls and pending_approval)",
            "answer_*, no_foreign_data": "api (the chat reply's response)",
            "tokens_within_budget": "api (the chat reply's usage)",
            "latency_within_budget": "runner (request to answer, measured by the client)",
            "judge": "bedrock (skipped when no judge model and credentials)",
        }
    )


def _mean_pass_hat(scenarios: Sequence[ScenarioReport], runs: int) -> dict[str, float]:
    counted = [s for s in scenarios if s.status != "skipped" and s.pass_hat]
    if not counted:
        return {}
    top = min(max(int(k) for k in s.pass_hat) for s in counted)
    return {
        str(k): round(sum(s.pass_hat[str(k)] for s in counted) / len(counted), 6)
        for k in range(1, min(top, runs) + 1)
    }


@dataclass(frozen=True)
class Judging:
    """The LLM judge, when there is one; otherwise why its checks are skipped."""

    judge: Judge | None = None
    skipped: str = "no judge model: set JUDGE_MODEL_ID (or --judge-model) and AWS credentials"


@dataclass(frozen=True)
class _Context:
    """What every run's checks share: who said what, the consequential tools, the judge."""

    texts: dict[str, list[str]]
    consequential: frozenset[str]
    judging: Judging


def _judged(judging: Judging, rubric: str, scenario: Scenario, record: RunRecord) -> CheckResult:
    if judging.judge is None:
        return CheckResult(check="judge", passed=True, skipped=judging.skipped)
    turns = scenario.turns[: len(record.traces)]
    said = [
        t.say if t.say is not None else ("(approves the call)" if t.approve else "(rejects it)")
        for t in turns
    ]
    return judge_check(judging.judge, rubric, transcript(said, [trace.answer for trace in record.traces]))


def _run_checks(
    record: RunRecord, suite: Suite, context: _Context
) -> tuple[list[Failure], list[SkippedCheck]]:
    texts, consequential = context.texts, context.consequential
    scenario = next(s for s in suite.scenarios if s.id == record.scenario)
    others = [text for user, said in texts.items() if user != record.user for text in said]
    failures: list[Failure] = []
    skipped: list[SkippedCheck] = []
    for index, trace in enumerate(record.traces, start=1):
        results: list[CheckResult] = check_expectations(scenario.turns[index - 1].expect, trace)
        results += trajectory_checks(
            trace,
            consequential=consequential,
            budget=suite.budget,
            own_texts=texts.get(record.user, []),
            others_texts=others,
        )
        for result in results:
            if result.skipped:
                skipped.append(SkippedCheck(check=result.check, reason=result.skipped))
            elif not result.passed:
                failures.append(
                    Failure(
                        run=record.run,
                        turn=index,
                        check=result.check,
                        expected=result.expected,
                        got=result.got,
                        source=result.source,
                    )
                )
    if record.broken is not None:
        turn, check, expected, got = record.broken
        failures.append(
            Failure(run=record.run, turn=turn, check=check, expected=expected, got=got, source="runner")
        )
    if scenario.judge:
        verdict = _judged(context.judging, scenario.judge, scenario, record)
        if verdict.skipped:
            skipped.append(SkippedCheck(check="judge", reason=verdict.skipped))
        elif not verdict.passed:
            failures.append(
                Failure(
                    run=record.run,
                    turn=len(record.traces),
                    check="judge",
                    expected=verdict.expected,
                    got=verdict.got,
                    source="bedrock",
                )
            )
    return failures, skipped


def build_report(
    suites: Sequence[Suite],
    records: Sequence[RunRecord],
    runs: int | None,
    target: str,
    judging: Judging = Judging(),
) -> Report:
    """Apply every check to every run and gather pass^k."""
    texts: dict[str, list[str]] = defaultdict(list)
    for record in records:
        texts[record.user].extend(record.said)
    by_scenario: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    for record in records:
        by_scenario[(record.suite, record.scenario)].append(record)
    suite_reports = []
    for suite in suites:
        k = runs or suite.runs
        consequential = consequential_tools(
            (t for r in records if r.suite == suite.suite for t in r.traces), suite.consequential_tools
        )
        scenario_reports = []
        for scenario in suite.scenarios:
            scenario_reports.append(
                _scenario_report(
                    suite,
                    scenario.id,
                    by_scenario[(suite.suite, scenario.id)],
                    _Context(dict(texts), consequential, judging),
                    k,
                )
            )
        suite_reports.append(
            SuiteReport(
                suite=suite.suite,
                file=suite.path,
                status=_worst([s.status for s in scenario_reports]),
                pass_hat=_mean_pass_hat(scenario_reports, k),
                scenarios=scenario_reports,
            )
        )
    every = [s for r in suite_reports for s in r.scenarios]
    k_all = min((runs or s.runs) for s in suites)
    status = _worst([s.status for s in suite_reports])
    return Report(
        status="pass" if status == "skipped" else status,
        runs=k_all,
        target=target,
        pass_hat=_mean_pass_hat(every, k_all),
        suites=suite_reports,
    )


def _scenario_report(
    suite: Suite,
    scenario_id: str,
    records: list[RunRecord],
    context: _Context,
    k: int,
) -> ScenarioReport:
    failures: list[Failure] = []
    errors: list[RunError] = []
    skipped: dict[str, str] = {}
    passed = completed = 0
    skipped_runs = 0
    for record in sorted(records, key=lambda r: r.run):
        if record.error and record.error.startswith("skipped:"):
            skipped_runs += 1
            skipped.setdefault("scenario", record.error.removeprefix("skipped: "))
            continue
        if record.error:
            errors.append(RunError(run=record.run, turn=record.error_turn, message=record.error))
            continue
        completed += 1
        found, skipped_checks = _run_checks(record, suite, context)
        for item in skipped_checks:
            skipped.setdefault(item.check, item.reason)
        failures.extend(found)
        passed += not found
    if skipped_runs == len(records):
        status: Status = "skipped"
    elif errors:
        status = "error"
    elif failures:
        status = "fail"
    else:
        status = "pass"
    return ScenarioReport(
        id=scenario_id,
        status=status,
        runs=completed,
        passed=passed,
        pass_hat={str(j): round(pass_hat(passed, completed, j), 6) for j in range(1, min(k, completed) + 1)},
        failures=failures,
        errors=errors,
        skipped_checks=[SkippedCheck(check=c, reason=r) for c, r in skipped.items()],
        duration_ms=round(sum(r.duration_ms for r in records), 1),
        turns_ms=round(sum(r.turns_ms for r in records), 1),
        would_stop=[
            StoppedCall(run=record.run, turn=index, tool=call.name, policies=list(call.policies))
            for record in sorted(records, key=lambda r: r.run)
            for index, trace in enumerate(record.traces, start=1)
            for call in trace.tool_calls
            if call.decision is Decision.LOG_ONLY_DENY
        ],
    )


def _worst(statuses: Sequence[str]) -> Literal["pass", "fail", "error", "skipped"]:
    order: tuple[Literal["error", "fail", "pass"], ...] = ("error", "fail", "pass")
    for status in order:
        if status in statuses:
            return status
    return "skipped"


def exit_code(report: Report) -> int:
    """0 when every check held, 1 otherwise (a failure or a stack error)."""
    return 0 if report.status == "pass" else 1


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_text(report: Report) -> str:
    """What a person reads in a terminal."""
    lines = []
    for suite in report.suites:
        hats = "  ".join(f"pass^{k}={v:.3f}" for k, v in suite.pass_hat.items())
        lines.append(f"suite {suite.suite} ({suite.file}): {suite.status.upper()}  {hats}")
        for scenario in suite.scenarios:
            lines.append(
                f"  {scenario.status.upper():7} {scenario.id}  {scenario.passed}/{scenario.runs} runs passed"
            )
            for failure in scenario.failures:
                lines.append(
                    f"          run {failure.run} turn {failure.turn} {failure.check}: expected {_short(failure.expected)}, "
                    f"got {_short(failure.got)} [{failure.source}]"
                )
            for error in scenario.errors:
                lines.append(f"          run {error.run} turn {error.turn}: error: {error.message}")
            for skipped in scenario.skipped_checks:
                lines.append(f"          skipped {skipped.check}: {skipped.reason}")
            for stopped in scenario.would_stop:
                lines.append(
                    f"          run {stopped.run} turn {stopped.turn} ENFORCE would stop {stopped.tool} "
                    f"({', '.join(stopped.policies) or 'default-deny'})"
                )
    hats = "  ".join(f"pass^{k}={v:.3f}" for k, v in report.pass_hat.items())
    scenarios = [scenario for suite in report.suites for scenario in suite.scenarios]
    not_run = sum(scenario.status == "skipped" for scenario in scenarios)
    # A PASS over the few scenarios that ran must not read as a PASS of the suite.
    counted = f"; {not_run} of {len(scenarios)} scenarios skipped, not counted" if not_run else ""
    lines.append(f"{report.status.upper()}: {hats}  (k={report.runs}, against {report.target}{counted})")
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    """The stable JSON document (see the module docstring)."""
    return report.model_dump_json(indent=2) + "\n"


def render_junit(report: Report) -> str:
    """JUnit XML: a testsuite per suite, a testcase per scenario (what CI systems read)."""
    root = ET.Element("testsuites", name="agentarch eval")
    for suite in report.suites:
        element = ET.SubElement(
            root,
            "testsuite",
            name=suite.suite,
            file=suite.file,
            tests=str(len(suite.scenarios)),
            failures=str(sum(s.status == "fail" for s in suite.scenarios)),
            errors=str(sum(s.status == "error" for s in suite.scenarios)),
            skipped=str(sum(s.status == "skipped" for s in suite.scenarios)),
            time=f"{sum(s.duration_ms for s in suite.scenarios) / 1000:.3f}",
        )
        properties = ET.SubElement(element, "properties")
        for k, value in suite.pass_hat.items():
            ET.SubElement(properties, "property", name=f"pass^{k}", value=str(value))
        for scenario in suite.scenarios:
            case = ET.SubElement(
                element,
                "testcase",
                classname=suite.suite,
                name=scenario.id,
                time=f"{scenario.duration_ms / 1000:.3f}",
            )
            if scenario.status == "skipped":
                ET.SubElement(
                    case,
                    "skipped",
                    message=scenario.skipped_checks[0].reason if scenario.skipped_checks else "",
                )
            for failure in scenario.failures:
                node = ET.SubElement(
                    case,
                    "failure",
                    message=f"run {failure.run} turn {failure.turn} {failure.check}",
                    type=failure.check,
                )
                node.text = (
                    f"expected: {_short(failure.expected, 2000)}\n"
                    f"got: {_short(failure.got, 2000)}\nsource: {failure.source}"
                )
            for error in scenario.errors:
                node = ET.SubElement(case, "error", message=error.message)
                node.text = f"run {error.run} turn {error.turn}: {error.message}"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "junit": render_junit}
