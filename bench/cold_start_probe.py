"""One cold start, in the fresh process that runs this file: import a handler, answer one event.

    python bench/cold_start_probe.py MODULE:FUNCTION  < event.json   → one JSON line on stdout
    python bench/cold_start_probe.py MODULE:FUNCTION --warm N [--unguarded]  < event.json
        then N more events, each timed (`warm_ms`); `--unguarded` makes the chat Lambda skip
        `guarded_resolve`'s checks and call its resolver directly (see bench/warm_overhead.py)

Only the standard library is loaded before the clock starts; `sys.path` gets `bench/` so the
baseline handler imports as a top-level module, as it would in a Lambda zip.
"""

import importlib
import json
import resource
import sys
import time
import uuid
from pathlib import Path


class Context:
    function_name = "chat"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:chat"
    log_group_name = "/aws/lambda/chat"
    log_stream_name = "2026/01/01/[$LATEST]bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 28_000


def main() -> None:
    module_name, function_name = sys.argv[1].split(":")
    warm = int(sys.argv[sys.argv.index("--warm") + 1]) if "--warm" in sys.argv else 0
    event = json.loads(sys.stdin.read())
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    modules_before = len(sys.modules)
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    answer = getattr(module, function_name)(event, Context())
    answered = time.perf_counter()
    if "--unguarded" in sys.argv:
        module.guarded_resolve = lambda resolver, settings, event, context: resolver.resolve(event, context)
    warm_ms = []
    for _ in range(warm):
        fresh, context = json.loads(json.dumps(event)), Context()  # handlers may change the event
        begun = time.perf_counter()
        getattr(module, function_name)(fresh, context)
        warm_ms.append((time.perf_counter() - begun) * 1000)
    print(
        json.dumps(
            {
                "import_ms": (imported - started) * 1000,
                "first_event_ms": (answered - imported) * 1000,
                "total_ms": (answered - started) * 1000,
                "status": answer["statusCode"],
                "modules": len(sys.modules) - modules_before,
                "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "warm_ms": warm_ms,
            }
        )
    )


if __name__ == "__main__":
    main()
