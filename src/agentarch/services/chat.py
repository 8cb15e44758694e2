"""One chat turn as the business logic sees it: a pipeline of named steps around the turn itself.

`pipeline(*steps, turn=...)` runs each step around the rest, in order. The chat Lambda's order is
idempotency (a retry answers the first answer without running anything) → quota (admit before the
agent runs, charge its tokens after) → audit (one `turn` record, ok or error) → the turn (claim the
session, call the agent, store the turn). Every step sees the same `TurnRequest` and the same
`ChatReply`, so a streamed answer can later flow through the very same steps.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from agentarch.core import streaming
from agentarch.core.contracts import (
    AgentInvocation,
    AgentReply,
    ApprovalAnswer,
    AuditContext,
    AuditHead,
    PendingApproval,
    TokenUsage,
    ToolCall,
)
from agentarch.core.decisions import StopReason
from agentarch.core.errors import StorageUnavailable
from agentarch.core.identity import Actor
from agentarch.core.timestamps import utc_now
from agentarch.services import conversations, quotas
from agentarch.services.conversations import (
    ApprovalNotPending,
    ConversationDeleted,
    ConversationIndex,
    ConversationNotFound,
)
from agentarch.services.locks import Locked, LockGate
from agentarch.services.memory import MemoryEvents

if TYPE_CHECKING:  # a pattern without a trail does not import it at cold start
    from agentarch.services.audit import AuditTrail

# A turn is stored only if this much of the Lambda's time is left after the agent answered, so the
# Memory write and the index update both finish before the function could time out between them.
STORE_MARGIN_SECONDS = 2.0
APPROVAL_TTL = timedelta(minutes=15)  # an approval older than this is refused: the user asks again


class ChatReply(BaseModel):
    """What the user gets back for one message."""

    session_id: str
    response: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    pending_approval: PendingApproval | None = Field(
        None, description="a tool call waiting for the user: send its id back with approve or reject"
    )
    stopped: StopReason | None = Field(
        None,
        description="the runaway breaker ended the turn early: locked, tool_call_cap, session_tool_call_cap, "
        "time_cap, token_budget, session_token_cap, session_time_cap or looped (the response says so in a "
        "sentence)",
    )
    # The audit chain head the agent handed back (never sent to the user): the turn record follows it.
    _audit_head: AuditHead | None = PrivateAttr(None)
    # The agent's wall time of the turn (never sent to the user): the session's time cap counts it.
    _agent_seconds: float = PrivateAttr(0.0)


class AgentInvoker(Protocol):
    """Anything that can send a payload to the agent runtime (the SigV4 client in production).

    Raises `AgentTimeout` when no answer came in time and `AgentUnavailable` when none can come.
    """

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]: ...


class StreamingAgentInvoker(AgentInvoker, Protocol):
    """An invoker that can also hand over the agent's events as they come (`agentarch.core.streaming`)
    and return its whole reply at the end."""

    def stream(
        self,
        payload: dict[str, Any],
        session_id: str,
        on_event: Callable[[dict[str, Any]], None],
        seconds_left: Callable[[], float],
    ) -> dict[str, Any]: ...


class OutputCapReached(Exception):
    """A streamed turn wrote more than its output cap: the rest is not read."""


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


def _forever() -> float:
    return math.inf


@dataclass(frozen=True)
class TurnRequest:
    """One message — or the user's answer to the call waiting in the session — from a signed-in user."""

    actor: Actor
    session_id: str
    message: str = ""
    approval: ApprovalAnswer | None = None
    request_id: str | None = None  # the front door's: every record of the turn names it
    seconds_left: Callable[[], float] = field(default=_forever, compare=False)  # the Lambda's time left
    token_budget: int | None = None  # what the quota reserved for this turn: the agent stops there
    audit_head: AuditHead | None = None  # the session's audit chain head, as the chat Lambda knows it
    # A streamed turn: where its events go as they come (None: the whole answer at the end), and the
    # characters of answer text it may write before the stream is stopped.
    events: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)
    output_cap: int | None = None


Next = Callable[[TurnRequest], ChatReply]
Step = Callable[[TurnRequest, Next], ChatReply]


def pipeline(*steps: Step, turn: Next) -> Next:
    """The steps in order, each running around the rest, and `turn` innermost."""
    return reduce(lambda inner, step: _around(step, inner), reversed(steps), turn)


def _around(step: Step, inner: Next) -> Next:
    def run(request: TurnRequest) -> ChatReply:
        return step(request, inner)

    return run


