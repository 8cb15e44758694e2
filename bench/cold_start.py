"""Chat Lambda cold start against a boto3-only handler making the same call, in the same run.

Each sample is a fresh process (`cold_start_probe.py`): import the handler, answer one API Gateway
event whose agent call goes, signed with SigV4, to a local stub runtime that answers at once. The
three handlers are sampled interleaved (baseline, traced, untraced, baseline, …) so noise from other
work on the machine falls on all of them alike; ratios are taken pair by pair.

The streaming chat Lambda (issue 25) starts differently: the Lambda Web Adapter runs `run.sh`, which
execs `python3 -m uvicorn agentarch.handlers.chat_stream:app` — a second process beside the adapter —
and waits for its readiness check (`/healthz`) before it relays the event. Its row is that process:
spawned, polled on `/healthz` until it answers (its "import" column therefore includes the
interpreter's own start, which the other rows leave out), then sent the same event as the adapter
sends it (HTTP, the API Gateway context in `x-amzn-request-context`). The adapter binary itself (an
extension, not available here) is not measured.

"Tracing as deployed" is what Terraform deploys: X-Ray `Active` and no `POWERTOOLS_TRACE_DISABLED`,
inside a Lambda environment (`LAMBDA_TASK_ROOT`, a `_X_AMZN_TRACE_ID` header); segments go to the
X-Ray daemon's UDP address, where nothing listens here. "Tracing off" sets
`POWERTOOLS_TRACE_DISABLED=true`, as the local stack does.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from agentarch.dev.local.ports import free_port
from agentarch.dev.packaging.registry import FUNCTIONS
from agentarch.dev.testing import rest_api_event
from bench.report import Result, Spread, Table, ratio
from bench.stub_runtime import RUNTIME_ARN, stub_runtime

PROBE = Path(__file__).resolve().parent / "cold_start_probe.py"
CHAT = "agentarch.handlers.chat:lambda_handler"
BASELINE = "baseline_handler:lambda_handler"
FLOOR = "powertools_floor_handler:lambda_handler"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

STREAMING = "streaming chat Lambda (run.sh: uvicorn + the ASGI app), tracing as deployed"
READY_TIMEOUT_SECONDS = 60.0

# (label, handler, extra environment)
VARIANTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("boto3-only handler (baseline)", BASELINE, {}),
    ("chat Lambda, tracing as deployed", CHAT, {}),
    ("chat Lambda, tracing off", CHAT, {"POWERTOOLS_TRACE_DISABLED": "true"}),
    ("Powertools alone (floor), tracing as deployed", FLOOR, {}),
)


def lambda_env(endpoint: str, task_root: str) -> dict[str, str]:
    """What a Lambda process has: Terraform's variables for the chat function, the runtime's own."""
    keep = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")
    }
    return keep | {
        "AGENT_RUNTIME_ARN": RUNTIME_ARN,
        "AGENTCORE_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCHBENCHBENCH0",
        "AWS_SECRET_ACCESS_KEY": "bench-secret-bench-secret-bench-secret-00",
        "AWS_SESSION_TOKEN": "bench-session-token",
        "AWS_LAMBDA_FUNCTION_NAME": "chat",
        "LAMBDA_TASK_ROOT": task_root,
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
        "POWERTOOLS_SERVICE_NAME": "chat",
        "POWERTOOLS_METRICS_NAMESPACE": "agentarch",
    }


def chat_event() -> str:
    return json.dumps(
        rest_api_event(
            "POST", "/api/chat", body={"message": "what is 17 * 23?"}, claims={"sub": "bench-user"}
        )
    )


def probe(
    handler: str, env: dict[str, str], event: str, *flags: str, flags_after: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the probe in a fresh process: `flags` go to Python, or to the probe with `flags_after`."""
    python_flags, probe_flags = ((), flags) if flags_after else (flags, ())
    return subprocess.run(
        [sys.executable, *python_flags, str(PROBE), handler, *probe_flags],
        input=event,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def sample(handler: str, env: dict[str, str], event: str) -> dict[str, Any]:
    done = probe(handler, env, event)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["status"] != 200:
        raise RuntimeError(f"{handler} answered {figures['status']}: {done.stdout[-2000:]}")
    return figures


def stream_sample(env: dict[str, str], event: str) -> dict[str, Any]:
    """One cold start of the streaming chat Lambda as the Web Adapter drives it (see the docstring)."""
    app = FUNCTIONS["chat"].stream_app
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while _ready(port) is False:  # the adapter's readiness check, polled as it does
            if server.poll() is not None or time.perf_counter() - started > READY_TIMEOUT_SECONDS:
                raise RuntimeError(f"{app} did not start: {server.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            time.sleep(0.002)
        ready = time.perf_counter()
        status = _adapter_request(port, json.loads(event))
        answered = time.perf_counter()
        peak = _peak_rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if status != 200:
        raise RuntimeError(f"{app} answered {status}")
    return {
        "import_ms": (ready - started) * 1000,
        "first_event_ms": (answered - ready) * 1000,
        "total_ms": (answered - started) * 1000,
        "status": status,
        "max_rss_kib": peak,
        "modules": "—",
    }


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _adapter_request(port: int, event: dict[str, Any]) -> int:
    """The event as the Web Adapter hands it to the app: an HTTP request with the API Gateway
    context and the Lambda context in headers; the answer read to its end."""
    deadline_ms = int(time.time() * 1000) + 28_000
    headers = {
        **{k: v for k, v in (event.get("headers") or {}).items() if v is not None},
        "x-amzn-request-context": json.dumps(event["requestContext"]),
        "x-amzn-lambda-context": json.dumps({"request_id": "bench", "deadline": deadline_ms}),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(event["httpMethod"], event["path"], body=event.get("body") or b"", headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def _peak_rss_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM), as Lambda's "Max Memory Used" counts it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def package_of(module: str) -> str:
    """What the budget counts: a top-level package, or one of agentarch's subpackages."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "agentarch" and len(parts) > 1 else parts[0]


def import_budget(handler: str, env: dict[str, str], event: str, runs: int) -> dict[str, float]:
    """`python -X importtime`: each module's own time, summed by package, the median over `runs`.

    A garbage collection that runs during an import is charged to that import: the median over
    a few runs keeps one such pause from naming the wrong package.
    """
    return median_budget(
        [own_time_by_package(probe(handler, env, event, "-X", "importtime").stderr) for _ in range(runs)]
    )


def own_time_by_package(importtime_stderr: str) -> dict[str, float]:
    """One `python -X importtime` report: each module's own time in ms, summed by `package_of`."""
    own: dict[str, float] = defaultdict(float)
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|")
        own[package_of(name.strip())] += float(self_us) / 1000
    return own


def median_budget(per_run: list[dict[str, float]]) -> dict[str, float]:
    """Per package, the median of its own time over runs (a package absent from a run counts 0)."""
    packages = {name for run in per_run for name in run}
    return {name: statistics.median(run.get(name, 0.0) for run in per_run) for name in packages}


def budget_table(budgets: dict[str, dict[str, float]], chat: str, floor: str, baseline: str) -> Table:
    """Per package: what the chat Lambda's import spends, what the floor and the baseline spend."""
    spent = budgets[chat]
    names = sorted(spent, key=lambda name: spent[name] - budgets[floor].get(name, 0.0), reverse=True)
    rows = [
        [
            name,
            f"{spent[name]:.1f}",
            f"{budgets[floor].get(name, 0.0):.1f}",
            f"{budgets[baseline].get(name, 0.0):.1f}",
            f"{spent[name] - budgets[floor].get(name, 0.0):+.1f}",
        ]
        for name in names[:14]
    ]
    total = sum(spent.values()) - sum(budgets[floor].values())
    return Table(
        title="Import budget per package (`python -X importtime`, own time in ms, median of runs)",
        compares=f"{chat} against the floor and the baseline; agentarch split by subpackage, the "
        "biggest excess over the floor first: the next thing to cut is the top row",
        columns=["package", "chat Lambda", "floor", "baseline", "over the floor"],
        rows=rows,
        notes=[f"all packages together: {total:+.0f} ms over the floor"],
    )


def run(smoke: bool) -> Result:
    samples_per_variant = 1 if smoke else 15
    event = chat_event()
    figures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    budgets: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as task_root, stub_runtime() as endpoint:
        base_env = lambda_env(endpoint, task_root)
        for variant in VARIANTS:  # one unmeasured run each: the disk cache, as a warm machine has it
            sample(variant[1], base_env | variant[2], event)
        stream_sample(base_env, event)
        for _ in range(samples_per_variant):
            for label, handler, extra in VARIANTS:
                figures[label].append(sample(handler, base_env | extra, event))
            figures[STREAMING].append(stream_sample(base_env, event))
        for label, handler, extra in VARIANTS:
            budgets[label] = import_budget(handler, base_env | extra, event, 1 if smoke else 5)

    baseline_label = VARIANTS[0][0]
    base = figures[baseline_label]
    rows = []
    data: dict[str, Any] = {}
    for label in [*(v[0] for v in VARIANTS), STREAMING]:
        runs = figures[label]
        total = [r["total_ms"] for r in runs]
        rss = [r["max_rss_kib"] / 1024 for r in runs]
        total_ratio = ratio(total, [r["total_ms"] for r in base])
        rss_ratio = ratio(rss, [r["max_rss_kib"] / 1024 for r in base])
        rows.append(
            [
                label,
                Spread.of([r["import_ms"] for r in runs]).fmt(" ms", 0),
                Spread.of([r["first_event_ms"] for r in runs]).fmt(" ms", 0),
                Spread.of(total).fmt(" ms", 0),
                total_ratio.fmt("×", 2),
                Spread.of(rss).fmt(" MiB", 0),
                rss_ratio.fmt("×", 2),
                str(runs[0]["modules"]),
            ]
        )
        data[label] = {
            "import_ms": Spread.of([r["import_ms"] for r in runs]).as_json(),
            "first_event_ms": Spread.of([r["first_event_ms"] for r in runs]).as_json(),
            "total_ms": Spread.of(total).as_json(),
            "total_ratio": total_ratio.as_json(),
            "max_rss_mib": Spread.of(rss).as_json(),
            "max_rss_ratio": rss_ratio.as_json(),
            "modules": runs[0]["modules"],
            "import_budget_ms": dict(sorted(budgets.get(label, {}).items(), key=lambda kv: -kv[1])),
        }
    cold = Table(
        title="Chat Lambda cold start (fresh process: import + one API Gateway event)",
        compares=f"{baseline_label} (`bench/baseline_handler.py`: boto3 `invoke_agent_runtime` with "
        f"SigV4 to the same local stub runtime), sampled interleaved, {samples_per_variant} fresh "
        "processes each; × is the median of the pairwise ratios (min–max)",
        columns=[
            "handler",
            "import",
            "first event",
            "import + event",
            "× baseline",
            "peak RSS",
            "× baseline",
            "modules",
        ],
        rows=rows,
        notes=[
            "target: chat Lambda, tracing as deployed, ≤ 1.5× the baseline (import + event); 1.3× the goal",
            "the streaming chat Lambda has no target: its cost is stated (README, Benchmarks). Its import "
            "column is spawn → `/healthz` answering (interpreter start and uvicorn included), its first "
            "event the adapter-shaped request; the Web Adapter's own process is not measured here",
            "the floor (`bench/powertools_floor_handler.py`) is the baseline's call inside Powertools' "
            "Logger, Metrics, Tracer and REST resolver, without validation or any agentarch code: "
            "what the libraries alone cost, which no change in agentarch can remove",
        ],
    )
    top = budget_table(budgets, VARIANTS[1][0], VARIANTS[3][0], baseline_label)
    return Result("cold_start", [cold, top], data)
