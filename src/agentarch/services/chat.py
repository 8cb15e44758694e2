"""One chat turn as the business logic sees it: session, agent call, reply."""

from __future__ import annotations

import secrets
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from agentarch.services import conversations
from agentarch.services.conversations import ConversationIndex
from agentarch.services.timestamps import utc_now

SESSION_ID_PATTERN = (
    conversations.SESSION_ID_PATTERN.pattern
)  # 33–100 chars: AgentCore and Memory both accept it


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
    agent: AgentInvoker,
    actor_id: str,
    groups: list[str],
    session_id: str | None,
    message: str,
    index: ConversationIndex | None = None,
) -> ChatReply:
    """Send the user's message to the agent in their session (a new one when none is given).

    With a conversation index (pattern 3) the session is claimed for the actor before the agent
    runs — another actor's session raises `ConversationNotFound` — and the turn is recorded only
    after the agent answered, so a failed call leaves the index as it was.
    """
    session = session_id or new_session_id()
    if index is not None:
        conversations.start_or_resume(index, actor_id, session, message, utc_now())
    payload = {"prompt": message, "session_id": session, "actor": {"id": actor_id, "groups": groups}}
    try:
        answer = agent.invoke(payload, session)
        try:
            reply = ChatReply.model_validate({**answer, "session_id": session})
        except ValidationError:
            raise MalformedAgentReply("the agent's answer is not a chat reply") from None
    except Exception:
        if index is not None:
            conversations.forget_unused(index, actor_id, session)  # drops only a claim with no turn yet
        raise
    if index is not None:
        conversations.record_turn(index, actor_id, session, utc_now())
    return reply
