"""A stand-in for AgentCore Runtime's `POST /runtimes/{arn}/invocations` that answers at once.

The cold-start and warm benchmarks point both handlers at it (`AGENTCORE_ENDPOINT_URL`), so what
they measure is the handler's own cost, never the agent's. Both sign with SigV4 (boto3 does); the
stub does not check signatures (the local stack's runtime endpoint does), it only answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = json.dumps({"response": "[stub] 391", "tool_calls": []}).encode()
RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent_bench-abcdefghij"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one segment, sent at once: without this, delayed ACKs add ~40 ms per call.
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        signed = self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")
        self.send_response(200 if signed else 403)
        body = REPLY if signed else b'{"message": "not signed"}'
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def stub_runtime() -> Iterator[str]:
    """Serve the stub on a free loopback port; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
