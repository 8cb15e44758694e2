"""What the Cedar tool policy costs per tool call, with the default policy set.

Measured in one process, the way the agent runs it (the policy folder parsed once):
- `decide` per call for each kind of decision the default policy makes: allow (one evaluation),
  deny (one), pending approval (two: without, then with, the approval);
- the per-turn partial evaluation that keeps never-permitted tools from the model (four tools);
- against what it guards: a whole offline-model turn with one tool call through the graph, so the
  share of a turn spent authorizing is a ratio measured in the same run.

Run: .venv/bin/python -m bench --only authorization  (`make bench` runs every benchmark)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agentarch.agent.graph import Turn, build_graph, run_turn
from agentarch.agent.offline_model import OfflineChatModel
from agentarch.agent.policy import CallHistory, decide, load_tool_policy
from agentarch.agent.tools import WeatherService, build_tools
from agentarch.core.identity import Actor
from bench.report import Result, Table, percentile

SESSION = "s" * 40


def timed(action: Callable[[], Any], runs: int) -> list[float]:
    action()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def p50_p99_us(samples: list[float]) -> tuple[float, float]:
    return percentile(samples, 50) * 1e6, percentile(samples, 99) * 1e6


def measure(calls: int) -> dict[str, Any]:
    """Every figure, as a dict (the bench runner writes it to results/latest.json)."""
    started = time.perf_counter()
    policy = load_tool_policy()
    load_seconds = time.perf_counter() - started
    member = Actor(id="user-1", groups=("users", "weather", "support"))
    outsider = Actor(id="user-2", groups=("users",))
    history = CallHistory()
    weather = {"latitude": 47.6062, "longitude": -122.3321}
    ticket = {"title": "printer", "severity": "medium", "body": "floor 3"}
    cases: dict[str, Callable[[], Any]] = {
        "allow (calculator)": lambda: decide(policy, member, "calculator", {"expression": "1 + 1"}, history),
        "deny (weather, outsider)": lambda: decide(policy, outsider, "weather", weather, history),
        "pending approval (ticket)": lambda: decide(policy, member, "create_ticket", ticket, history),
        "tools offered (partial eval, 4 tools)": lambda: [
            policy.may_ever_allow(member, t) for t in policy.tools
        ],
    }
    rows = {name: p50_p99_us(timed(action, calls)) for name, action in cases.items()}

    graph = build_graph(OfflineChatModel(), build_tools(WeatherService("https://api.weather.gov", 1)), policy)
    turn_samples = timed(
        lambda: run_turn(graph, [], "what is 17 * 23?", Turn(principal=member, session_id=SESSION)),
        max(20, calls // 50),
    )
    turn_p50, turn_p99 = p50_p99_us(turn_samples)
    per_turn_authorization = rows["allow (calculator)"][0] + rows["tools offered (partial eval, 4 tools)"][0]
    return {
        "policy_load_ms": load_seconds * 1e3,
        "per_call_us": {name: {"p50": p50, "p99": p99} for name, (p50, p99) in rows.items()},
        "offline_turn_us": {"p50": turn_p50, "p99": turn_p99},
        "authorization_share_of_turn": per_turn_authorization / turn_p50,
    }


def run(smoke: bool) -> Result:
    """The registry's entry point (`make bench`)."""
    figures = measure(20 if smoke else 2000)
    rows = [[name, f"{f['p50']:.0f}", f"{f['p99']:.0f}"] for name, f in figures["per_call_us"].items()]
    turn = figures["offline_turn_us"]
    rows.append(["a whole offline-model turn with one tool call", f"{turn['p50']:.0f}", f"{turn['p99']:.0f}"])
    table = Table(
        title="Tool policy (Cedar) cost per tool call, default policy set",
        compares="a whole offline-model turn with one tool call, in the same run",
        columns=["decision", "p50 µs", "p99 µs"],
        rows=rows,
        notes=[
            f"one call's authorization plus the per-turn partial evaluation is "
            f"{figures['authorization_share_of_turn']:.1%} of the turn (p50); the policy folder parses in "
            f"{figures['policy_load_ms']:.0f} ms, once per process"
        ],
    )
    return Result("authorization", [table], figures)
