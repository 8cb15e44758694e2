"""One chat turn as the business logic sees it: session, agent call, reply."""

from __future__ import annotations

import secrets
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

SESSION_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]{32,99}$"


class ToolCall(BaseModel):
    """A tool the agent used while answering."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    output: str = ""


class ChatReply(BaseModel):
    """What the user gets back for one message."""

    session_id: str
    response: str
    tool_calls: list[ToolCall] = Field(default_factory=list)


class AgentInvoker(Protocol):
    """Anything that can send a payload to the agent runtime (the SigV4 client in production)."""

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]: ...


class MalformedAgentReply(Exception):
    """The agent answered JSON that is not a reply."""


def new_session_id() -> str:
    """An unguessable session id, valid for AgentCore (33–256 chars) and Memory (≤ 100, [A-Za-z0-9-_])."""
    return "s" + secrets.token_hex(24)


def send_message(
    agent: AgentInvoker, actor_id: str, groups: list[str], session_id: str | None, message: str
) -> ChatReply:
    """Send the user's message to the agent in their session (a new one when none is given)."""
    session = session_id or new_session_id()
    payload = {"prompt": message, "session_id": session, "actor": {"id": actor_id, "groups": groups}}
    answer = agent.invoke(payload, session)
    try:
        return ChatReply.model_validate({**answer, "session_id": session})
    except ValidationError:
        raise MalformedAgentReply("the agent's answer is not a chat reply") from None
