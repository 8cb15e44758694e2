"""`agentarch eval` on a stack that is already running: `--recorded` over turns it really served (the
trajectory checks read the audit trail for tools, decisions, tokens and latency and Memory for
text, and the report names each source), and `--against` with the stack's own users."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentarch.dev.cli import main
from agentarch.dev.lambda_events import LocalLambdaContext
from agentarch.dev.local.spans import SPANS_FILE, read_spans
from agentarch.handlers import evaluator
from tests.conftest import ALICE, BOB, CAROL, RunningStack

pytestmark = pytest.mark.e2e


def chat(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = client.post("/chat", json=body)
    assert answer.status_code == 200, answer.text
    reply: dict[str, Any] = answer.json()
    return reply


def adot(span: dict[str, Any]) -> dict[str, Any]:
    """A span of the local span file (the OpenTelemetry SDK's JSON) as AgentCore hands it an evaluator."""

    def ns(text: str) -> int:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000_000)

    return {
        "traceId": span["context"]["trace_id"].removeprefix("0x"),
        "spanId": span["context"]["span_id"].removeprefix("0x"),
        "parentSpanId": (span.get("parent_id") or "").removeprefix("0x") or None,
        "name": span["name"],
        "scope": {"name": "openinference.instrumentation.langchain"},
        "startTimeUnixNano": ns(span["start_time"]),
        "endTimeUnixNano": ns(span["end_time"]),
        "attributes": span["attributes"],
    }


def evaluator_verdict(stack: RunningStack, session: str) -> dict[str, Any]:
    """The evaluator Lambda's answer for one session, fed its spans as AgentCore Evaluations would."""
    spans = [
        adot(s)
        for s in read_spans(stack.state_dir / SPANS_FILE)
        if s["attributes"].get("session.id") == session
    ]
    event = {
        "schemaVersion": "1.0",
        "evaluatorId": "agentarch-trajectory-abc1234567",
        "evaluatorName": "agentarch_trajectory",
        "evaluationLevel": "SESSION",
        "evaluationInput": {"sessionSpans": spans},
    }
    verdict: dict[str, Any] = evaluator.lambda_handler(event, LocalLambdaContext())
    return verdict


