"""The events a streamed turn is told in, and their Server-Sent Events encoding (one home for both).

Between the agent and the chat Lambda (AgentCore answers `text/event-stream` when the entrypoint
yields) and between the chat Lambda and the browser, every event is one `data: <json>\\n\\n` line
whose object names its `type`:

| type | from | carries |
|---|---|---|
| `text` | agent → page | `text`: a piece of the answer as the model writes it |
| `tool_call` | agent → page | `call`: a tool call once the policy decided it (name, args, decision, policies) |
| `reply` | agent → chat Lambda | `reply`: the whole `AgentReply` (the Lambda turns it into `done`) |
| `pending_approval` | chat Lambda → page | `pending_approval`: the call waiting for the user, with its id |
| `stopped` | chat Lambda → page | `reason`, `message`: the turn's output cap was reached, the rest is not sent |
| `done` | chat Lambda → page | `reply`: the `ChatReply`, exactly what the JSON route answers |
| `error` | both | `error`: the project's error shape (`code`, `message`, `request_id`) and `status` |
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

EVENT_STREAM = "text/event-stream"
PRELUDE_DELIMITER = b"\x00" * 8  # Lambda's HTTP response stream: a JSON prelude, 8 NULs, the body
TEXT, TOOL_CALL, REPLY, PENDING_APPROVAL, STOPPED, DONE, ERROR = (
    "text",
    "tool_call",
    "reply",
    "pending_approval",
    "stopped",
    "done",
    "error",
)


def sse(event: dict[str, Any]) -> bytes:
    """One event as Server-Sent Events bytes."""
    return f"data: {json.dumps(event, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def parse_sse(lines: Iterable[bytes | str]) -> Iterator[dict[str, Any]]:
    """The JSON events of an event stream read line by line (comments and other fields skipped)."""
    data: list[str] = []
    for raw in lines:
        line = (raw.decode("utf-8") if isinstance(raw, bytes) else raw).rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif not line and data:
            event = json.loads("\n".join(data))
            data = []
            if isinstance(event, dict):
                yield event
    if data:
        event = json.loads("\n".join(data))
        if isinstance(event, dict):
            yield event


def wants_stream(accept: str | None) -> bool:
    """Whether an `Accept` header asks for an event stream (`text/event-stream`, any parameters or q>0)."""
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() != EVENT_STREAM:
            continue
        q = next((p.split("=", 1)[1] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(q) > 0:
                return True
        except ValueError:
            return True
    return False
