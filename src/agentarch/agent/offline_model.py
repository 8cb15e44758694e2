"""A deterministic chat model for running the whole architecture with no AWS account.

It is a real LangChain chat model: it receives the conversation and the bound tools, emits tool
calls the graph executes, then answers from the tool results. It recognises a few kinds of
question (time, arithmetic, weather by coordinates, "what did I ask before?") and says plainly
that it is the offline model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

OFFLINE_PREFIX = "[offline model]"

_TIME = re.compile(r"\b(time|date|day is it|what day|clock)\b", re.IGNORECASE)
_ARITHMETIC = re.compile(r"[-+(]*\d[\d.,]*\s*(?:(?:\*\*|[-+*/%^×÷]|//)\s*[-+(]*\s*\d[\d.,]*\s*\)*\s*)+")
_WEATHER = re.compile(r"\b(weather|forecast|temperature)\b", re.IGNORECASE)
_COORDINATES = re.compile(r"(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)")
_RECALL = re.compile(r"\b(what did i (just )?(ask|say)|previous (question|message)|earlier question)\b", re.I)
_TZ = re.compile(r"\b([A-Z][a-z]+(?:_[A-Z][a-z]+)?/[A-Z][A-Za-z_]+|UTC)\b")


class OfflineChatModel(BaseChatModel):
    """Deterministic stand-in for Bedrock that drives the tool-calling graph for real."""

    @property
    def _llm_type(self) -> str:
        return "agentarch-offline"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | BaseTool | Any],
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the way provider models do, so `tools` reaches `_generate`."""
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tool_names = {tool["function"]["name"] for tool in kwargs.get("tools", [])}
        message = self._respond(messages, tool_names)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _respond(self, messages: list[BaseMessage], tool_names: set[str]) -> AIMessage:
        if messages and isinstance(messages[-1], ToolMessage):
            results = []
            for previous in reversed(messages):
                if not isinstance(previous, ToolMessage):
                    break
                results.append(str(previous.content))
            return AIMessage(content=f"{OFFLINE_PREFIX} " + " ".join(reversed(results)))

        humans = [m for m in messages if isinstance(m, HumanMessage)]
        question = str(humans[-1].content) if humans else ""
        calls = self._plan_tool_calls(question, tool_names, turn=len(humans))
        if calls:
            return AIMessage(content="", tool_calls=calls)
        return AIMessage(content=f"{OFFLINE_PREFIX} {self._plain_answer(question, humans)}")

    @staticmethod
    def _plan_tool_calls(question: str, tool_names: set[str], turn: int) -> list[ToolCall]:
        calls: list[ToolCall] = []

        def call(name: str, args: dict[str, Any]) -> None:
            if name in tool_names:
                calls.append(ToolCall(name=name, args=args, id=f"offline-{turn}-{len(calls)}-{name}"))

        if _WEATHER.search(question):
            found = _COORDINATES.search(question)
            if found:
                call("weather", {"latitude": float(found.group(1)), "longitude": float(found.group(2))})
                return calls
        if _TIME.search(question):
            zone = _TZ.search(question)
            call("current_time", {"timezone": zone.group(1) if zone else "UTC"})
        expression = _ARITHMETIC.search(question)
        if expression:
            call("calculator", {"expression": expression.group(0).strip().replace(",", "")})
        return calls

    @staticmethod
    def _plain_answer(question: str, humans: list[HumanMessage]) -> str:
        if _RECALL.search(question):
            if len(humans) >= 2:
                return f"You previously asked: “{humans[-2].content}”."
            return "This is the first thing you have asked in this conversation."
        if _WEATHER.search(question):
            return (
                "I can fetch a US forecast from api.weather.gov if you give me coordinates, "
                "for example: weather at 47.61,-122.33."
            )
        return (
            "I am the offline model, so I only understand a few kinds of question: the time "
            "(“what time is it?”), arithmetic (“what is 17 * 23?”) and US weather by coordinates "
            "(“weather at 47.61,-122.33”). Configure a Bedrock model id to talk to a real model."
        )
