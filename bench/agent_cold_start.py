"""Agent runtime cold start to first answer: a fresh process until its first `/invocations` answers.

`agentarch.agent.app` (LangGraph, the offline model and its tools, served by `BedrockAgentCoreApp`
exactly as the local stack's agent workers run it: `python -m agentarch.dev.local.agent_host SOCKET`)
against AgentCore's runtime SDK alone answering a fixed reply (`bench/baseline_agent.py`), sampled
interleaved in the same run. The clock runs from spawning the process to the first answer read.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.report import Result, Spread, Table, ratio

PAYLOAD = {"prompt": "what is 17 * 23?", "actor": {"id": "bench-user", "groups": []}}
SESSION = {"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "bench-session-" + "0" * 32}
VARIANTS = (
    ("runtime SDK alone (baseline)", [str(Path(__file__).resolve().parent / "baseline_agent.py")]),
    ("agentarch agent (LangGraph + offline model)", ["-m", "agentarch.dev.local.agent_host"]),
)


def first_answer_ms(args: list[str], socket_path: Path) -> float:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MODEL_PROVIDER", "BEDROCK_MODEL_ID", "STORAGE_BACKEND")
    }
    env |= {"AWS_REGION": "us-east-1", "MODEL_PROVIDER": "offline"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args, str(socket_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
    samples = 1 if smoke else 5
    figures: dict[str, list[float]] = {label: [] for label, _ in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(samples):
            for number, (label, args) in enumerate(VARIANTS):
                figures[label].append(first_answer_ms(args, Path(tmp) / f"agent-{n}-{number}.sock"))
    base = figures[VARIANTS[0][0]]
    rows, data = [], {}
    for label, _ in VARIANTS:
        spread, against = Spread.of(figures[label]), ratio(figures[label], base)
        rows.append([label, spread.fmt(" ms", 0), against.fmt("×", 2)])
        data[label] = {"first_answer_ms": spread.as_json(), "ratio": against.as_json()}
    table = Table(
        title="Agent runtime cold start to first answer (fresh process → first `/invocations` answered)",
        compares=f"AgentCore's runtime SDK alone answering a fixed reply (`bench/baseline_agent.py`), "
        f"{samples} fresh processes each, interleaved; × is the median of the pairwise ratios (min–max)",
        columns=["agent", "spawn → first answer", "× baseline"],
        rows=rows,
        notes=["the first question is arithmetic, so the offline model calls the calculator tool once"],
    )
    return Result("agent_cold_start", [table], data)
