"""The one list of benchmarks `python -m bench` runs, in this order.

Adding one is a file and a line: a module in `bench/` with a `run(smoke: bool) -> Result`
(`bench.report`), and its name below. `smoke=True` means tiny sizes and one sample: the smoke test
in `make test` runs every entry that way so none of them rots.
"""

from __future__ import annotations

BENCHMARKS: tuple[str, ...] = (
    "bench.cold_start",
    "bench.warm_overhead",
    "bench.agent_cold_start",
    "bench.memory_calls",
    "bench.page_cost",
    "bench.authorization",
    "bench.audit_pages",
    "bench.audit_verify",
    "bench.governance_cost",
    "bench.local_stack",
    "bench.streaming",
    "bench.eval_suite",
    "bench.injection",
    "bench.artifact_sizes",
)