def recorded(stack: RunningStack, tmp_path: Path, *options: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "recorded.json"
    status = main(
        [
            "eval",
            "--recorded",
            "--state-dir",
            str(stack.state_dir),
            "--format",
            "json",
            "--out",
            str(out),
            *options,
        ]
    )
    return status, json.loads(out.read_text(encoding="utf-8"))


def test_turns_a_stack_served_pass_the_trajectory_checks_each_from_its_source(
    stack_factory: Callable[..., RunningStack], tmp_path: Path
) -> None:
    stack = stack_factory(3, "--rate-limit", "5000")
    with stack.client(CAROL) as carol, stack.client(BOB) as bob, stack.client(ALICE) as alice:
        paused = chat(carol, message="open a ticket: the stapler on floor 5 is jammed")
        chat(
            carol,
            session_id=paused["session_id"],
            approval={"id": paused["pending_approval"]["id"], "decision": "approve"},
        )
        chat(bob, message="how is the weather in Boston this morning?")
        first = chat(alice, message="what is 7 * 6 for my homework today?")
        chat(alice, session_id=first["session_id"], message="what did I ask before?")

    status, report = recorded(stack, tmp_path)

    assert status == 0 and report["status"] == "pass"
    assert report["turns"] == 5
    checks = report["checks"]
    assert {name: c["source"] for name, c in checks.items()} == {
        "approval_before_consequential": "audit",
        "no_denied_retry": "audit",
        "no_foreign_data": "memory",
        "tokens_within_budget": "audit",
        "latency_within_budget": "audit",
    }
    assert checks["no_foreign_data"]["passed"] == 5  # Memory gave the text of every answer
    # The agent's spans (the state directory's span file) show the same turns, each check read from them
    spans_status, from_spans = recorded(stack, tmp_path, "--spans")
    assert spans_status == 0 and from_spans["turns"] == 5
    assert {c["source"] for c in from_spans["checks"].values()} == {"spans"}
    assert from_spans["checks"]["no_foreign_data"]["passed"] == 5
    # The evaluator Lambda passes carol's session: her ticket ran only once she approved it
    verdict = evaluator_verdict(stack, paused["session_id"])
    assert verdict["label"] == "PASS" and verdict["value"] == 1.0, verdict
    only_alice = recorded(stack, tmp_path, "--actor", "alice-sub-that-does-not-exist")[1]
    assert only_alice["turns"] == 0


def test_a_denied_call_retried_in_production_is_found_in_the_trail(
    stack_factory: Callable[..., RunningStack], tmp_path: Path
) -> None:
    stack = stack_factory(
        3, "--rate-limit", "5000", "--offline-model", "faulty:retry_denied=1", "--seed", "3"
    )
    with stack.client(BOB) as bob:
        reply = chat(bob, message="how is the weather in Denver tonight?")
    assert [c["decision"] for c in reply["tool_calls"]] == ["deny", "deny"]

    status, report = recorded(stack, tmp_path)

    assert status == 1
    assert [(f["check"], f["source"]) for f in report["failures"]] == [("no_denied_retry", "audit")]
    assert [(f["check"], f["source"]) for f in recorded(stack, tmp_path, "--spans")[1]["failures"]] == [
        ("no_denied_retry", "spans")
    ]
    verdict = evaluator_verdict(stack, reply["session_id"])
    assert verdict["label"] == "FAIL" and "no_denied_retry" in verdict["explanation"], verdict


def test_against_a_running_stack_each_scenario_runs_as_the_user_in_its_groups(
    stack_factory: Callable[..., RunningStack], tmp_path: Path
) -> None:
    # Given a running stack with bob (no group) and carol (users, weather, support), and a suite whose
    # scenarios need each of them, and one group set nobody has
    stack = stack_factory(3, "--rate-limit", "5000")
    suite = tmp_path / "against.yaml"
    suite.write_text(
        "suite: against\nruns: 2\nuser: {groups: []}\nscenarios:\n"
        "  - id: bob-is-denied-the-weather\n    turns:\n"
        "      - say: how is the weather in Austin right now?\n        expect: {tools: [], denied: [weather]}\n"
        "  - id: carol-gets-the-weather\n    user: {groups: [users, weather, support]}\n    turns:\n"
        "      - say: how is the weather in Austin right now?\n        expect: {tools: [weather], denied: []}\n"
        "  - id: nobody-is-an-auditor\n    user: {groups: [auditors]}\n    turns: [{say: hello there}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    users = [f"{name}:{password}" for name, password in (BOB, CAROL)]

    status = main(["eval", str(suite), "--against", stack.url, "--user", users[0], "--user", users[1],
                   "--format", "json", "--out", str(out), "--quiet"])  # fmt: skip

    report = json.loads(out.read_text(encoding="utf-8"))
    statuses = {s["id"]: s["status"] for s in report["suites"][0]["scenarios"]}
    assert statuses == {
        "bob-is-denied-the-weather": "pass",
        "carol-gets-the-weather": "pass",
        "nobody-is-an-auditor": "skipped",
    }
    assert status == 0 and report["pass_hat"] == {"1": 1.0, "2": 1.0}


def test_eval_against_a_running_stack_with_a_wrong_password_exits_2_before_any_turn(
    stack_factory: Callable[..., RunningStack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running stack and a suite, and bob's name with a password that is not his
    stack = stack_factory(3)
    suite = tmp_path / "wrong.yaml"
    suite.write_text("suite: wrong\nruns: 1\nscenarios:\n  - id: hello\n    turns: [{say: hello there}]\n")
    out = tmp_path / "report.json"

    status = main(["eval", str(suite), "--against", stack.url, "--user", f"{BOB[0]}:not-bobs-secret-9",
                   "--out", str(out), "--quiet"])  # fmt: skip

    # Then eval stops with exit 2 and says whose sign-in failed, never echoing the password, and no
    # report is written (nothing ran)
    error = capsys.readouterr().err
    assert status == 2
    assert repr(BOB[0]) in error and "could not sign in" in error
    assert "not-bobs-secret-9" not in error
    assert not out.exists()
    # And a stack nobody runs is named as such, also with exit 2
    assert main(["eval", str(suite), "--against", "http://127.0.0.1:9", "--user", "bob:x", "--quiet"]) == 2
    assert "is the stack running?" in capsys.readouterr().err
