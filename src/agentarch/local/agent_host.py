"""Serve the agent's AgentCore app on loopback: `python -m agentarch.local.agent_host PORT`."""

from __future__ import annotations

import sys

from agentarch.agent.app import serve


def main(argv: list[str] | None = None) -> None:
    """Bind explicitly to 127.0.0.1 (the app would pick 0.0.0.0 when it thinks it is in Docker)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        raise SystemExit("usage: python -m agentarch.local.agent_host PORT")
    serve(host="127.0.0.1", port=int(args[0]))


if __name__ == "__main__":
    main()
