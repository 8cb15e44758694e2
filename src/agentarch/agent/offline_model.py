"""A deterministic chat model for running the whole architecture with no AWS account.

It is a real LangChain chat model: it receives the conversation and the bound tools, emits tool
calls the graph executes, then answers from the tool results. It recognises a few kinds of
question (the time and date, arithmetic, US weather by city or coordinates, "what did I ask
before?"), lists them when asked for help or when it understands nothing, and says plainly that it
is the offline model.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

OFFLINE_PREFIX = "[offline model]"
_TOKEN = re.compile(r"\S+\s*|\s+")  # a word and the space after it: what the offline model streams

_TIME = re.compile(r"\b(time|date|today|day is it|what day|clock)\b", re.IGNORECASE)
_ARITHMETIC = re.compile(r"[-+(]*\d[\d.,]*\s*(?:(?:\*\*|[-+*/%^×÷]|//)\s*[-+(]*\s*\d[\d.,]*\s*\)*\s*)+")
_WEATHER = re.compile(r"\b(weather|forecast|temperature)\b", re.IGNORECASE)
_COORDINATES = re.compile(r"(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)")
_RECALL = re.compile(r"\b(what did i (just )?(ask|say)|previous (question|message)|earlier question)\b", re.I)
_HELP = re.compile(r"\b(help|what can you do|what do you (understand|know))\b", re.IGNORECASE)
_TICKET = re.compile(
    r"\b(?:open|create|file|raise|log)\b.{0,20}?\bticket\b\s*(?:about|for|:|-)?\s*(.*)", re.I | re.S
)
_SEARCH = re.compile(
    r"\b(?:search|find|look up|look for|list|show)\b(?: me)?(?: my| all| the)?\s+tickets?\b"
    r"(?:\s+(?:about|for|on|with|matching|mentioning))?\s*[:\-]?\s*(.*)",
    re.I | re.S,
)
_COMMENT = re.compile(
    r"\b(?:comment|reply|respond|answer)\b(?:\s+(?:on|to))?\s+ticket\s+([A-Za-z0-9_-]+)\s*"
    r"(?:saying|with|that says|:|-|,)?\s*(.*)",
    re.I | re.S,
)
_HIGH = re.compile(r"\b(urgent|critical|asap|emergency|down|outage)\b", re.IGNORECASE)
_LOW = re.compile(r"\b(minor|low|whenever|cosmetic)\b", re.IGNORECASE)
_SEVERITY = re.compile(r"\bseverity\s*[:=]?\s*([A-Za-z]+)", re.IGNORECASE)  # as the user put it
_TZ = re.compile(r"\b([A-Z][a-z]+(?:_[A-Z][a-z]+)?/[A-Z][A-Za-z_]+|UTC)\b")


class City(NamedTuple):
    """A place the offline model can find by name: where it is and its time zone."""

    name: str
    latitude: float
    longitude: float
    timezone: str


# The 25 largest US cities by population (2020 census), at their city halls.
US_CITIES = (
    City("New York", 40.7128, -74.0060, "America/New_York"),
    City("Los Angeles", 34.0522, -118.2437, "America/Los_Angeles"),
    City("Chicago", 41.8781, -87.6298, "America/Chicago"),
    City("Houston", 29.7604, -95.3698, "America/Chicago"),
    City("Phoenix", 33.4484, -112.0740, "America/Phoenix"),
    City("Philadelphia", 39.9526, -75.1652, "America/New_York"),
    City("San Antonio", 29.4241, -98.4936, "America/Chicago"),
    City("San Diego", 32.7157, -117.1611, "America/Los_Angeles"),
    City("Dallas", 32.7767, -96.7970, "America/Chicago"),
    City("San Jose", 37.3382, -121.8863, "America/Los_Angeles"),
    City("Austin", 30.2672, -97.7431, "America/Chicago"),
    City("Jacksonville", 30.3322, -81.6557, "America/New_York"),
    City("Fort Worth", 32.7555, -97.3308, "America/Chicago"),
    City("Columbus", 39.9612, -82.9988, "America/New_York"),
    City("Indianapolis", 39.7684, -86.1581, "America/Indiana/Indianapolis"),
    City("Charlotte", 35.2271, -80.8431, "America/New_York"),
    City("San Francisco", 37.7749, -122.4194, "America/Los_Angeles"),
    City("Seattle", 47.6062, -122.3321, "America/Los_Angeles"),
    City("Denver", 39.7392, -104.9903, "America/Denver"),
    City("Washington", 38.9072, -77.0369, "America/New_York"),
    City("Nashville", 36.1627, -86.7816, "America/Chicago"),
    City("Oklahoma City", 35.4676, -97.5164, "America/Chicago"),
    City("El Paso", 31.7619, -106.4850, "America/Denver"),
    City("Boston", 42.3601, -71.0589, "America/New_York"),
    City("Portland", 45.5152, -122.6784, "America/Los_Angeles"),
)
_CITY_ALIASES = {"nyc": "New York", "new york city": "New York", "la": "Los Angeles", "sf": "San Francisco"}
_CITY_NAMES = {city.name.lower(): city for city in US_CITIES} | {
    alias: next(c for c in US_CITIES if c.name == name) for alias, name in _CITY_ALIASES.items()
}
_CITY = re.compile(
    r"\b(" + "|".join(re.escape(n) for n in sorted(_CITY_NAMES, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)

HELP = (
    "I am the offline model, so I only understand a few kinds of question:\n"
    "• the time and date: “what time is it?”, “what is today's date?”, “what time is it in Asia/Tokyo?” "
    "or in one of the cities below;\n"
    "• arithmetic: “what is 17 * 23?”, “(2 + 3) ** 2”;\n"
    "• US weather by city: “what's the weather in Seattle?” — I know "
    + ", ".join(city.name for city in US_CITIES)
    + " — or by coordinates anywhere in the US: “weather at 47.61,-122.33”;\n"
    "• what you asked before: “what did I ask before?”;\n"
    "• a support ticket, which waits for your approval: “open a ticket: printer on floor 3 is broken”;\n"
    "• tickets: “search tickets about printer”, “comment on ticket t-12: fixed, please check”.\n"
    "Configure a Bedrock model id to talk to a real model."
)


def offline_usage(prompt: Sequence[BaseMessage], answer: AIMessage) -> UsageMetadata:
    """Deterministic token counts, as Bedrock reports them: about four characters a token."""
    read = sum(len(str(m.content)) for m in prompt)
    written = len(str(answer.content)) + sum(len(str(call["args"])) for call in answer.tool_calls)
    input_tokens, output_tokens = read // 4 + 1, written // 4 + 1
    return UsageMetadata(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens
    )


def _in_words(result: str, tool: str) -> str:
    """A tool result as the offline model tells it: the policy's refusals and pauses, plainly."""
    if result.startswith("Waiting for the user's approval"):
        return f"I need your approval before I run {tool}: approve or reject it below."  # said once
    if result.startswith("Not permitted"):
        return f"I am not allowed to do that. {result}"
    return result


