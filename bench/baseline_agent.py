"""The agent benchmark's baseline: AgentCore's runtime SDK alone, answering without LangGraph or a model.

    python bench/baseline_agent.py SOCKET

What `agentarch.agent.app` costs on top of this (LangGraph, LangChain, the offline model, the
tools) is what the agent's cold start is made of.
"""

import sys
from typing import Any

from bedrock_agentcore.runtime import BedrockAgentCoreApp

app = BedrockAgentCoreApp()


@app.entrypoint
def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    return {"response": f"[baseline] {payload.get('prompt', '')}", "tool_calls": []}


if __name__ == "__main__":
    app.run(uds=sys.argv[1], proxy_headers=False)
