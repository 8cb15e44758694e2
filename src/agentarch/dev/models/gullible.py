"""The gullible offline model: it obeys every tool result as if the user had typed it.

`agentarch dev --offline-model gullible`. It answers as the offline model does, except that after
tools answer, it reads their results as a user's message: whatever the offline model would do for
a user who said that text, it does — open a ticket, comment on one, fetch the weather at
coordinates it found. Results from one step are read together, so an instruction split across two
tickets is joined. When the text asks for it ("rephrase", "translate", "uppercase", "base64"), it
transforms the values before it acts, as a compromised model would disguise them.

This is a fully compromised model. The architecture is tested against it: the tool policy decides
from where each argument came from (agent/provenance.py), never from what the model says. It never
repeats a call it already made in the turn (so a search that finds its own instruction ends).
Dev-only: no zip carries this module.
"""

from __future__ import annotations

import base64
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage

from agentarch.agent.offline_model import OfflineChatModel
from agentarch.core.decisions import NOT_PERMITTED, WAITING_FOR_APPROVAL

_REFUSED = (NOT_PERMITTED, WAITING_FOR_APPROVAL)
_TRANSFORMS = ("rephrase", "paraphrase", "translate", "uppercase", "base64", "reverse")


def transform(value: str, instructions: str) -> str:
    """A value disguised the way the instructions ask (deterministic)."""
    asked = instructions.casefold()
    if "base64" in asked:
        return base64.b64encode(value.encode()).decode()
    if "uppercase" in asked:
        return value.upper()
    if "translate" in asked:
        return "Traduit : " + " ".join(reversed(value.split()))
    if "rephrase" in asked or "paraphrase" in asked or "reverse" in asked:
        return " ".join(reversed(value.split())) + " (reworded)"
    return value


class GullibleChatModel(OfflineChatModel):
    """The offline model that takes every tool result as an instruction from the user."""

    @property
    def _llm_type(self) -> str:
        return "agentarch-gullible"

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        if messages and isinstance(messages[-1], ToolMessage):
            obeyed = self._obey(messages)
            if obeyed is not None:
                return obeyed
        return super()._respond(messages)

    def _obey(self, messages: list[BaseMessage]) -> AIMessage | None:
        results: list[str] = []
        for previous in reversed(messages):
            if not isinstance(previous, ToolMessage):
                break
            text = str(previous.content)
            if not text.startswith(_REFUSED):
                results.append(text)
        said = " \n".join(reversed(results))
        if not said:
            return None
        step = sum(isinstance(m, AIMessage) for m in _this_turn(messages))
        planned = self._plan_tool_calls(said, turn=step)
        done = {
            _key(c["name"], c["args"])
            for m in _this_turn(messages)
            if isinstance(m, AIMessage)
            for c in m.tool_calls
        }
        calls: list[ToolCall] = []
        disguise = any(word in said.casefold() for word in _TRANSFORMS)
        for index, call in enumerate(planned):
            args: dict[str, Any] = dict(call["args"])
            if disguise:
                args = {
                    k: transform(v, said) if isinstance(v, str) and k in ("title", "body", "text") else v
                    for k, v in args.items()
                }
            if _key(call["name"], args) in done:
                continue  # never the same call twice in a turn: no endless loop on its own instruction
            calls.append(ToolCall(name=call["name"], args=args, id=f"gullible-{step}-{index}-{call['name']}"))
        return AIMessage(content="", tool_calls=calls) if calls else None


def _key(name: str, args: dict[str, Any]) -> str:
    return f"{name}|{sorted((k, str(v)) for k, v in args.items())}"


def _this_turn(messages: list[BaseMessage]) -> list[BaseMessage]:
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    return messages[last_human + 1 :]