# --- the steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metered:
    """The quota step: admit the request within the actor's daily quota, reserving the turn's tokens
    (at most `budget`: the agent stops when its reservation is spent), and settle after.

    `uncharged` hears of a turn whose tokens could not be charged (it still answers).
    """

    store: quotas.QuotaStore
    policy: quotas.QuotaPolicy
    budget: int
    uncharged: Callable[[int], None] = lambda tokens: None
    clock: Callable[[], datetime] = utc_now

    def __call__(self, request: TurnRequest, inner: Next) -> ChatReply:
        def reserved(tokens: int) -> tuple[ChatReply, int]:
            reply = inner(replace(request, token_budget=tokens))
            return reply, reply.usage.total

        actor = request.actor
        return quotas.metered(
            self.store, self.policy, actor.id, actor.groups, self.clock, reserved, self.budget, self.uncharged
        )


# The short code a turn record keeps for each way a turn can fail (never the exception's text).
_TURN_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (AgentTimeout, "agent_timeout"),
    (AnsweredTooLate, "answered_too_late"),
    (AgentUnavailable, "agent_error"),
    (MalformedAgentReply, "malformed_reply"),
    (StorageUnavailable, "storage_unavailable"),
    (ApprovalNotPending, "approval_not_pending"),
    (ConversationDeleted, "conversation_deleted"),
    (Locked, "locked"),
)


def error_code(exc: Exception) -> str:
    """The code a turn record keeps for a failed turn."""
    return next((code for kind, code in _TURN_ERRORS if isinstance(exc, kind)), "internal_error")


@dataclass(frozen=True)
class Audited:
    """The audit step: one `turn` record per turn the agent was asked to answer.

    `ok` with the model's token counts once the turn is stored (a failed audit write then fails the
    request: a turn is not answered without its record), or `error` with a short code.
    """

    trail: AuditTrail

    def __call__(self, request: TurnRequest, inner: Next) -> ChatReply:
        context = AuditContext(request.actor, request.session_id, request.request_id)
        started = time.monotonic()
        known = self.trail.known_head(request.session_id)
        if known is not None:  # hand the head along with the turn: the agent need not read it back
            request = replace(
                request, audit_head=AuditHead(seq=known.seq, hash=known.hash, expires_at=known.expires_at)
            )
        try:
            reply = inner(request)
        except Exception as exc:
            with contextlib.suppress(StorageUnavailable):  # the turn's own error is what the user sees
                self.trail.turn(
                    context, outcome="error", latency_ms=_elapsed_ms(started), error=error_code(exc)
                )
            raise
        head = reply._audit_head
        if head is not None:
            self.trail.hand_over(request.session_id, head)
        self.trail.turn(
            context,
            outcome="ok",
            latency_ms=_elapsed_ms(started),
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            tool_calls=len(reply.tool_calls),
            error=reply.stopped.value if reply.stopped else None,  # answered, but the breaker ended it
        )
        return reply


@dataclass(frozen=True)
class Unlocked:
    """The kill switch's step: a new turn of a locked user or session (or with everything locked) is
    refused before anything else runs (`Locked`: 403 `locked`). The agent checks again before each step."""

    gate: LockGate

    def __call__(self, request: TurnRequest, inner: Next) -> ChatReply:
        self.gate.check(request.actor.id, request.session_id)
        return inner(request)


# --- the turn ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The turn itself: claim the session, ask the agent, store the answer (pattern 3's store)."""

    agent: AgentInvoker
    store: ConversationStore | None = None

    def __call__(self, request: TurnRequest) -> ChatReply:
        return send_message(self.agent, request, self.store)


