"""Warm per-request cost of the chat Lambda against the boto3-only handler, guardrails off and on.

One process per handler answers a first event (its cold start, not timed here), then N more, each
timed; the agent is the stub runtime, so the figures are the handlers' own cost plus one loopback
SigV4 call, the same for all. Tracing is off (as `make dev` runs the Lambdas): X-Ray's cost per
request is the daemon's UDP send, which nothing receives here.

"Guardrails" are what `handlers/http.py` adds before the route runs: `guarded_resolve`'s body-size,
media-type and JSON checks (the 413, 415 and 400 answers). With them off the resolver is called
directly; its OpenAPI request validation stays on either way, because it is how the route gets its
typed body (pydantic `ChatRequest`), and the response is validated as `ChatReply`.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from bench.cold_start import BASELINE, CHAT, chat_event, lambda_env, probe
from bench.report import Result, Spread, Table, percentile
from bench.stub_runtime import stub_runtime

OFF = {"POWERTOOLS_TRACE_DISABLED": "true"}
# (label, handler, probe flags)
VARIANTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("boto3-only handler (baseline)", BASELINE, ()),
    ("chat Lambda, guardrails off", CHAT, ("--unguarded",)),
    ("chat Lambda, guardrails on (as deployed)", CHAT, ()),
)


def warm_samples(
    handler: str, flags: tuple[str, ...], env: dict[str, str], event: str, n: int
) -> list[float]:
    done = probe(handler, env, event, "--warm", str(n), *flags, flags_after=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return list(figures["warm_ms"])


def run(smoke: bool) -> Result:
    requests = 3 if smoke else 400
    rounds = 1 if smoke else 3  # fresh processes per handler, interleaved
    event = chat_event()
    samples: dict[str, list[float]] = {label: [] for label, _, _ in VARIANTS}
    with tempfile.TemporaryDirectory() as task_root, stub_runtime() as endpoint:
        env = lambda_env(endpoint, task_root) | OFF
        for _ in range(rounds):
            for label, handler, flags in VARIANTS:
                samples[label] += warm_samples(handler, flags, env, event, requests)
    base = samples[VARIANTS[0][0]]
    base_p50, base_p99 = percentile(base, 50), percentile(base, 99)
    rows, data = [], {}
    for label, _, _ in VARIANTS:
        ms = samples[label]
        p50, p99 = percentile(ms, 50), percentile(ms, 99)
        rows.append(
            [
                label,
                f"{p50:.2f} ms",
                f"{p99:.2f} ms",
                f"{p50 / base_p50:.2f}×",
                f"{p50 - base_p50:+.2f} ms",
                f"{p99 - base_p99:+.2f} ms",
            ]
        )
        data[label] = {"p50_ms": p50, "p99_ms": p99, "n": len(ms), "spread": Spread.of(ms).as_json()}
    table = Table(
        title="Warm request through the chat Lambda (stub agent)",
        compares=f"the boto3-only handler in the same run: {rounds} processes × {requests} warm requests "
        "each, interleaved; p50/p99 over all of them",
        columns=["handler", "p50", "p99", "p50 × baseline", "p50 added", "p99 added"],
        rows=rows,
        notes=[
            "guardrails = `guarded_resolve`'s body-size, media-type and JSON checks; the resolver's "
            "OpenAPI validation (request and response models) runs in both chat rows"
        ],
    )
    return Result("warm_overhead", [table], data)
