"""One agent worker: the agent's AgentCore app on a Unix socket.

`python -m agentarch.dev.local.agent_host SOCKET`. The local runtime endpoint starts these as its
execution environments and is their only caller: the socket lives in the state directory, which
only its owner can enter, so nothing on the machine reaches the agent except through the
SigV4-verifying endpoint (in AWS the runtime's microVMs are not addressable either).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from agentarch.agent.app import app, build_agent
from agentarch.dev import sqlite
from agentarch.dev.local.spans import SPAN_FILE_ENV, export_spans_to
from agentarch.dev.models import OFFLINE_MODEL_ENV, OFFLINE_SEED_ENV, build_offline_model


def main(argv: list[str] | None = None) -> None:
    """Serve the real `BedrockAgentCoreApp` on the given socket."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m agentarch.dev.local.agent_host SOCKET")
    socket_path = Path(args[0])
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    sqlite.register()  # STORAGE_BACKEND=sqlite: the local stack's storage
    if os.environ.get(SPAN_FILE_ENV):  # the agent's spans, to the state directory's span file
        export_spans_to(Path(os.environ[SPAN_FILE_ENV]))
    spec = os.environ.get(OFFLINE_MODEL_ENV)  # `agentarch dev --offline-model`: a dev-only model
    model = build_offline_model(spec, int(os.environ.get(OFFLINE_SEED_ENV) or 0)) if spec else None
    build_agent(model)  # an invalid tool policy stops the worker before it listens
    app.run(uds=str(socket_path), proxy_headers=False)


if __name__ == "__main__":
    main()