def send_message(
    agent: AgentInvoker, request: TurnRequest, store: ConversationStore | None = None
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
    """
    actor, session = request.actor, request.session_id
    spent = Spent()
    if store is not None:
        conversation = conversations.start_or_resume(
            store.index, actor.id, session, request.message, utc_now()
        )
        spent = Spent(conversation.tool_counts, conversation.token_total, conversation.agent_seconds)
    try:
        invocation = _invocation(request, store, spent)
        reply = _reply(_ask(agent, invocation, request), session, store)
        if store is not None and reply.response:  # an empty answer leaves nothing to store
            if request.seconds_left() < STORE_MARGIN_SECONDS:
                raise AnsweredTooLate("no time left to store the turn")
            store.memory.append_turn(
                actor.id, session, invocation.prompt, reply.response, utc_now(), reply.tool_calls
            )
    except Exception:
        if store is not None:
            with contextlib.suppress(StorageUnavailable):  # an unusable store keeps the claim, still empty
                conversations.forget_unused(store.index, actor.id, session)  # only a claim with no turn
        raise
    if store is not None and reply.response:
        _record(store, request, reply)
    return reply


def _ask(agent: AgentInvoker, invocation: AgentInvocation, request: TurnRequest) -> dict[str, Any]:
    """The agent's answer; for a streamed turn its events go to `request.events` as they come.

    A stream that reaches the turn's output cap is stopped there: the user is told (`stopped`), and
    the turn is what was written so far, its output tokens estimated from that text (the agent's own
    count never arrived) — charged and stored like any other answer.
    """
    payload = invocation.model_dump(mode="json", exclude_none=True)
    stream = getattr(agent, "stream", None)
    if request.events is None or stream is None:
        return agent.invoke(payload, request.session_id)
    told = _Told(request.events, request.output_cap)
    started = time.monotonic()
    try:
        answer: dict[str, Any] = stream(
            payload,
            request.session_id,
            told,
            lambda: request.seconds_left() - STORE_MARGIN_SECONDS,
        )
    except OutputCapReached:  # the agent's own count of its seconds never arrived: the time it was heard
        return {**told.stopped(), "seconds": time.monotonic() - started}
    return answer


@dataclass
class _Told:
    """What a streamed turn has told the user so far, and the output cap it is held to."""

    events: Callable[[dict[str, Any]], None]
    cap: int | None
    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == streaming.TEXT:
            piece = str(event.get("text", ""))
            if self.cap is not None and len(self.text) + len(piece) > self.cap:
                piece = piece[: max(self.cap - len(self.text), 0)]
                self.text += piece
                if piece:
                    self.events({"type": streaming.TEXT, "text": piece})
                raise OutputCapReached
            self.text += piece
            self.events({"type": streaming.TEXT, "text": piece})
        elif kind == streaming.TOOL_CALL and isinstance(event.get("call"), dict):
            self.calls.append(event["call"])
            self.events({"type": streaming.TOOL_CALL, "call": event["call"]})

    def stopped(self) -> dict[str, Any]:
        message = f"The answer reached this turn's limit of {self.cap:,} characters and was stopped there."
        self.events({"type": streaming.STOPPED, "reason": "output_cap", "message": message})
        return {
            "response": f"{self.text}\n\n[{message}]",
            "tool_calls": self.calls,
            "usage": {"output_tokens": len(self.text) // 4 + 1},
        }


def _record(store: ConversationStore, request: TurnRequest, reply: ChatReply) -> None:
    """Count the stored turn in the index. A conversation deleted while the turn ran refuses it: the
    turn then removes what it wrote to Memory, so the delete holds whatever was in flight."""
    actor, session = request.actor, request.session_id
    try:  # the calls that ran were counted by the agent as each ran (`agent.graph.SessionCalls`)
        conversations.record_turn(
            store.index,
            actor.id,
            session,
            utc_now(),
            None,
            reply.pending_approval,
            tokens=reply.usage.total,
            seconds=reply._agent_seconds,
        )
    except ConversationNotFound:
        store.memory.delete_session(actor.id, session)
        raise ConversationDeleted(session, reply.usage.total) from None


@dataclass(frozen=True)
class Spent:
    """What the session's recorded turns spent, as the conversation index keeps it: the agent's
    per-session caps count from here (none known without a store: pattern 2)."""

    calls: dict[str, int] = field(default_factory=dict)
    tokens: int = 0
    seconds: float = 0.0


def _invocation(request: TurnRequest, store: ConversationStore | None, spent: Spent) -> AgentInvocation:
    """The payload for the agent; an approval is taken (once) from the store here."""
    if request.approval is None:
        return AgentInvocation(
            prompt=request.message,
            actor=request.actor,
            session_calls=spent.calls,
            session_tokens=spent.tokens,
            session_seconds=spent.seconds,
            request_id=request.request_id,
            token_budget=request.token_budget,
            audit_head=request.audit_head,
        )
    if store is None:
        raise ApprovalNotPending(request.approval.id)  # without storage nothing ever waits for approval
    taken = store.index.take_approval(
        request.actor.id, request.session_id, request.approval.id, utc_now() - APPROVAL_TTL
    )
    return AgentInvocation(
        prompt=approval_prompt(request.approval, taken.tool),
        actor=request.actor,
        session_calls=spent.calls,
        session_tokens=spent.tokens,
        session_seconds=spent.seconds,
        approval=taken.grant(request.approval),
        request_id=request.request_id,
        token_budget=request.token_budget,
        audit_head=request.audit_head,
    )


def _reply(answer: dict[str, Any], session: str, store: ConversationStore | None) -> ChatReply:
    """The user's reply from the agent's answer; a paused call gets an approval id (with a store)."""
    try:
        agent = AgentReply.model_validate({**answer, "session_id": session})
    except ValidationError:
        raise MalformedAgentReply("the agent's answer is not a chat reply") from None
    pending = None
    if agent.pending_approval is not None and store is not None:
        paused = agent.pending_approval
        pending = PendingApproval(
            id=new_approval_id(),
            tool=paused.tool,
            arguments=paused.args,
            requested_at=utc_now(),
            reason=paused.reason,
        )
    reply = ChatReply(
        session_id=session,
        response=agent.response,
        tool_calls=agent.tool_calls,
        usage=agent.usage,
        pending_approval=pending,
        stopped=agent.stopped,
    )
    reply._audit_head = agent.audit_head
    reply._agent_seconds = agent.seconds
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
