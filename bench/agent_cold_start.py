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

import httpx

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


def first_answer_ms(args: list[str], env: dict[str, str], socket_path: Path) -> float:
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
    samples = 1 if smoke else 7
    figures: dict[str, list[float]] = {label: [] for label, _, _ in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp, stub_bedrock() as bedrock_url:
        for n in range(samples):
            for number, (label, args, extra) in enumerate(VARIANTS):
                socket_path = Path(tmp) / f"agent-{n}-{number}.sock"
                figures[label].append(first_answer_ms(args, agent_env(extra, bedrock_url), socket_path))
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
    return Result("agent_cold_start", [table], data)
