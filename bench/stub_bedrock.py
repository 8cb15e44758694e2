"""A stand-in for Bedrock Runtime's Converse API (`POST /model/{modelId}/converse`) that answers at once.

The agent's cold-start benchmark runs the agent with the Bedrock model configured, as it runs in
AWS: the real `ChatBedrockConverse`, its boto3 clients, SigV4 signing and response parsing, pointed
here through botocore's `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. The first call asks for the calculator;
the call after the tool's result answers with it, so a turn makes the two calls a real one does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "anthropic.claude-bench-v1:0"
USAGE = {"inputTokens": 12, "outputTokens": 5, "totalTokens": 17}


def converse_answer(request: dict[str, Any]) -> dict[str, Any]:
    """A tool call first; the arithmetic's answer once the tool result is in the conversation."""
    last = (request.get("messages") or [{}])[-1].get("content", [])
    result = next((part["toolResult"] for part in last if "toolResult" in part), None)
    if result is None:
        tool_use = {"toolUseId": "tooluse_bench", "name": "calculator", "input": {"expression": "17 * 23"}}
        content, stop = [{"toolUse": tool_use}], "tool_use"
    else:
        said = " ".join(str(part.get("text", part.get("json", ""))) for part in result.get("content", []))
        content, stop = [{"text": f"The tool says: {said}"}], "end_turn"
    message = {"role": "assistant", "content": content}
    return {"output": {"message": message}, "stopReason": stop, "usage": USAGE, "metrics": {"latencyMs": 1}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body in one segment (no delayed-ACK stall)
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        signed = self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")
        body = json.dumps(converse_answer(request) if signed else {"message": "not signed"}).encode()
        self.send_response(200 if signed else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def stub_bedrock() -> Iterator[str]:
    """Serve the stub on a free loopback port; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
