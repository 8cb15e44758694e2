"""The LangGraph tool-calling agent: model → authorize → tools → model, until the model answers.

Every tool call the model asks for passes the `authorize` node before any tool code runs: the Cedar
tool policy (`agent/policy.py`) decides it for the turn's principal, with the call's arguments and
the calls made so far. A call that is not permitted is answered to the model as a tool message
saying so (and by which policy), never run. A call the policy permits only with the user's approval
pauses: the model is told it waits for approval, and the turn's result carries the pending call.
The user's approval comes back as a new turn that starts at `authorize` with that one call marked
approved — nothing the model or a tool says can mark anything approved.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages import ToolCall as ModelToolCall
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.errors import GraphRecursionError
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, ValidationError

from agentarch.agent.policy import CallHistory, PolicyAnswer, ToolPolicy, decide
from agentarch.agent.provenance import Provenance, untrusted_tools
from agentarch.core.contracts import ApprovalGrant, AuditContext, PendingCall, TokenUsage, ToolCall
from agentarch.core.decisions import Decision, PolicyMode, StopReason
from agentarch.core.errors import StorageUnavailable
from agentarch.core.identity import Actor
from agentarch.services.audit import AuditTrail
from agentarch.services.conversations import ConversationIndex, ConversationNotFound, get_conversation
from agentarch.services.locks import Lock, LockGate

COUNT_ATTEMPTS = 8  # calls of one session racing for its counts: a handful at most

SYSTEM_PROMPT = (
    "You are a helpful assistant inside agentarch. Use the tools for the current time, "
    "arithmetic, US weather and support tickets; never guess what a tool can tell you. When a tool "
    "answers that a call is not permitted or waits for the user's approval, tell the user so "
    "plainly and do not try another way around it. Answer briefly."
)
MAX_STEPS = 16
LOOPED = (
    "I stopped here: I kept going round without finishing this request. "
    "Nothing more was done; ask again, perhaps more narrowly."
)
STOP_SENTENCES = {
    StopReason.LOOPED: LOOPED,
    StopReason.LOCKED: "I stopped here: an administrator has paused this. Nothing more was done.",
    StopReason.TOOL_CALL_CAP: "I stopped here: this request used as many tool calls as one turn may. "
    "Nothing more was done; ask again, perhaps more narrowly.",
    StopReason.SESSION_TOOL_CALL_CAP: "I stopped here: this conversation used as many tool calls as it may. "
    "Start a new conversation to go on.",
    StopReason.TIME_CAP: "I stopped here: this request ran as long as one turn may. "
    "Nothing more was done; ask again, perhaps more narrowly.",
    StopReason.SESSION_TOKEN_CAP: "I stopped here: this conversation used as many model tokens as it may. "
    "Start a new conversation to go on.",
    StopReason.SESSION_TIME_CAP: "I stopped here: this conversation has run as long as it may. "
    "Start a new conversation to go on.",
}


class TurnResult(BaseModel):
    """What one turn of the agent produced."""

    response: str
    tool_calls: list[ToolCall]
    usage: TokenUsage = TokenUsage()
    pending_approval: PendingCall | None = None
    stopped: StopReason | None = None  # the runaway breaker ended the turn (why)
    seconds: float = 0.0  # the turn's wall time, on the turn's clock


@dataclass(frozen=True)
class Caps:
    """The runaway breaker's caps (settings: `TURN_MAX_TOOL_CALLS`, `SESSION_MAX_TOOL_CALLS`,
    `TURN_MAX_SECONDS`, `SESSION_MAX_TOKENS`, `SESSION_MAX_SECONDS`; the turn's token cap is its
    `token_budget`). None: no cap. The session caps count what the turn was told the session's earlier
    turns spent (`Turn.session_tokens`, `Turn.session_seconds`) plus this turn's own."""

    turn_tool_calls: int | None = None
    session_tool_calls: int | None = None
    seconds: float | None = None
    session_tokens: int | None = None
    session_seconds: float | None = None


KILL_SWITCH_POLICY = "kill_switch"  # the "policy" a call refused by a lock names (trace, audit)
CAP_POLICY = "runaway_breaker"  # the "policy" a call refused by a cap names


