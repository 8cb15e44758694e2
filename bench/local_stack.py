"""The local stack end to end (pattern 3, offline model) at 1, 4 and 16 clients, and the time per hop.

Throughput: N clients, each its own signed-in HTTP client, send `POST /api/chat` back to back
(a new conversation each time, so every turn claims a session, runs the agent and stores the turn);
p50/p99 and requests per second over the whole run, after a warm-up that starts the execution
environments and agent workers the level needs (a cold start is `cold_start`'s business).

Per hop, at one client: the same turn sent to each piece directly, from the outside in, and the time
of a hop is the difference of the medians (its own work plus one loopback hop):
  front door       POST /api/chat on the front door (rate rule, authorizer, proxy event)
  Lambda host      the chat function's Invoke API on its Unix socket (environment pool, the handler)
  runtime endpoint InvokeAgentRuntime with SigV4, as the chat Lambda sends it (signature check, a worker)
  agent            `/invocations` on an agent process of the bench's own (BedrockAgentCoreApp, LangGraph)
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from agentarch.core.sessions import SESSION_HEADER, new_session_id
from agentarch.dev.testing import RunningStack, rest_api_event, start_local_stack
from bench.report import Result, Table, percentile

PROMPT = "what is 17 * 23?"


def bench_stack(tmp: Path) -> RunningStack:
    """The local stack with every user-facing limit out of the way: one user sends all the turns."""
    return start_local_stack(
        tmp,
        3,
        *("--rate-limit", "1000000", "--agent-workers", "4"),
        *("--daily-requests", "1000000", "--daily-tokens", "10000000000"),
    )


def runtime_client(stack: RunningStack, read_timeout: float) -> Any:
    """boto3's bedrock-agentcore client for the stack's runtime endpoint, signing as the chat Lambda's role."""
    config = stack.config()
    creds = json.loads((stack.state_dir / "credentials.json").read_text())
    return boto3.client(
        "bedrock-agentcore",
        region_name=config["runtime_arn"].split(":")[3],
        endpoint_url=config["runtime_url"].split("/runtimes/")[0],
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout),
    )


