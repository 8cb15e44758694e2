"""The LLM judge: a Bedrock Converse call per graded run (stubbed botocore client), PASS/FAIL parsed;
offline it is reported as skipped, never as passed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agentarch.adapters.bedrock_judge import BedrockJudge
from agentarch.core.contracts import TokenUsage
from agentarch.dev.evals.report import Judging, build_report
from agentarch.dev.evals.runner import RunRecord
from agentarch.dev.evals.suite import load_suite
from agentarch.services.evaluation import TurnTrace, judge_check

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def converse_answer(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 50, "outputTokens": 8, "totalTokens": 58},
        "metrics": {"latencyMs": 120},
    }


def stubbed_judge(*answers: str) -> tuple[BedrockJudge, Stubber]:
    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubber = Stubber(client)
    for answer in answers:
        stubber.add_response("converse", converse_answer(answer), {
            "modelId": MODEL,
            "system": [{"text": stubber_any()}],
            "messages": [{"role": "user", "content": [{"text": stubber_any()}]}],
            "inferenceConfig": {"maxTokens": 200, "temperature": 0},
        })  # fmt: skip
    stubber.activate()
    return BedrockJudge(MODEL, client=client), stubber


def stubber_any() -> Any:
    from botocore.stub import ANY

    return ANY


def test_the_judge_s_verdict_decides_the_check() -> None:
    judge, stubber = stubbed_judge("PASS\nIt says what it can do.", "FAIL\nIt told a joke.", "Maybe?")

    verdicts = [judge_check(judge, "no joke", "USER: joke?\nASSISTANT: no") for _ in range(3)]

    assert [(v.passed, v.got) for v in verdicts] == [
        (True, "It says what it can do."),
        (False, "It told a joke."),
        (False, "no verdict: Maybe?"),
    ]
    assert {v.source for v in verdicts} == {"bedrock"}
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("judging", "expected"), [(None, "skipped"), ("FAIL\nIt told a joke.", "fail")])
def test_a_rubric_is_skipped_offline_and_fails_the_scenario_when_the_judge_says_fail(
    tmp_path: Path, judging: str | None, expected: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "suite: s\nruns: 1\nscenarios:\n  - id: a\n    judge: no joke\n    turns: [{say: tell a joke}]\n"
    )
    suite = load_suite(path)
    trace = TurnTrace(actor_id="u", session_id="s", answer="no", usage=TokenUsage(), latency_ms=1.0)
    record = RunRecord("s", "a", 1, "u", traces=[trace], said=["tell a joke"])

    report = build_report(
        [suite], [record], None, "here", Judging(stubbed_judge(judging)[0]) if judging else Judging()
    )

    scenario = report.suites[0].scenarios[0]
    if expected == "skipped":
        assert scenario.status == "pass" and [c.check for c in scenario.skipped_checks] == ["judge"]
    else:
        assert scenario.status == "fail" and [(f.check, f.got) for f in scenario.failures] == [
            ("judge", "It told a joke.")
        ]
