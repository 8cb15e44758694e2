"""`agentarch eval`'s scenario format, its report and its checks, without a stack."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agentarch.core.contracts import TokenUsage, ToolCall
from agentarch.core.decisions import Decision
from agentarch.dev.cli import main
from agentarch.dev.evals.report import build_report, pass_hat, render_json, render_junit, render_text
from agentarch.dev.evals.runner import RunRecord
from agentarch.dev.evals.suite import SuiteError, load_suite, load_suites
from agentarch.services.evaluation import (
    Budget,
    Expect,
    TurnTrace,
    check_expectations,
    no_denied_retry,
    no_foreign_data,
    trajectory_checks,
)

SHIPPED = Path(__file__).resolve().parents[2] / "evals"


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    return caught.value.problems


def test_a_turn_with_both_say_and_approve_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "suite: s\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n        expect: {tools: []}\n"
        "      - say: again\n        approve: true\n",
    )

    assert problems(path) == [f"{path}:7: scenarios.0.turns.1: a turn has exactly one of `say` or `approve`"]


def test_a_misspelt_expectation_names_its_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "suite: s\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n        expect:\n          tool: [x]\n",
    )

    assert problems(path) == [f"{path}:7: scenarios.0.turns.0.expect.tool: Extra inputs are not permitted"]


def test_broken_yaml_a_bad_regex_and_a_repeated_id_are_each_located(tmp_path: Path) -> None:
    broken = write(tmp_path, "suite: s\nscenarios:\n  - id: [a\n", "broken.yaml")
    regex = write(
        tmp_path,
        "suite: s\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n        expect: {answer_matches: '(x'}\n",
        "regex.yaml",
    )
    twice = write(
        tmp_path,
        "suite: s\nscenarios:\n  - id: a\n    turns: [{say: hi}]\n  - id: a\n    turns: [{say: ho}]\n",
        "twice.yaml",
    )

    assert problems(broken)[0].startswith(f"{broken}:4: not valid YAML")
    assert problems(regex)[0].startswith(
        f"{regex}:6: scenarios.0.turns.0.expect.answer_matches: not a regular"
    )
    assert problems(twice) == [f"{twice}:5: scenarios.1.id: scenario id 'a' appears twice"]


def test_a_malformed_suite_exits_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "suite: s\nscenarios:\n  - id: a\n    turns: [{say: hi}]\n", "good.yaml")
    bad = write(tmp_path, "suite: s\nruns: 0\nscenarios:\n  - id: a\n    turns: [{say: hi}]\n", "bad.yaml")

    status = main(["eval", str(good), str(bad)])

    err = capsys.readouterr().err
    assert status == 2
    assert f"{bad}:2: runs: Input should be greater than or equal to 1" in err
    assert "nothing ran" in err and "starting a local stack" not in err


def test_the_shipped_suite_covers_every_tool_and_every_rule_of_the_default_policy() -> None:
    suites = load_suites([SHIPPED])
    scenarios = [s for suite in suites for s in suite.scenarios]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(SHIPPED.rglob("*.yaml")))
    policy = (SHIPPED.parent / "src/agentarch/agent/policies/tools.cedar").read_text(encoding="utf-8")
    rule_ids = [line.split('"')[1] for line in policy.splitlines() if line.startswith("@id(")]
    ran = {t for s in scenarios for turn in s.turns for t in (turn.expect.tools or [])}
    denied = {t for s in scenarios for turn in s.turns for t in (turn.expect.denied or [])}

    assert len(scenarios) >= 25
    assert ran >= {"current_time", "calculator", "weather", "create_ticket"}
    assert denied >= {"weather", "create_ticket", "calculator"}
    assert [rule for rule in [*rule_ids, "default-deny"] if rule not in text] == []
    turns = [turn for s in scenarios for turn in s.turns]
    assert any(turn.approve is True for turn in turns) and any(turn.approve is False for turn in turns)
    assert any(turn.expect.status == 429 for turn in turns)


@pytest.mark.parametrize(
    ("successes", "runs", "k", "expected"), [(5, 5, 5, 1.0), (4, 5, 1, 0.8), (4, 5, 2, 0.6), (3, 5, 4, 0.0)]
)
def test_pass_hat_is_tau_bench_s(successes: int, runs: int, k: int, expected: float) -> None:
    assert pass_hat(successes, runs, k) == pytest.approx(expected)


def call(name: str, decision: Decision = Decision.ALLOW, **args: object) -> ToolCall:
    return ToolCall(name=name, args=dict(args), decision=decision)


def trace(*calls: ToolCall, answer: str = "ok", pending: str | None = None) -> TurnTrace:
    return TurnTrace(actor_id="u", session_id="s", answer=answer, tool_calls=list(calls), pending_tool=pending,
                     usage=TokenUsage(input_tokens=10, output_tokens=5), latency_ms=12.0)  # fmt: skip


def test_expectations_report_what_was_expected_and_what_came() -> None:
    expect = Expect(tools=["calculator"], args={"calculator": {"expression": "17 * 23"}}, denied=["weather"],
                    answer_contains="= 391", answer_matches=r"\d+", approval="create_ticket")  # fmt: skip
    got = trace(call("current_time", timezone="UTC"), call("weather", Decision.DENY), answer="It is noon")

    failed = {r.check: (r.expected, r.got) for r in check_expectations(expect, got) if not r.passed}

    assert failed == {
        "tools": (["calculator"], ["current_time"]),
        "args.calculator": ({"expression": "17 * 23"}, []),
        "answer_contains": ("= 391", "It is noon"),
        "answer_matches": (r"\d+", "It is noon"),
        "approval": ("create_ticket", None),
    }


def test_a_refused_call_asked_again_in_the_same_turn_is_caught() -> None:
    retried = trace(call("weather", Decision.DENY), call("weather", Decision.DENY))
    once = trace(call("weather", Decision.DENY), call("calculator"))

    assert not no_denied_retry(retried).passed and no_denied_retry(once).passed


def test_a_consequential_call_that_ran_without_approval_is_caught() -> None:
    unapproved = trace(call("create_ticket", Decision.LOG_ONLY_DENY))
    approved = trace(call("create_ticket", Decision.APPROVED))
    budget = Budget()

    bad = trajectory_checks(unapproved, consequential={"create_ticket"}, budget=budget)
    good = trajectory_checks(approved, consequential={"create_ticket"}, budget=budget)

    assert [r.check for r in bad if not r.passed] == ["approval_before_consequential"]
    assert all(r.passed for r in good)


def test_another_users_message_in_an_answer_is_caught_but_not_ones_own() -> None:
    answer = trace(answer="You previously asked: “my account number is 12345678 at the bank”.")
    others = ["my account number is 12345678 at the bank"]

    assert not no_foreign_data(answer, own_texts=[], others_texts=others).passed
    assert no_foreign_data(answer, own_texts=others, others_texts=others).passed


def test_another_users_words_a_permitted_tool_returned_this_turn_are_not_a_leak() -> None:
    words = "my printer on floor 3 prints only blank pages"
    said = f"Ticket T-1 says: {words}."
    searched = ToolCall(name="search_tickets", args={"query": "printer"}, output=f'[{{"body": "{words}"}}]')
    refused = searched.model_copy(update={"decision": Decision.DENY})

    assert no_foreign_data(trace(searched, answer=said), own_texts=[], others_texts=[words]).passed
    assert not no_foreign_data(trace(refused, answer=said), own_texts=[], others_texts=[words]).passed
    assert not no_foreign_data(trace(answer=said), own_texts=[], others_texts=[words]).passed


def test_tokens_and_latency_over_the_budget_fail() -> None:
    results = trajectory_checks(
        trace(), consequential=(), budget=Budget(tokens_per_turn=10, latency_ms_per_turn=5)
    )

    assert {r.check: r.got for r in results if not r.passed} == {
        "tokens_within_budget": 15,
        "latency_within_budget": 12.0,
    }


def test_the_report_in_json_and_junit(tmp_path: Path) -> None:
    suite = load_suite(
        write(
            tmp_path,
            "suite: s\nruns: 2\nscenarios:\n  - id: a\n    turns:\n      - say: hi\n        expect: {tools: [calculator]}\n"
            "  - id: b\n    turns: [{say: ho}]\n",
        )
    )
    good = trace(call("calculator", expression="1"))
    records = [
        RunRecord("s", "a", 1, "u1", traces=[good], said=["hi"]),
        RunRecord("s", "a", 2, "u2", traces=[trace()], said=["hi"]),
        RunRecord("s", "b", 1, "u3", traces=[trace()], said=["ho"]),
        RunRecord("s", "b", 2, "u4", error="HTTP 502 bad_gateway: the agent failed", error_turn=1),
    ]

    report = build_report([suite], records, None, "here")
    document = json.loads(render_json(report))
    junit = ET.fromstring(render_junit(report).split("?>", 1)[1])

    assert document["status"] == "error" and document["version"] == 1
    a, b = document["suites"][0]["scenarios"]
    assert (a["status"], a["passed"], a["runs"], a["pass_hat"]) == ("fail", 1, 2, {"1": 0.5, "2": 0.0})
    assert a["failures"] == [
        {"run": 2, "turn": 1, "check": "tools", "expected": ["calculator"], "got": [], "source": "api"}
    ]
    assert (b["status"], b["errors"][0]["message"]) == ("error", "HTTP 502 bad_gateway: the agent failed")
    cases = junit.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["a", "b"]
    assert cases[0].find("failure") is not None and cases[1].find("error") is not None
    assert 'run 2 turn 1 tools: expected ["calculator"], got []' in render_text(report)


def test_a_pass_over_the_scenarios_that_ran_says_how_many_were_skipped(tmp_path: Path) -> None:
    suite = load_suite(
        write(
            tmp_path,
            "suite: s\nruns: 1\nscenarios:\n  - id: a\n    turns: [{say: hi}]\n  - id: b\n    turns: [{say: ho}]\n",
        )
    )
    records = [
        RunRecord("s", "a", 1, "u1", traces=[trace()], said=["hi"]),
        RunRecord("s", "b", 1, "u2", error="skipped: needs the offline model", error_turn=1),
    ]

    text = render_text(build_report([suite], records, None, "here"))

    assert text.splitlines()[-1].startswith("PASS:")
    assert "1 of 2 scenarios skipped, not counted" in text.splitlines()[-1]
    ran = RunRecord("s", "b", 1, "u2", traces=[trace()], said=["ho"])
    everything_ran = render_text(build_report([suite], [records[0], ran], None, "here"))
    assert "skipped" not in everything_ran.splitlines()[-1]
