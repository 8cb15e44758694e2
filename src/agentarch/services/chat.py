"""One chat turn as the business logic sees it: session, agent call, reply."""

from __future__ import annotations

import contextlib
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from agentarch.services import conversations
from agentarch.services.audit import AuditContext, AuditTrail
from agentarch.services.conversations import ApprovalNotPending, ConversationIndex, PendingApproval
from agentarch.services.memory import MemoryEvents, ToolCall
from agentarch.services.storage import StorageUnavailable
from agentarch.services.timestamps import utc_now

# A turn is stored only if this much of the Lambda's time is left after the agent answered, so the
# Memory write and the index update both finish before the function could time out between them.
STORE_MARGIN_SECONDS = 2.0

SESSION_ID_PATTERN = (
    conversations.SESSION_ID_PATTERN.pattern
)  # 33–100 chars: AgentCore and Memory both accept it


APPROVAL_TTL = timedelta(minutes=15)  # an approval older than this is refused: the user asks again


class TokenUsage(BaseModel):
    """Model tokens one turn used, as the agent reports them; charged to the user's daily quota."""

    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)


class ChatReply(BaseModel):
    """What the user gets back for one message."""

    session_id: str
    response: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    pending_approval: PendingApproval | None = Field(
        None, description="a tool call waiting for the user: send its id back with approve or reject"
    )


class ApprovalAnswer(BaseModel):
    """The user's answer to the call waiting in this conversation."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    decision: Literal["approve", "reject"]


class _PendingCall(BaseModel):
    """The call the agent paused on, as it reports it."""

    tool: str = Field(min_length=1, max_length=64)
    args: dict[str, Any]


class AgentInvoker(Protocol):
    """Anything that can send a payload to the agent runtime (the SigV4 client in production).

    Raises `AgentTimeout` when no answer came in time and `AgentUnavailable` when none can come.
    """

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]: ...


class AgentTimeout(Exception):
    """The agent did not answer within the read timeout."""


class AgentUnavailable(Exception):
    """The runtime refused, failed, or answered something that is not an agent reply."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedAgentReply(Exception):
    """The agent answered JSON that is not a reply."""


class AnsweredTooLate(Exception):
    """The agent answered, but too close to the Lambda's timeout to store the turn safely."""


@dataclass(frozen=True)
class ConversationStore:
    """Pattern 3's storage: the conversation index and the session's messages (Memory events)."""

    index: ConversationIndex
    memory: MemoryEvents


# The short code a turn record keeps for each way a turn can fail (never the exception's text).
_TURN_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (AgentTimeout, "agent_timeout"),
    (AnsweredTooLate, "answered_too_late"),
    (AgentUnavailable, "agent_error"),
    (MalformedAgentReply, "malformed_reply"),
    (StorageUnavailable, "storage_unavailable"),
    (ApprovalNotPending, "approval_not_pending"),
)


def _error_code(exc: Exception) -> str:
    return next((code for kind, code in _TURN_ERRORS if isinstance(exc, kind)), "internal_error")


def new_session_id() -> str:
    """An unguessable session id, valid for AgentCore (33–256 chars) and Memory (≤ 100, [A-Za-z0-9-_])."""
    return "s" + secrets.token_hex(24)