@dataclass(frozen=True)
class Decided:
    """One call the model asked for and what the policy decided for it."""

    call: ModelToolCall
    decision: Decision
    policies: tuple[str, ...]

    @property
    def call_id(self) -> str:
        return _call_id(self.call)


@dataclass(frozen=True)
class SessionCalls:
    """A session's call counts where they live (the conversation index), so that a cap such as "at most
    three tickets per conversation" holds however many turns run at once: every decision reads them
    fresh, and a call that may run is counted before it runs, compare-and-set; when another call was
    counted in between, the call is decided again on the new counts."""

    index: ConversationIndex
    actor_id: str
    session_id: str

    def counts(self) -> dict[str, int]:
        """The calls that ran in the session so far, per tool."""
        return dict(get_conversation(self.index, self.actor_id, self.session_id).tool_counts)

    def take(self, tool: str, seen: int) -> bool:
        """Count a call about to run, if the tool's count is still `seen`."""
        return self.index.count_call(self.actor_id, self.session_id, tool, seen)


@dataclass
class Turn:
    """One turn's identity and call history, handed to the graph's nodes in the run's config.

    The compiled graph is shared by every turn of the process; everything that belongs to one turn
    lives here. `principal` None means nobody the agent can trust asked: every call is denied.
    """

    principal: Actor | None
    session_id: str
    session_calls: Mapping[str, int] = field(default_factory=dict)  # before this turn
    session_tokens: int = 0  # model tokens the session's earlier turns used
    session_seconds: float = 0.0  # the agent's wall time of the session's earlier turns
    approval: ApprovalGrant | None = None
    approvals_possible: bool = False
    # False where the browser writes the history and the approvals (patterns 0 and 1): a consequential
    # tool (metadata `consequential`) is neither offered to the model nor run.
    consequential_allowed: bool = True
    mode: PolicyMode = PolicyMode.ENFORCE
    now: datetime | None = None
    ran: Counter[str] = field(default_factory=Counter)  # calls permitted to run so far, per tool
    trace: list[Decided] = field(default_factory=list)  # every call asked for, in order
    pending: PendingCall | None = None
    approval_used: bool = False  # an approval admits one call, once
    audit: AuditTrail | None = None  # tool-call records, where the pattern keeps a trail (patterns 2 and 3)
    request_id: str | None = None  # the chat Lambda's, so a turn's records can be found together
    touched: dict[str, list[str]] = field(default_factory=dict)  # call id → resource ids a tool reports
    offered: list[str] | None = None  # the tools bound to the model this turn (decided on its first call)
    token_budget: int | None = None  # model tokens this turn may spend (the quota's reservation)
    calls: SessionCalls | None = None  # the session's counts, where a conversation is stored
    spent: int = 0  # model tokens spent so far this turn
    provenance: Provenance = field(default_factory=Provenance)  # whose words the context holds
    policy: ToolPolicy | None = None  # set by the graph: the tool policy also decides what a tool may show
    untrusted_tools: frozenset[str] = (
        frozenset()
    )  # tools whose output carries others' words (set by the graph)
    gate: LockGate | None = None  # the kill switch: read before each model call and each tool call
    caps: Caps = field(default_factory=Caps)
    clock: Callable[[], float] = time.monotonic  # seconds, for the time caps (injectable in tests)
    started: float = math.nan  # on `clock`; nan: now
    stopped: StopReason | None = None  # set when the breaker ends the turn
    lock: Lock | None = None  # the lock that ended it
    brought: dict[str, list[str]] = field(default_factory=dict)  # call id → untrusted sources it read

    def __post_init__(self) -> None:
        if math.isnan(self.started):
            self.started = self.clock()

    def elapsed(self) -> float:
        """Seconds since the turn started, on its clock."""
        return max(self.clock() - self.started, 0.0)

    def locked(self) -> Lock | None:
        """The lock that covers this turn's user or session now (read at most ~1 s stale), or None."""
        if self.gate is None:
            return None
        self.lock = self.gate.lock_on(self.principal.id if self.principal else None, self.session_id)
        return self.lock

    def breaker(self, model_call: bool) -> StopReason | None:
        """Whether the turn must stop before its next step: locked or out of time (the turn's or the
        session's); before a model call also out of tokens (the turn's or the session's: a call the
        model asked for within its budget still runs). The tool-call caps are checked per call, in
        `authorize`, and set `stopped` there."""
        if self.stopped is None and self.locked() is not None:
            self.stopped = StopReason.LOCKED
        caps, elapsed = self.caps, self.elapsed()
        if self.stopped is None and caps.seconds is not None and elapsed >= caps.seconds:
            self.stopped = StopReason.TIME_CAP
        if (
            self.stopped is None
            and caps.session_seconds is not None
            and self.session_seconds + elapsed >= caps.session_seconds
        ):
            self.stopped = StopReason.SESSION_TIME_CAP
        if self.stopped is not None or not model_call:
            return self.stopped
        budget = self.token_budget
        if budget is not None and self.spent >= budget:
            self.stopped = StopReason.TOKEN_BUDGET
        elif caps.session_tokens is not None and self.session_tokens + self.spent >= caps.session_tokens:
            self.stopped = StopReason.SESSION_TOKEN_CAP
        return self.stopped

    def stop_sentence(self) -> str:
        """What the user reads when the breaker ended the turn."""
        if self.stopped is StopReason.LOCKED and self.lock is not None:
            return self.lock.sentence()
        if self.stopped is StopReason.TOKEN_BUDGET and self.token_budget is not None:
            return budget_spent(self.token_budget)
        return STOP_SENTENCES.get(self.stopped or StopReason.LOOPED, LOOPED)

    def may_read(self, author_id: str) -> bool:
        """Whether the policy lets this turn's principal read what `author_id` wrote (a ticket)."""
        return (
            self.principal is not None
            and self.policy is not None
            and self.policy.may_read(self.principal, author_id)
        )

    def audit_context(self) -> AuditContext | None:
        """Who the records of this turn are about; None when nothing is recorded."""
        if self.audit is None or self.principal is None:
            return None
        return AuditContext(self.principal, self.session_id, self.request_id)

    def history(self, approved: bool) -> CallHistory:
        """The call history a decision sees now: this turn's calls so far and the session's (read from
        where they are counted, when the conversation is stored; ConversationNotFound if deleted)."""
        session = self.calls.counts() if self.calls is not None else Counter(self.session_calls) + self.ran
        earlier = any(Counter(self.session_calls).get(name, 0) > 0 for name in self.untrusted_tools)
        if earlier:
            self.provenance.seen_before = True  # an earlier turn read others' words: the session stays marked
        return CallHistory(
            turn_calls=dict(self.ran),
            session_calls=dict(session),
            approved=approved,
            now=self.now or datetime.now(UTC),
            untrusted_seen=self.provenance.untrusted_seen,
        )


