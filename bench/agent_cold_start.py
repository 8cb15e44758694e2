"""Agent runtime cold start to first answer: a fresh process until its first `/invocations` answers.

`agentarch.agent.app` started as the runtime starts it (`bench/agent_entry.py`: build the agent, then
serve), with the Bedrock model configured as in AWS (its Converse API stubbed on loopback,
`bench/stub_bedrock.py`: the real ChatBedrockConverse, boto3 clients and SigV4) and with the offline
model, against AgentCore's runtime SDK alone answering a fixed reply (`bench/baseline_agent.py`),
sampled interleaved in the same run. The clock runs from spawning the process to the first answer read.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.cold_start import median_budget, own_time_by_package
from bench.report import Result, Spread, Table, ratio
from bench.stub_bedrock import MODEL_ID, stub_bedrock

PAYLOAD = {"prompt": "what is 17 * 23?", "actor": {"id": "bench-user", "groups": []}}
SESSION = {"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "bench-session-" + "0" * 32}
HERE = Path(__file__).resolve().parent
BEDROCK = "agentarch agent, Bedrock model (Converse stubbed)"
# (label, the script, the environment it adds): the stub's URL is filled in when it runs
VARIANTS: tuple[tuple[str, list[str], dict[str, str]], ...] = (
    ("runtime SDK alone (baseline)", [str(HERE / "baseline_agent.py")], {}),
    (BEDROCK, [str(HERE / "agent_entry.py")], {"BEDROCK_MODEL_ID": MODEL_ID}),
    # The same without the OpenInference instrumentation: the difference is what the spans cost.
    (
        "… the same, AGENT_TELEMETRY=off (no OpenInference spans)",
        [str(HERE / "agent_entry.py")],
        {"BEDROCK_MODEL_ID": MODEL_ID, "AGENT_TELEMETRY": "off"},
    ),
    ("agentarch agent, offline model", [str(HERE / "agent_entry.py")], {"MODEL_PROVIDER": "offline"}),
)


def agent_env(extra: dict[str, str], bedrock_url: str) -> dict[str, str]:
    """No storage (as pattern 2), fake credentials, Bedrock's endpoint on the stub."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "MODEL_PROVIDER", "BEDROCK_", "STORAGE_BACKEND", "POLICY_"))
    }
    return env | {
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCHBENCHBENCH0",
        "AWS_SECRET_ACCESS_KEY": "bench-secret-bench-secret-bench-secret-00",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_url,
        **extra,
    }


def first_answer_ms(
    args: list[str],
    env: dict[str, str],
    socket_path: Path,
    python_flags: tuple[str, ...] = (),
    stderr: Any = None,
) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *python_flags, *args, str(socket_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
    )
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket_path)), timeout=30) as client:
            while time.perf_counter() - started < 120:
                if process.poll() is not None:
                    raise RuntimeError(f"{args} exited with {process.returncode} before answering")
                with contextlib.suppress(httpx.TransportError):
                    answer = client.post("http://agent/invocations", json=PAYLOAD, headers=SESSION)
                    answer.raise_for_status()
                    if "391" not in answer.text and "baseline" not in answer.text:
                        raise RuntimeError(f"unexpected answer: {answer.text[:200]}")
                    return (time.perf_counter() - started) * 1000
                time.sleep(0.005)
        raise RuntimeError(f"{args} did not answer within 120 s")
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(smoke: bool) -> Result:
    samples = 1 if smoke else 7
    figures: dict[str, list[float]] = {label: [] for label, _, _ in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp, stub_bedrock() as bedrock_url:
        for n in range(samples):
            for number, (label, args, extra) in enumerate(VARIANTS):
                socket_path = Path(tmp) / f"agent-{n}-{number}.sock"
                figures[label].append(first_answer_ms(args, agent_env(extra, bedrock_url), socket_path))
        budgets = {
            label: import_budget(args, agent_env(extra, bedrock_url), Path(tmp), 1 if smoke else 3)
            for label, args, extra in (VARIANTS[0], VARIANTS[1])
        }
    base = figures[VARIANTS[0][0]]
    rows, data = [], {}
    for label, _, _ in VARIANTS:
        spread, against = Spread.of(figures[label]), ratio(figures[label], base)
        rows.append([label, spread.fmt(" ms", 0), against.fmt("×", 2)])
        data[label] = {"first_answer_ms": spread.as_json(), "ratio": against.as_json()}
    table = Table(
        title="Agent runtime cold start to first answer (fresh process → first `/invocations` answered)",
        compares=f"AgentCore's runtime SDK alone answering a fixed reply (`bench/baseline_agent.py`), "
        f"{samples} fresh processes each, interleaved; × is the median of the pairwise ratios (min–max)",
        columns=["agent", "spawn → first answer", "× baseline"],
        rows=rows,
        notes=[
            f"target: {BEDROCK} ≤ 2.5× the baseline",
            "the first question is arithmetic: either model calls the calculator tool once, then answers",
            "AGENT_TELEMETRY=off skips importing and applying the OpenInference instrumentation "
            "(the agent's spans for AgentCore Observability and online evaluation)",
        ],
    )
    data["import_budget_ms"] = {
        label: dict(sorted(b.items(), key=lambda kv: -kv[1])) for label, b in budgets.items()
    }
    return Result("agent_cold_start", [table, budget_table(budgets, BEDROCK, VARIANTS[0][0])], data)


def import_budget(args: list[str], env: dict[str, str], tmp: Path, runs: int) -> dict[str, float]:
    """`python -X importtime` over a whole start to first answer, own time by package, median of `runs`."""
    per_run = []
    for n in range(runs):
        report = tmp / f"importtime-{n}.txt"
        with report.open("w") as stderr:
            first_answer_ms(args, env, tmp / f"budget-{n}.sock", ("-X", "importtime"), stderr)
        per_run.append(own_time_by_package(report.read_text()))
    return median_budget(per_run)


def budget_table(budgets: dict[str, dict[str, float]], agent: str, baseline: str) -> Table:
    """Per package: what the agent's start imports beyond the runtime SDK alone, biggest first."""
    spent, base = budgets[agent], budgets[baseline]
    names = sorted(spent, key=lambda name: spent[name] - base.get(name, 0.0), reverse=True)
    rows = [
        [
            name,
            f"{spent[name]:.1f}",
            f"{base.get(name, 0.0):.1f}",
            f"{spent[name] - base.get(name, 0.0):+.1f}",
        ]
        for name in names[:16]
    ]
    over = sum(spent.values()) - sum(base.values())
    return Table(
        title="Where the agent's start goes (`python -X importtime`, own time in ms, median of runs)",
        compares=f"{agent} against the {baseline}, agentarch split by subpackage, the biggest "
        "excess first: the next thing to cut is the top row",
        columns=["package", "agent", "runtime SDK alone", "over the SDK"],
        rows=rows,
        notes=[
            f"all packages together: {over:+.0f} ms over the runtime SDK alone "
            "(importtime's own overhead inflates every figure alike)"
        ],
    )