@contextlib.contextmanager
def own_agent(stack: RunningStack, socket_path: Path) -> Iterator[httpx.Client]:
    """An agent process like the stack's workers (same store), reachable only by the bench."""
    env = {k: v for k, v in os.environ.items() if k not in ("MODEL_PROVIDER", "BEDROCK_MODEL_ID")}
    env |= {
        "MODEL_PROVIDER": "offline",
        "STORAGE_BACKEND": "sqlite",
        "SQLITE_PATH": str(stack.state_dir / "agentarch.db"),
        "AUDIT_KEY_FILE": str(stack.state_dir / "audit.key"),  # its tool-call records, as the workers'
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "agentarch.dev.local.agent_host", str(socket_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(
        transport=httpx.HTTPTransport(uds=str(socket_path)), base_url="http://agent", timeout=60
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if client.get("/ping").status_code == 200:
                    break
            time.sleep(0.1)
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def hop_callers(stack: RunningStack, agent: httpx.Client) -> dict[str, Callable[[], None]]:
    """One call per piece, outermost first; each raises unless the turn was answered."""
    config = stack.config()
    api = stack.client()
    lambda_socket = stack.state_dir / "run" / "lambda-chat.sock"
    to_lambda = httpx.Client(
        transport=httpx.HTTPTransport(uds=str(lambda_socket)), base_url="http://lambda", timeout=60
    )
    runtime = runtime_client(stack, 60)
    payload = {"prompt": PROMPT, "actor": {"id": "bench-user", "groups": []}}

    def front_door() -> None:
        api.post("/chat", json={"message": PROMPT}).raise_for_status()

    def lambda_host() -> None:
        event = rest_api_event("POST", "/api/chat", body={"message": PROMPT}, claims={"sub": "bench-user"})
        answer = to_lambda.post("/2015-03-31/functions/chat/invocations", json=event)
        answer.raise_for_status()
        if answer.json().get("statusCode") != 200:
            raise RuntimeError(f"the chat Lambda answered {answer.text[:300]}")

    def runtime_endpoint() -> None:
        answer = runtime.invoke_agent_runtime(
            agentRuntimeArn=config["runtime_arn"],
            runtimeSessionId=new_session_id(),
            contentType="application/json",
            accept="application/json",
            payload=json.dumps(payload).encode(),
        )
        answer["response"].read()

    def agent_alone() -> None:
        agent.post(
            "/invocations", json=payload, headers={SESSION_HEADER: new_session_id()}
        ).raise_for_status()

    return {
        "front door": front_door,
        "Lambda host": lambda_host,
        "runtime endpoint": runtime_endpoint,
        "agent": agent_alone,
    }


def load(stack: RunningStack, clients: int, per_client: int) -> tuple[list[float], float, Counter[str]]:
    """`clients` threads sending turns back to back: the answered turns' latencies (ms), the wall
    time (s), and the failures by status and error code (counted, never hidden)."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    sessions = [stack.client() for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def work(client: httpx.Client) -> None:
        start.wait()
        for _ in range(per_client):
            begun = time.perf_counter()
            answer = client.post("/chat", json={"message": PROMPT})
            elapsed = (time.perf_counter() - begun) * 1000
            with lock:
                if answer.status_code == 200:
                    latencies.append(elapsed)
                else:
                    errors[f"{answer.status_code} {_error_code(answer)}"] += 1

    threads = [threading.Thread(target=work, args=(c,)) for c in sessions]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    for client in sessions:
        client.close()
    return latencies, wall, errors


def _error_code(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "?"


def run(smoke: bool) -> Result:
    levels = (1, 2) if smoke else (1, 4, 16)
    per_client = 2 if smoke else 40
    hop_samples = 2 if smoke else 40
    with tempfile.TemporaryDirectory() as tmp:
        stack = bench_stack(Path(tmp))
        levels_rows: list[list[str]] = []
        levels_data: dict[str, dict[str, Any]] = {}
        try:
            for clients in levels:
                load(stack, clients, 3)  # warm-up: environments and workers for this level
                latencies, wall, errors = load(stack, clients, per_client)
                p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
                rate = len(latencies) / wall
                levels_data[str(clients)] = {
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "requests_per_s": rate,
                    "n": len(latencies),
                    "errors": dict(errors),
                }
                failed = ", ".join(f"{count}× {what}" for what, count in errors.items()) or "none"
                levels_rows.append([str(clients), f"{p50:.0f} ms", f"{p99:.0f} ms", f"{rate:.1f}", failed])
            base = levels_data["1"]
            for row, clients in zip(levels_rows, levels, strict=True):
                figures = levels_data[str(clients)]
                row += [
                    f"{figures['p50_ms'] / base['p50_ms']:.2f}×",
                    f"{figures['requests_per_s'] / base['requests_per_s']:.2f}×",
                ]
            with own_agent(stack, Path(tmp) / "bench-agent.sock") as agent:
                callers = hop_callers(stack, agent)
                times: dict[str, list[float]] = {name: [] for name in callers}
                for call in callers.values():
                    call()  # warm
                for _ in range(hop_samples):
                    for name, call in callers.items():  # interleaved
                        begun = time.perf_counter()
                        call()
                        times[name].append((time.perf_counter() - begun) * 1000)
        except Exception:
            print(stack.log.read_text()[-5000:], file=sys.stderr)
            raise
        finally:
            stack.stop()
            if any(figures["errors"] for figures in levels_data.values()):
                print(
                    f"failures at some level; the stack's log:\n{stack.log.read_text()[-5000:]}",
                    file=sys.stderr,
                )
                for log in sorted((stack.state_dir / "logs").glob("*.log")):
                    print(f"--- {log.name}\n{log.read_text()[-3000:]}", file=sys.stderr)
    names = list(times)
    medians = {name: percentile(times[name], 50) for name in names}
    total = medians[names[0]]
    hop_rows, hop_data = [], {}
    for n, name in enumerate(names):
        own = medians[name] - (medians[names[n + 1]] if n + 1 < len(names) else 0.0)
        hop_rows.append([name, f"{medians[name]:.1f} ms", f"{own:.1f} ms", f"{own / total:.0%}"])
        hop_data[name] = {"median_from_here_ms": medians[name], "hop_ms": own, "samples": len(times[name])}
    throughput = Table(
        title="Local stack end to end (pattern 3, offline model, 4 agent workers): `POST /api/chat`",
        compares=f"1 client in the same run (p50 and requests/s ratios); {per_client} turns per client after a warm-up",
        columns=["clients", "p50", "p99", "answered/s", "failed", "p50 × 1 client", "answered/s × 1 client"],
        rows=levels_rows,
        notes=[
            "every turn is a new conversation: claim in the index, agent (LangGraph + calculator), one Memory write"
        ],
    )
    hops = Table(
        title="Time per hop at 1 client (the same turn sent to each piece directly; medians, differences)",
        compares=f"the whole request through the front door, {hop_samples} samples per piece interleaved; "
        "a hop's time is its median minus the next piece's",
        columns=["entered at", "median from here", "this hop", "share of the whole"],
        rows=hop_rows,
        notes=[
            "the agent row is an agent process of the bench's own, like the stack's workers; the rest are the stack's"
        ],
    )
    return Result("local_stack", [throughput, hops], {"levels": levels_data, "hops": hop_data})
