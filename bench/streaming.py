"""Streamed answers through the local stack (pattern 3, the offline model writing at a real model's pace).

Time to the first event and to the whole answer, at 1 client and at 16:
  streamed, secure path   POST /api/chat with Accept: text/event-stream on the front door
                          (rate rule, authorizer, the chat Lambda's environment, quota, audit, SigV4)
  buffered, secure path   the same turn as JSON: the first byte is the whole answer
  streamed, runtime alone InvokeAgentRuntime with SigV4 asking for the event stream, as the chat Lambda does
The secure path's first-event overhead is the difference of the medians (target: at most 20 ms at one
client). At 16 clients two cores queue everything: reported, no target.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from agentarch.core.sessions import new_session_id
from agentarch.dev.testing import RunningStack
from bench.local_stack import PROMPT, bench_stack, runtime_client
from bench.report import Result, Table, percentile

LATENCY_SECONDS = "1.0"  # per model call, spread over its words
Timed = tuple[float, float]  # ms to the first event (first byte for JSON), ms to the whole answer


def callers(stack: RunningStack) -> dict[str, Callable[[], Timed]]:
    config = stack.config()
    api = stack.client(timeout=120)
    runtime = runtime_client(stack, 120)
    payload = {"prompt": PROMPT, "actor": {"id": "bench-user", "groups": ["users"]}, "stream": True}

    def streamed() -> Timed:
        begun = time.perf_counter()
        first = None
        with api.stream(
            "POST", "/chat", json={"message": PROMPT}, headers={"Accept": "text/event-stream"}
        ) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_raw():
                if first is None and b"data:" in chunk:
                    first = time.perf_counter()
                if b'"type":"done"' in chunk:
                    break
        end = time.perf_counter()
        return ((first or end) - begun) * 1000, (end - begun) * 1000

    def buffered() -> Timed:
        begun = time.perf_counter()
        api.post("/chat", json={"message": PROMPT}).raise_for_status()
        elapsed = (time.perf_counter() - begun) * 1000
        return elapsed, elapsed

    def runtime_alone() -> Timed:
        begun = time.perf_counter()
        answer = runtime.invoke_agent_runtime(
            agentRuntimeArn=config["runtime_arn"],
            runtimeSessionId=new_session_id(),
            contentType="application/json",
            accept="text/event-stream",
            payload=json.dumps(payload).encode(),
        )
        body = answer["response"]._raw_stream
        first = None
        while chunk := body.read1(65536):
            if first is None and b"data:" in chunk:
                first = time.perf_counter()
        end = time.perf_counter()
        return ((first or end) - begun) * 1000, (end - begun) * 1000

    return {
        "streamed, secure path": streamed,
        "buffered, secure path": buffered,
        "streamed, runtime alone": runtime_alone,
    }


def concurrent(
    call: Callable[[], Timed], clients: int, per_client: int, failed: list[str] | None = None
) -> list[Timed]:
    """`clients` threads calling back to back; a failed turn is counted in `failed`, never hidden."""
    results: list[Timed] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def work() -> None:
        start.wait()
        for _ in range(per_client):
            try:
                timed = call()
            except Exception as exc:  # a 504 under queueing: counted
                with lock:
                    (failed if failed is not None else []).append(type(exc).__name__)
                continue
            with lock:
                results.append(timed)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run(smoke: bool) -> Result:
    samples = 2 if smoke else 20
    crowd = 2 if smoke else 16
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.dict(os.environ, {"OFFLINE_MODEL_LATENCY_SECONDS": LATENCY_SECONDS}),
    ):
        stack = bench_stack(Path(tmp))
        try:
            calls = callers(stack)
            for call in calls.values():
                call()  # warm
            one: dict[str, list[Timed]] = {name: [] for name in calls}
            for _ in range(samples):
                for name, call in calls.items():  # interleaved
                    one[name].append(call())
            many: dict[str, list[Timed]] = {}
            failures: dict[str, list[str]] = {}
            for name in ("streamed, secure path", "buffered, secure path"):
                concurrent(calls[name], crowd, 1, [])  # warm-up: environments for this level
                failures[name] = []
                many[name] = concurrent(calls[name], crowd, 2 if smoke else 3, failures[name])
        finally:
            stack.stop()
    rows: list[list[str]] = []
    data: dict[str, Any] = {}
    for level, figures in ((1, one), (crowd, many)):
        for name, timed in figures.items():
            first = [t[0] for t in timed]
            whole = [t[1] for t in timed]
            stats = {
                "first_p50_ms": percentile(first, 50),
                "first_p99_ms": percentile(first, 99),
                "whole_p50_ms": percentile(whole, 50),
                "whole_p99_ms": percentile(whole, 99),
                "n": len(timed),
            }
            data[f"{level}/{name}"] = stats
            rows.append(
                [
                    str(level),
                    name,
                    f"{stats['first_p50_ms']:.0f} ms",
                    f"{stats['first_p99_ms']:.0f} ms",
                    f"{stats['whole_p50_ms']:.0f} ms",
                    f"{stats['whole_p99_ms']:.0f} ms",
                ]
            )
    overhead = (
        data["1/streamed, secure path"]["first_p50_ms"] - data["1/streamed, runtime alone"]["first_p50_ms"]
    )
    data["first_event_overhead_ms"] = overhead
    data["failed_at_crowd"] = {name: len(found) for name, found in failures.items()}
    table = Table(
        title="Streamed answers: time to the first event and to the whole answer (pattern 3, offline model at "
        f"{LATENCY_SECONDS} s per model call)",
        compares="the runtime alone (first event) and the buffered JSON answer (whole answer), interleaved in the same run",
        columns=[
            "clients",
            "path",
            "first event p50",
            "first event p99",
            "whole answer p50",
            "whole answer p99",
        ],
        rows=rows,
        notes=[
            f"The secure path adds {overhead:.0f} ms to the first event over the runtime alone at one client "
            "(target: at most 20 ms): the front door's guards, the chat Lambda's environment, quota admission, "
            "the conversation claim and the audit write before the agent is asked.",
            "The buffered answer's first byte is its whole answer: streaming moves the first thing a user "
            "sees from the whole turn to the first tool call or word.",
            f"At {crowd} clients the two cores queue every hop (4 agent workers): reported, no target; failed turns "
            f"(504 past the buffered 29 s limit) — {', '.join(f'{n}: {len(f)}' for n, f in failures.items())}.",
        ],
    )
    return Result(name="streaming", tables=[table], data=data)
