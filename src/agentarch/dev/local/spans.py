"""The local stack's span file: the agent workers' OpenTelemetry spans, one JSON object a line.

In AWS the AWS Distro for OpenTelemetry sends the agent's spans to CloudWatch; locally each agent
worker installs an OpenTelemetry SDK tracer provider whose exporter appends every finished span to
`spans.jsonl` in the state directory (the SDK's own JSON form of a span), where
`agentarch eval --recorded --spans` reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SPAN_FILE_ENV = "AGENTARCH_SPAN_FILE"  # set by the local stack for its agent workers
SPANS_FILE = "spans.jsonl"  # in the state directory


def export_spans_to(path: Path) -> None:
    """Make this process's global tracer provider write every finished span to `path` (appended)."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    out = path.open("a", encoding="utf-8", buffering=1)  # several workers append: one line a write
    provider = TracerProvider(resource=Resource.create({"service.name": "agentarch-agent"}))
    exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def read_spans(path: Path) -> Iterator[dict[str, Any]]:
    """Every span in the file, in the order written (a torn last line is skipped)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