def find_city(text: str) -> City | None:
    """The first of the largest US cities the text names, if any."""
    found = _CITY.search(text)
    return _CITY_NAMES[found.group(1).lower()] if found else None


class OfflineChatModel(BaseChatModel):
    """Deterministic stand-in for Bedrock that drives the tool-calling graph for real."""

    latency_seconds: float = 0.0  # each call waits this long first, as a real model's would

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
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        message = self._respond(messages)
        message.usage_metadata = offline_usage(messages, message)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Token by token, as Bedrock's ConverseStream answers: the configured latency is spread over
        the tokens, so the first word leaves well before the answer is complete."""
        message = self._respond(messages)
        usage = offline_usage(messages, message)
        text = str(message.content)
        pieces = _TOKEN.findall(text) or [""]
        pause = self.latency_seconds / (len(pieces) + (1 if message.tool_calls else 0))
        for piece in pieces:
            if pause:
                time.sleep(pause)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None and piece:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        if pause and message.tool_calls:
            time.sleep(pause)
        calls = [
            ToolCallChunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
            for i, c in enumerate(message.tool_calls)
        ]
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", tool_call_chunks=calls, usage_metadata=usage)
        )

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        if messages and isinstance(messages[-1], ToolMessage):
            results = []
            for previous in reversed(messages):
                if not isinstance(previous, ToolMessage):
                    break
                results.append(_in_words(str(previous.content), previous.name or "the tool"))
            return AIMessage(content=f"{OFFLINE_PREFIX} " + " ".join(reversed(results)))

        humans = [m for m in messages if isinstance(m, HumanMessage)]
        question = str(humans[-1].content) if humans else ""
        calls = self._plan_tool_calls(question, turn=len(humans))
        if calls:
            return AIMessage(content="", tool_calls=calls)
        return AIMessage(content=f"{OFFLINE_PREFIX} {self._plain_answer(question, humans)}")

    @staticmethod
    def _plan_tool_calls(question: str, turn: int) -> list[ToolCall]:
        # The tool a question needs is asked for even when it was not offered (the tool policy
        # keeps from the model the tools an actor can never use), as a model reaching for a tool
        # it saw earlier would: the agent's authorizer, not the model, is what stops the call.
        calls: list[ToolCall] = []

        def call(name: str, args: dict[str, Any]) -> None:
            calls.append(ToolCall(name=name, args=args, id=f"offline-{turn}-{len(calls)}-{name}"))

        comment = _COMMENT.search(question)
        if comment:
            text = comment.group(2).strip().strip("\"'“”‘’").strip() or "Noted."
            call("comment_on_ticket", {"ticket_id": comment.group(1).rstrip(".,;:"), "text": text[:2000]})
            return calls
        search = _SEARCH.search(question)
        if search:
            query = search.group(1).strip().strip("\"'“”‘’?.!").strip()
            call("search_tickets", {"query": query[:200]})
            return calls
        ticket = _TICKET.search(question)
        if ticket:
            title = ticket.group(1).strip().rstrip(".!") or "Support request"
            stated = _SEVERITY.search(question)
            severity = (
                stated.group(1).lower()
                if stated
                else "high"
                if _HIGH.search(question)
                else "low"
                if _LOW.search(question)
                else "medium"
            )
            call("create_ticket", {"title": title[:120], "severity": severity, "body": question.strip()})
            return calls
        city = find_city(question)
        if _WEATHER.search(question):
            found = _COORDINATES.search(question)
            if found:
                call("weather", {"latitude": float(found.group(1)), "longitude": float(found.group(2))})
            elif city:
                call("weather", {"latitude": city.latitude, "longitude": city.longitude})
            # Weather without a place is answered by the help text, not by the clock.
            return calls
        if _TIME.search(question):
            zone = _TZ.search(question)
            call("current_time", {"timezone": zone.group(1) if zone else city.timezone if city else "UTC"})
        for expression in _ARITHMETIC.finditer(question):  # one call per expression, as a model would
            call("calculator", {"expression": expression.group(0).strip().replace(",", "")})
        return calls

    @staticmethod
    def _plain_answer(question: str, humans: list[HumanMessage]) -> str:
        if _RECALL.search(question):
            if len(humans) >= 2:
                return f"You previously asked: “{humans[-2].content}”."
            return "This is the first thing you have asked in this conversation."
        if _WEATHER.search(question) and not _HELP.search(question):
            return (
                "I can fetch a US forecast from api.weather.gov for one of the 25 largest US cities "
                "(“what's the weather in Seattle?”) or for coordinates (“weather at 47.61,-122.33”). "
                "Which place?"
            )
        return HELP