def build_graph(
    model: BaseChatModel, tools: Sequence[BaseTool], policy: ToolPolicy
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the agent graph for a model, its tools and the tool policy that governs them."""
    by_name = {tool.name: tool for tool in tools}
    reading = untrusted_tools(tools)

    def _turn(config: RunnableConfig) -> Turn:
        turn = _the_turn(config)
        turn.policy, turn.untrusted_tools = policy, reading
        return turn

    def call_model(state: MessagesState, config: RunnableConfig) -> dict[str, list[BaseMessage]]:
        turn = _turn(config)
        if (
            turn.breaker(model_call=True) is not None
        ):  # locked, out of time, tokens or tool calls: no model call
            return {"messages": [AIMessage(turn.stop_sentence())]}
        if turn.offered is None:  # once per turn: the principal does not change within it
            principal = turn.principal
            turn.offered = [
                t.name
                for t in tools
                if principal
                and policy.may_ever_allow(principal, t.name)
                and (turn.consequential_allowed or not consequential(t))
            ]
        offered = [tool for tool in tools if tool.name in turn.offered]
        bound = model.bind_tools(offered) if offered else model
        answer = bound.invoke([SystemMessage(SYSTEM_PROMPT), *state["messages"]])
        turn.spent += _usage([answer]).total
        return {"messages": [answer]}

    def authorize(state: MessagesState, config: RunnableConfig) -> dict[str, list[BaseMessage]]:
        turn = _turn(config)
        refused: list[BaseMessage] = []
        for call in _requested(state):
            refusal = _breaker_refusal(turn, call)
            if refusal is not None:
                decision, policies, reason = refusal
            else:
                decision, policies, reason = _authorize_one(turn, policy, by_name.get(call["name"]), call)
            turn.trace.append(Decided(call, decision, policies))
            if decision.runs:
                turn.ran[call["name"]] += 1  # counted now: the next call of this message sees it
            else:
                _record_decided(turn, by_name.get(call["name"]), Decided(call, decision, policies))
                refused.append(ToolMessage(reason, tool_call_id=_call_id(call), name=call["name"]))
        return {"messages": refused}

    def run_tools(state: MessagesState, config: RunnableConfig) -> dict[str, list[BaseMessage]]:
        turn = _turn(config)
        batch = turn.trace[len(turn.trace) - len(_requested(state)) :]  # what `authorize` just decided
        answered: list[BaseMessage] = []
        for decided in batch:
            if not decided.decision.runs:
                continue  # answered by `authorize`; its code never runs
            answered.append(_run_recorded(turn, by_name[decided.call["name"]], decided))
        return {"messages": answered}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("authorize", authorize)
    graph.add_node("tools", run_tools)
    graph.add_conditional_edges(START, _start, ["model", "authorize"])
    graph.add_conditional_edges("model", _after_model, ["authorize", END])
    graph.add_edge("authorize", "tools")
    graph.add_edge("tools", "model")
    return graph.compile()


def run_turn(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    history: Sequence[BaseMessage],
    prompt: str,
    turn: Turn,
) -> TurnResult:
    """Run one user turn on top of earlier messages and collect the answer and the tool calls.

    With `turn.approval` the turn resumes the paused call: the prompt records the user's answer and
    the call itself goes straight to `authorize`, marked approved (or rejected) for that call only.
    """
    start = len(history) + 1
    opening = _opening(history, prompt, turn)
    try:
        state = graph.invoke(
            {"messages": [*history, *opening]},
            config={"recursion_limit": MAX_STEPS, "configurable": {"turn": turn}},
        )
    except GraphRecursionError:
        # A model that loops (on denied calls, say) ends its turn with a plain sentence, not an error.
        turn.stopped = turn.stopped or StopReason.LOOPED
        state = {"messages": [*history, *opening, AIMessage(LOOPED)]}
    return _result(state["messages"][start:], turn)


def stream_turn(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    history: Sequence[BaseMessage],
    prompt: str,
    turn: Turn,
) -> Iterator[TextDelta | ToolCall | TurnResult]:
    """The same turn as `run_turn`, told as it happens: each piece of text as the model writes it,
    each tool call once the policy has decided it, and last the whole `TurnResult`.

    The model is asked to stream (LangGraph's `messages` mode), so the first words leave before the
    model has finished; the nodes' updates give the messages the turn produced, in order.
    """
    produced: list[BaseMessage] = []
    streamed: Iterator[Any] = graph.stream(
        {"messages": [*history, *_opening(history, prompt, turn)]},
        config={"recursion_limit": MAX_STEPS, "configurable": {"turn": turn}},
        stream_mode=["messages", "updates"],
    )
    try:
        yield from _told(streamed, produced, turn)
    except GraphRecursionError:
        # As in `run_turn`: a model that loops ends its turn with a plain sentence.
        turn.stopped = turn.stopped or StopReason.LOOPED
        produced.append(AIMessage(LOOPED))
        yield TextDelta(LOOPED)
    yield _result(produced, turn)


def _told(streamed: Iterator[Any], produced: list[BaseMessage], turn: Turn) -> Iterator[TextDelta | ToolCall]:
    """The stream's text pieces and decided calls, collecting the turn's messages into `produced`."""
    told = 0
    for mode, chunk in streamed:
        if mode == "messages":
            message, meta = chunk
            if isinstance(message, AIMessageChunk) and meta.get("langgraph_node") == "model":
                text = _text(message)
                if text:
                    yield TextDelta(text)
            continue
        for update in chunk.values():
            produced.extend((update or {}).get("messages", []))
        for decided in turn.trace[told:]:
            yield ToolCall(
                name=decided.call["name"],
                args=decided.call["args"],
                decision=decided.decision,
                policies=list(decided.policies),
            )
        told = len(turn.trace)


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text, as the model produced it."""

    text: str


def _opening(history: Sequence[BaseMessage], prompt: str, turn: Turn) -> list[BaseMessage]:
    """The turn's first messages: the prompt, and with an approval the call it answers."""
    opening: list[BaseMessage] = [HumanMessage(prompt)]
    for message in [*history, *opening]:
        if isinstance(message, HumanMessage):  # the user's own words, the only ones arguments trace to
            turn.provenance.heard(_text_of(message))
    if turn.approval is not None:
        approval = turn.approval
        opening.append(
            AIMessage(
                content="",
                tool_calls=[ModelToolCall(name=approval.tool, args=approval.args, id=approval.call_id)],
            )
        )
    return opening


def _result(produced: Sequence[BaseMessage], turn: Turn) -> TurnResult:
    """What the turn's messages and its decisions come to."""
    outputs = {m.tool_call_id: str(m.content) for m in produced if isinstance(m, ToolMessage)}
    calls = [
        ToolCall(
            name=decided.call["name"],
            args=decided.call["args"],
            output=outputs.get(decided.call_id, ""),
            decision=decided.decision,
            policies=list(decided.policies),
            read=turn.brought.get(decided.call_id, []),
        )
        for decided in turn.trace
    ]
    final = next((m for m in reversed(produced) if isinstance(m, AIMessage) and not m.tool_calls), None)
    return TurnResult(
        response=_text(final) if final else "",
        tool_calls=calls,
        usage=_usage(produced),
        pending_approval=turn.pending,
        stopped=turn.stopped,
        seconds=turn.elapsed(),
    )


def _breaker_refusal(turn: Turn, call: ModelToolCall) -> tuple[Decision, tuple[str, ...], str] | None:
    """A call the runaway breaker refuses before the policy sees it: a lock, the turn's time, or a
    tool-call cap. The turn then ends at its next model call (`Turn.breaker`)."""
    name = call["name"]
    if turn.breaker(model_call=False) is StopReason.LOCKED:
        return (
            Decision.DENY,
            (KILL_SWITCH_POLICY,),
            f"Not permitted: an administrator paused this; {name} was not run.",
        )
    caps = turn.caps
    if turn.stopped is None and caps.turn_tool_calls is not None and len(turn.trace) >= caps.turn_tool_calls:
        turn.stopped = StopReason.TOOL_CALL_CAP
    if turn.stopped is None and caps.session_tool_calls is not None:
        earlier = sum(turn.session_calls.values()) + sum(turn.ran.values())
        if earlier >= caps.session_tool_calls:
            turn.stopped = StopReason.SESSION_TOOL_CALL_CAP
    if turn.stopped is None:
        return None
    return Decision.DENY, (CAP_POLICY,), f"Not permitted: {name} was not run ({turn.stopped.value})."


def _record_decided(turn: Turn, tool: BaseTool | None, decided: Decided) -> None:
    """One record for a call that does not run (denied, waiting for approval, rejected)."""
    context = turn.audit_context()
    if context is None or turn.audit is None:
        return
    turn.audit.tool_call_decided(
        context,
        tool=decided.call["name"],
        call_id=decided.call_id,
        args=decided.call["args"],
        outcome=decided.decision.not_run_outcome,
        decision=decided.decision,
        non_sensitive=_non_sensitive(tool),
        policy_ids=decided.policies,
        mode=turn.mode,
        approval_id=_approval_id(turn, decided),
        provenance=_provenance(turn, decided),
    )


def _provenance(turn: Turn, decided: Decided) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The call's provenance facts for its audit record; None before any untrusted content."""
    if not turn.provenance.untrusted_seen:
        return None
    untraced = tuple(name for name, ok in turn.provenance.traced(decided.call["args"]).items() if not ok)
    return untraced, tuple(turn.provenance.sources()) or ("an earlier turn",)


def _run_recorded(turn: Turn, tool: BaseTool, decided: Decided) -> ToolMessage:
    """Run a permitted call between two records: one before it starts, one after it ends.

    A call whose first record cannot be written does not run (no action without a trace); a tool
    that raises is recorded as an error and answered to the model as a failure.
    """
    call, context = decided.call, turn.audit_context()
    handle = None
    if context is not None and turn.audit is not None:
        try:
            handle = turn.audit.tool_call_started(
                context,
                tool=call["name"],
                call_id=decided.call_id,
                args=call["args"],
                non_sensitive=_non_sensitive(tool),
                decision=decided.decision,
                policy_ids=decided.policies,
                mode=turn.mode,
                approval_id=_approval_id(turn, decided),
                provenance=_provenance(turn, decided),
            )
        except StorageUnavailable:
            text = f"Not run: {call['name']} could not be recorded in the audit trail, so it did not run."
            return ToolMessage(text, tool_call_id=decided.call_id, name=call["name"])
    tool_config: RunnableConfig = {"configurable": {"turn": turn, "call_id": decided.call_id}}
    try:
        raw = tool.invoke(call["args"], config=tool_config)
        known = len(turn.provenance.untrusted)
        output = turn.provenance.read(tool, raw, turn.principal.id if turn.principal else "")
        brought = turn.provenance.untrusted[known:]
        turn.brought[decided.call_id] = list(dict.fromkeys(source.label for source in brought))
    except Exception as exc:
        if handle is not None and turn.audit is not None:
            turn.audit.tool_call_finished(handle, outcome="error", error=type(exc).__name__)
        raise
    if handle is not None and turn.audit is not None:
        touched = turn.touched.get(decided.call_id, [])
        turn.audit.tool_call_finished(handle, outcome="ok", result=output, resource_ids=touched)
    return ToolMessage(output, tool_call_id=decided.call_id, name=call["name"])


# Why a consequential tool is not offered where the browser calls the runtime (patterns 0 and 1).
CONSEQUENTIAL_UNAVAILABLE = (
    "changes something outside this conversation, and here the browser itself writes the history "
    "and the approvals, so nothing vouches for them: it runs only behind the secure front door (patterns 2 and 3)."
)


def consequential(tool: BaseTool) -> bool:
    """Whether a tool changes something outside the conversation (`metadata["consequential"]`)."""
    return bool((tool.metadata or {}).get("consequential"))


def _non_sensitive(tool: BaseTool | None) -> tuple[str, ...]:
    """The arguments a tool declares safe to keep as they are (`metadata["non_sensitive"]`)."""
    return tuple((tool.metadata or {}).get("non_sensitive", ())) if tool is not None else ()


def _approval_id(turn: Turn, decided: Decided) -> str | None:
    approval = turn.approval
    return approval.call_id if approval is not None and approval.call_id == decided.call_id else None


def _authorize_one(
    turn: Turn, policy: ToolPolicy, tool: BaseTool | None, call: ModelToolCall
) -> tuple[Decision, tuple[str, ...], str]:
    """Decide one call; the reason is what the model reads when the call does not run."""
    name, call_id = call["name"], _call_id(call)
    approval = turn.approval if turn.approval and turn.approval.call_id == call_id else None
    if approval is not None and turn.approval_used:
        approval = None  # the approved call ran already; asking again is a new call
    if approval is not None:
        turn.approval_used = True
    if approval is not None and approval.decision is Decision.REJECTED:
        return Decision.REJECTED, (), f"The user rejected this call: {name} was not run and nothing was done."
    if tool is None:
        return Decision.DENY, (), f"Not permitted: there is no tool called {name!r}."
    if turn.principal is None:
        return Decision.DENY, (), f"Not permitted: {name} needs a signed-in user, and none was verified."
    if not turn.consequential_allowed and consequential(tool):
        return Decision.DENY, (), f"Not permitted: {name} {CONSEQUENTIAL_UNAVAILABLE}"
    try:
        args = normalise_arguments(tool, call["args"])
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()) or "arguments"
        return Decision.DENY, (), f"Not permitted: the arguments of {name} are not valid ({fields})."
    # An approval holds for exactly the arguments the user saw; any other arguments are a new call.
    approved = (
        approval is not None and approval.tool == name and args == normalise_arguments(tool, approval.args)
    )
    try:
        decision, answer = _decide_and_count(turn, policy, name, args, approved)
    except ConversationNotFound:
        return Decision.DENY, (), f"Not permitted: this conversation was deleted, so {name} was not run."
    except SessionBusy:
        return (
            Decision.DENY,
            (),
            f"Not permitted: {name} could not be counted (too many calls at once); ask again.",
        )
    named = ", ".join(answer.policies) or "none"
    if decision is Decision.PENDING_APPROVAL:
        if turn.pending is not None:
            return Decision.DENY, answer.policies, "Not permitted: one call can wait for approval at a time."
        turn.pending = PendingCall(call_id=call_id, tool=name, args=args, reason=turn.provenance.why())
        return (
            decision,
            answer.policies,
            f"Waiting for the user's approval: {name} will run only if the user approves it "
            f"(policy: {named}).",
        )
    if decision is Decision.DENY:
        why = f" ({'; '.join(answer.errors)})" if answer.errors else ""
        return decision, answer.policies, f"Not permitted: {name} is not allowed here (policy: {named}){why}."
    return decision, answer.policies, ""


class SessionBusy(Exception):
    """Other calls of the session kept being counted while this one was decided."""


def _decide_and_count(
    turn: Turn, policy: ToolPolicy, name: str, args: dict[str, Any], approved: bool
) -> tuple[Decision, PolicyAnswer]:
    """Decide on the counts as they are now; a call that may run is counted before it runs, and is
    decided again if another was counted in between (so two racing calls never both fit a cap)."""
    assert turn.principal is not None
    for _ in range(COUNT_ATTEMPTS):
        history = turn.history(approved)
        decision, answer = decide(
            policy,
            turn.principal,
            name,
            args,
            history,
            mode=turn.mode,
            approvals_possible=turn.approvals_possible,
            traced=turn.provenance.traced(args),
        )
        if not decision.runs or turn.calls is None:
            return decision, answer
        if turn.calls.take(name, history.session_calls.get(name, 0)):
            return decision, answer
    raise SessionBusy(name)


def budget_spent(budget: int) -> str:
    """What the user reads when the turn stopped at its token budget."""
    return (
        f"I stopped here: this turn used its budget of {budget:,} model tokens. "
        "Ask again, perhaps more narrowly, to go on."
    )


def normalise_arguments(tool: BaseTool, args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as the tool will read them (types coerced, defaults filled), for the policy."""
    schema = tool.args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_validate(dict(args)).model_dump()
    return dict(args)


def _the_turn(config: RunnableConfig) -> Turn:
    turn = (config.get("configurable") or {}).get("turn")
    if not isinstance(turn, Turn):
        raise RuntimeError("the agent graph runs only with a Turn in its config")
    return turn


def _requested(state: MessagesState) -> list[ModelToolCall]:
    last = next((m for m in reversed(state["messages"]) if isinstance(m, AIMessage)), None)
    return list(last.tool_calls) if last is not None else []


def _call_id(call: ModelToolCall) -> str:
    return call["id"] or f"call-{call['name']}"  # models name every call; this is only a fallback


def _start(state: MessagesState) -> str:
    last = state["messages"][-1]
    return "authorize" if isinstance(last, AIMessage) and last.tool_calls else "model"


def _after_model(state: MessagesState) -> str:
    last = state["messages"][-1]
    return "authorize" if isinstance(last, AIMessage) and last.tool_calls else END


def _usage(messages: Sequence[BaseMessage]) -> TokenUsage:
    metered = [m.usage_metadata for m in messages if isinstance(m, AIMessage) and m.usage_metadata]
    return TokenUsage(
        input_tokens=sum(u["input_tokens"] for u in metered),
        output_tokens=sum(u["output_tokens"] for u in metered),
    )


def _text_of(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in message.content)


def _text(message: AIMessage | AIMessageChunk) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in message.content]
    return "".join(parts)
