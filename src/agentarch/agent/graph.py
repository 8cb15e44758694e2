"""The LangGraph tool-calling agent: a model node and a tool node in a loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from pydantic import BaseModel

SYSTEM_PROMPT = (
    "You are a helpful assistant inside agentarch. Use the tools for the current time, "
    "arithmetic and US weather; never guess what a tool can tell you. Answer briefly."
)
MAX_STEPS = 12


class ToolCallRecord(BaseModel):
    """One tool the agent called during a turn, for the caller's audit and the UI."""

    name: str
    args: dict[str, Any]
    output: str


class TokenUsage(BaseModel):
    """Model tokens one turn used, summed over every model call (Bedrock's usage metadata)."""

    input_tokens: int = 0
    output_tokens: int = 0


class TurnResult(BaseModel):
    """What one turn of the agent produced."""

    response: str
    tool_calls: list[ToolCallRecord]
    usage: TokenUsage = TokenUsage()


def build_graph(model: BaseChatModel, tools: Sequence[BaseTool]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the agent graph for a model and its tools."""
    bound = model.bind_tools(list(tools))

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [bound.invoke([SystemMessage(SYSTEM_PROMPT), *state["messages"]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("tools", ToolNode(list(tools)))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    graph.add_edge("model", END)
    return graph.compile()


def run_turn(
    graph: CompiledStateGraph[Any, Any, Any, Any], history: Sequence[BaseMessage], prompt: str
) -> TurnResult:
    """Run one user turn on top of earlier messages and collect the answer and the tool calls."""
    start = len(history) + 1
    state = graph.invoke(
        {"messages": [*history, HumanMessage(prompt)]}, config={"recursion_limit": MAX_STEPS}
    )
    produced: list[BaseMessage] = state["messages"][start:]
    outputs = {m.tool_call_id: str(m.content) for m in produced if isinstance(m, ToolMessage)}
    calls = [
        ToolCallRecord(name=call["name"], args=call["args"], output=outputs.get(call["id"] or "", ""))
        for message in produced
        if isinstance(message, AIMessage)
        for call in message.tool_calls
    ]
    final = next((m for m in reversed(produced) if isinstance(m, AIMessage) and not m.tool_calls), None)
    return TurnResult(response=_text(final) if final else "", tool_calls=calls, usage=_usage(produced))


def _usage(messages: Sequence[BaseMessage]) -> TokenUsage:
    metered = [m.usage_metadata for m in messages if isinstance(m, AIMessage) and m.usage_metadata]
    return TokenUsage(
        input_tokens=sum(u["input_tokens"] for u in metered),
        output_tokens=sum(u["output_tokens"] for u in metered),
    )


def _text(message: AIMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in message.content]
    return "".join(parts)
