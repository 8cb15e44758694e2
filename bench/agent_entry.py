"""The agent as the runtime starts it (the zip's `main.py` → `agentarch.agent.app.main`), on a Unix socket.

    python bench/agent_entry.py SOCKET

`main()` builds the agent (`agent_service()`: settings, tool policy, model, graph) and then serves;
this does the same on a socket instead of 0.0.0.0:8080, with nothing of the local stack imported.
"""

import sys

from agentarch.agent.app import app, build_agent

if __name__ == "__main__":
    build_agent()
    app.run(uds=sys.argv[1], proxy_headers=False)
