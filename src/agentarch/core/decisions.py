"""What the tool policy decides for a call, how the policy is applied, and what the audit trail records.

The agent decides; the chat reply, the stored history, the audit trail, the CLI and the API all
use these same values.
"""

from __future__ import annotations

from enum import StrEnum


class Decision(StrEnum):
    """What the tool policy made of one tool call (the agent decides; the trace and audit record it)."""

    ALLOW = "allow"
    DENY = "deny"
    LOG_ONLY_DENY = "log_only_deny"  # LOG_ONLY mode: would have been denied, ran anyway
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def runs(self) -> bool:
        """Whether the tool's code runs for a call with this decision."""
        return self in (Decision.ALLOW, Decision.LOG_ONLY_DENY, Decision.APPROVED)

    @property
    def not_run_outcome(self) -> Outcome:
        """The audit outcome of a call with this decision that does not run."""
        if self.runs:
            raise ValueError(f"a call decided {self.value} runs")
        return _NOT_RUN[self]


class PolicyMode(StrEnum):
    """ENFORCE applies decisions; LOG_ONLY records them and lets every call through (as AgentCore Policy)."""

    ENFORCE = "ENFORCE"
    LOG_ONLY = "LOG_ONLY"


class Outcome(StrEnum):
    """How an audited step ended: a turn (`ok`, `error`) or a tool call (all of them)."""

    STARTED = "started"
    OK = "ok"
    ERROR = "error"
    DENIED = "denied"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def ran(self) -> bool:
        """Whether a tool call with this outcome started (a not-run call has one record only)."""
        return self in (Outcome.STARTED, Outcome.OK, Outcome.ERROR)


_NOT_RUN = {
    Decision.DENY: Outcome.DENIED,
    Decision.PENDING_APPROVAL: Outcome.PENDING,
    Decision.REJECTED: Outcome.REJECTED,
}


# How the agent's authorizer opens what it tells the model about a call that does not run
# (agent/graph.py). Readers of a trajectory that has no decisions in it (the spans) tell them apart
# by these openings; a test holds the graph to them.
NOT_PERMITTED = "Not permitted"
WAITING_FOR_APPROVAL = "Waiting for the user's approval"
USER_REJECTED = "The user rejected this call"


def decision_of_refusal(text: str) -> Decision | None:
    """The decision an authorizer's answer about a call that did not run stands for; None otherwise."""
    if text.startswith(NOT_PERMITTED):
        return Decision.DENY
    if text.startswith(WAITING_FOR_APPROVAL):
        return Decision.PENDING_APPROVAL
    if text.startswith(USER_REJECTED):
        return Decision.REJECTED
    return None


class StopReason(StrEnum):
    """Why the agent ended a turn early, with a sentence instead of an answer (the runaway breaker).

    The reply carries it as `stopped`, and the turn's audit record as its `error` code.
    """

    LOCKED = "locked"  # an administrator's lock covers the user, the session or everything
    TOOL_CALL_CAP = "tool_call_cap"  # the turn made as many tool calls as it may (TURN_MAX_TOOL_CALLS)
    SESSION_TOOL_CALL_CAP = "session_tool_call_cap"  # the session's tool calls (SESSION_MAX_TOOL_CALLS)
    TIME_CAP = "time_cap"  # the turn ran as long as it may (TURN_MAX_SECONDS)
    SESSION_TOKEN_CAP = "session_token_cap"  # noqa: S105 - a reason's name. The session's model tokens (SESSION_MAX_TOKENS)
    SESSION_TIME_CAP = (
        "session_time_cap"  # the session's agent seconds, every turn together (SESSION_MAX_SECONDS)
    )
    TOKEN_BUDGET = "token_budget"  # noqa: S105 - a reason's name, not a secret. The turn spent its model tokens (TURN_TOKEN_BUDGET / the reservation)
    LOOPED = "looped"  # the graph's step limit: a model going round without finishing