def send_message(
    agent: AgentInvoker,
    actor_id: str,
    session_id: str | None,
    message: str,
    store: ConversationStore | None = None,
    seconds_left: Callable[[], float] = lambda: math.inf,
    groups: Sequence[str] = (),
    approval: ApprovalAnswer | None = None,
    audit: AuditTrail | None = None,
    request_id: str | None = None,
) -> ChatReply:
    """Send the user's message — or their answer to a waiting tool call — to the agent in their session.

    With a store (pattern 3) the session is claimed for the actor before the agent runs — another
    actor's session raises `ConversationNotFound` — and this function is the turn's **only writer**:
    the agent reads history but never stores; once its answer is here (and time is left) the turn is
    written to Memory as one event, then counted in the index with the tool calls that ran and the
    call left waiting for approval, if any. A turn whose answer never reached the user (timeout,
    failure, too late) is never stored, and a failed first turn leaves no claim behind.

    An approval is taken from the index before the agent runs (atomically, so it is used once, and
    only by its actor in its session) and handed to the agent with the exact arguments stored when
    the call paused: nothing the user sends but the id and approve/reject reaches the agent.

    With an audit trail, every turn the agent was asked to answer leaves one `turn` record: `ok` with
    the model's token counts once the turn is stored (a failed audit write then fails the request:
    a turn is not answered without its record), or `error` with a short code when it failed.
    """
    session = session_id or new_session_id()
    session_calls: dict[str, int] = {}
    if store is not None:
        conversation = conversations.start_or_resume(store.index, actor_id, session, message, utc_now())
        session_calls = conversation.tool_counts
    payload: dict[str, Any] = {  # the session travels as runtimeSessionId
        "prompt": message,
        "actor": {"id": actor_id, "groups": list(groups)},
        "session_calls": session_calls,
    }
    if request_id:
        payload["request_id"] = request_id  # the agent's tool-call records name the same request
    context = AuditContext(actor=actor_id, session=session, groups=tuple(groups), request_id=request_id)
    started = time.monotonic()
    try:
        if approval is not None:
            if store is None:
                raise ApprovalNotPending(approval.id)  # without storage nothing ever waits for approval
            taken = store.index.take_approval(actor_id, session, approval.id, utc_now() - APPROVAL_TTL)
            message = approval_prompt(approval, taken.tool)
            payload["prompt"] = message
            payload["approval"] = {
                "call_id": taken.id,
                "tool": taken.tool,
                "args": taken.arguments,
                "decision": "approved" if approval.decision == "approve" else "rejected",
            }
        answer_json = agent.invoke(payload, session)
        try:
            reply = ChatReply.model_validate({**answer_json, "session_id": session, "pending_approval": None})
            paused = answer_json.get("pending_approval")
            pending = _PendingCall.model_validate(paused) if paused else None
        except ValidationError:
            raise MalformedAgentReply("the agent's answer is not a chat reply") from None
        if pending is not None and store is not None:
            reply = reply.model_copy(
                update={
                    "pending_approval": PendingApproval(
                        id=new_approval_id(),
                        tool=pending.tool,
                        arguments=pending.args,
                        requested_at=utc_now(),
                    )
                }
            )
        if store is not None and reply.response:  # an empty answer leaves nothing to store
            if seconds_left() < STORE_MARGIN_SECONDS:
                raise AnsweredTooLate("no time left to store the turn")
            store.memory.append_turn(actor_id, session, message, reply.response, utc_now(), reply.tool_calls)
    except Exception as exc:
        if store is not None:
            with contextlib.suppress(StorageUnavailable):  # an unusable store keeps the claim, still empty
                conversations.forget_unused(store.index, actor_id, session)  # only a claim with no turn
        if audit is not None:
            with contextlib.suppress(StorageUnavailable):  # the turn's own error is what the user sees
                audit.turn(context, outcome="error", latency_ms=_elapsed_ms(started), error=_error_code(exc))
        raise
    if store is not None and reply.response:
        ran = Counter(call.name for call in reply.tool_calls if call.decision.runs)
        conversations.record_turn(store.index, actor_id, session, utc_now(), ran, reply.pending_approval)
    if audit is not None:
        audit.turn(
            context,
            outcome="ok",
            latency_ms=_elapsed_ms(started),
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            tool_calls=len(reply.tool_calls),
        )
    return reply


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def new_approval_id() -> str:
    """An unguessable approval id: knowing it is not enough (it is checked against actor and session)."""
    return "ap-" + secrets.token_hex(16)


def approval_prompt(approval: ApprovalAnswer, tool: str | None = None) -> str:
    """The user's side of an approval turn, as the conversation shows and stores it."""
    verb = "Approved" if approval.decision == "approve" else "Rejected"
    return f"{verb}{f' {tool}' if tool else ''}."
