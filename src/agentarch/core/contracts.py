"""What crosses between the chat Lambda, the agent runtime and the conversation store.

The chat Lambda sends an `AgentInvocation` (the session travels as AgentCore's `runtimeSessionId`,
never in the payload) and reads an `AgentReply`; the tool calls and token usage in it are what the
user is shown, what Memory stores and what the quota charges. A call the agent paused on comes back
as a `PendingCall`; the chat Lambda keeps it as a `PendingApproval` (with an unguessable id the
user sends back in an `ApprovalAnswer`) and hands the answer to the agent as an `ApprovalGrant`
with the arguments it stored — never arguments the user sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentarch.core.decisions import Decision, StopReason
from agentarch.core.identity import Actor
from agentarch.core.timestamps import to_utc_millis

TOOL_NAME_MAX_CHARS = 64
PROMPT_MAX_CHARS = 100_000  # what one Memory payload holds: a prompt the turn could not store is refused


class TokenUsage(BaseModel):
    """Model tokens one turn used, as the agent reports them; charged to the user's daily quota."""

    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)

    @property
    def total(self) -> int:
        """Input and output tokens together: what the token quota counts."""
        return self.input_tokens + self.output_tokens


class ToolCall(BaseModel):
    """A tool call the agent's model asked for while answering, as the user was shown it."""

    model_config = ConfigDict(frozen=True)

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    output: str = ""
    decision: Decision = Decision.ALLOW
    policies: list[str] = Field(default_factory=list, description="the tool policies that decided the call")
    read: list[str] = Field(
        default_factory=list,
        description="others' words this call's output brought in (\"ticket T-12, written by bob\": the author's "
        "user name, or their id when the ticket has none): a later "
        "turn's approval card names them",
    )


class PendingCall(BaseModel):
    """The call the agent paused on, waiting for the user: exactly this tool with exactly these arguments."""

    call_id: str = Field(min_length=1, max_length=128)
    tool: str = Field(min_length=1, max_length=TOOL_NAME_MAX_CHARS)
    args: dict[str, Any]
    reason: str | None = Field(
        None, max_length=1000, description="why the user is asked, when others' words came first"
    )


class ApprovalGrant(PendingCall):
    """The user's answer to a pending call, as the chat Lambda verified and consumed it."""

    decision: Literal[Decision.APPROVED, Decision.REJECTED]


class PendingApproval(BaseModel):
    """A tool call that waits for the user's approval: exactly this tool with these arguments."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="what the user sends back to approve or reject the call")
    tool: str
    arguments: dict[str, Any]
    requested_at: datetime
    reason: str | None = Field(
        None,
        description="whose words led here, when the call was proposed after reading them "
        '("proposed after reading ticket t-12, written by bob")',
    )

    @field_validator("requested_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return to_utc_millis(value)

    def grant(self, answer: ApprovalAnswer) -> ApprovalGrant:
        """What the agent is told: this call, with the arguments stored when it paused."""
        decision = Decision.APPROVED if answer.decision == "approve" else Decision.REJECTED
        return ApprovalGrant(call_id=self.id, tool=self.tool, args=self.arguments, decision=decision)


class ApprovalAnswer(BaseModel):
    """The user's answer to the call waiting in this conversation."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    decision: Literal["approve", "reject"]


class AuditHead(BaseModel):
    """The last record of a session's audit chain, handed along with the turn (chat Lambda → agent →
    chat Lambda) so neither writer reads it back from the store before each record. Only a hint: the
    store's conditional put refuses a stale one and the writer then reads the head."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_at: int | None = None


class AgentInvocation(BaseModel):
    """The payload the chat Lambda (or, in patterns 0/1, the browser) sends the agent runtime."""

    prompt: str = Field(min_length=1, max_length=PROMPT_MAX_CHARS)
    actor: Actor | None = None
    # Tool calls made in the session's earlier turns (the chat Lambda keeps the counts).
    session_calls: dict[
        Annotated[str, Field(max_length=TOOL_NAME_MAX_CHARS)], Annotated[int, Field(ge=0)]
    ] = Field(default_factory=dict, max_length=64)
    # What the session's earlier turns spent (the chat Lambda keeps these too): model tokens and the
    # agent's wall time, for SESSION_MAX_TOKENS and SESSION_MAX_SECONDS.
    session_tokens: int = Field(0, ge=0)
    session_seconds: float = Field(0.0, ge=0)
    approval: ApprovalGrant | None = None
    request_id: str | None = Field(None, max_length=128)  # the chat Lambda's: the audit records name it
    # Model tokens this turn may spend (what the quota reserved); the agent stops calling the model there.
    token_budget: int | None = Field(None, ge=1)
    audit_head: AuditHead | None = None  # the session's audit chain head as the chat Lambda knows it
    # Answer as an event stream (`agentarch.core.streaming`): text as the model writes it, tool calls
    # as they are decided, the whole reply last.
    stream: bool | None = None


class AgentReply(BaseModel):
    """The agent's answer for one turn."""

    response: str
    session_id: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    pending_approval: PendingCall | None = None
    audit_head: AuditHead | None = (
        None  # the chain head after the agent's records: the turn record follows it
    )
    stopped: StopReason | None = None  # the runaway breaker ended the turn early (why)
    seconds: float = Field(0.0, ge=0)  # the agent's wall time of this turn: what the session's cap counts


@dataclass(frozen=True)
class AuditContext:
    """Who and what an audit record is about: the chat Lambda's turn records and the agent's tool-call
    records of one request carry the same actor, session and request id."""

    actor: Actor
    session: str
    request_id: str | None = None
