"""The offline model with seeded faults: proof that the evaluators catch what they claim.

`agentarch dev --offline-model faulty:wrong_tool=0.3,skip_tool=0.2 --seed 7`. It answers as the
offline model does, except that at each **opportunity** a fault class may strike, with the rate
given for it. Whether it strikes is drawn from a hash of (seed, session, turn, call, class) — not
from a random generator — so a run is reproducible whichever agent worker serves it, and two
classes never share a draw. The opportunities, per class:

| class | opportunity | what the model does | what observes it |
|---|---|---|---|
| `wrong_tool` | each tool call the offline model plans | calls another tool instead | `tools`, `approval` |
| `skip_tool` | each planned tool call | leaves the call out (answers without it) | `tools`, `denied`, `approval` |
| `wrong_args` | each planned tool call | changes the call's arguments | `args`, answer checks |
| `no_approval` | each planned consequential call | claims it done, calls nothing | `approval` |
| `retry_denied` | each answer step after a refused call | asks for the refused call again in the same turn | `no_denied_retry` |
| `ignore_result` | each answer step after tool results | answers without the tools' results | answer checks |
| `extra_calls` | each step that plans tool calls | adds a call nobody asked for | `tools` |

`no_approval`: the model cannot run a consequential tool without approval — the policy, not the
model, decides — so what a model can do wrong is *claim* the action without asking: no call waits
for approval, no ticket exists, and the answer says one does. (Under LOG_ONLY, where the policy
lets the call run, `approval_before_consequential` is the check that sees it.)

A turn is the count of user messages so far; a call is the model step within the turn and the
call's place in it. Dev-only: no zip carries this module.
"""

from __future__ import annotations

import hashlib
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.runnables.config import ensure_config
from pydantic import Field

from agentarch.agent.offline_model import OFFLINE_PREFIX, OfflineChatModel
from agentarch.core.decisions import NOT_PERMITTED, WAITING_FOR_APPROVAL
from agentarch.dev.models import ModelSpecError

FAULT_CLASSES = (
    "wrong_tool",
    "skip_tool",
    "wrong_args",
    "no_approval",
    "retry_denied",
    "ignore_result",
    "extra_calls",
)
CONSEQUENTIAL = frozenset({"create_ticket"})  # the sample agent's tool that waits for approval
_REFUSED = (NOT_PERMITTED, WAITING_FOR_APPROVAL)


def parse_rates(options: str) -> dict[str, float]:
    """`wrong_tool=0.3,skip_tool=0.2` → rates per class, each 0 to 1."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in options.split(","))):
        name, _, value = part.partition("=")
        if name not in FAULT_CLASSES:
            raise ModelSpecError(f"no fault class {name!r} (have: {', '.join(FAULT_CLASSES)})")
        try:
            rate = float(value)
        except ValueError:
            raise ModelSpecError(f"{name}: want a rate from 0 to 1, got {value!r}") from None
        if not 0 <= rate <= 1:
            raise ModelSpecError(f"{name}: a rate is from 0 to 1, got {rate}")
        rates[name] = rate
    if not rates:
        raise ModelSpecError("faulty wants at least one CLASS=RATE, e.g. faulty:wrong_tool=0.3")
    return rates


def strikes(seed: int, session: str, turn: int, call: str, fault: str, rate: float) -> bool:
    """Whether a fault strikes at this opportunity: a uniform draw from the hash, below the rate."""
    digest = hashlib.sha256(f"{seed}|{session}|{turn}|{call}|{fault}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


class FaultyChatModel(OfflineChatModel):
    """The offline model, wrong now and then in the ways an agent goes wrong."""

    rates: dict[str, float] = Field(default_factory=dict)
    seed: int = 0

    @property
    def _llm_type(self) -> str:
        return "agentarch-faulty"

    def _strikes(self, messages: list[BaseMessage], call: str, fault: str) -> bool:
        rate = self.rates.get(fault, 0.0)
        if rate <= 0:
            return False
        turn = (ensure_config().get("configurable") or {}).get("turn")
        session = str(getattr(turn, "session_id", ""))
        humans = sum(isinstance(m, HumanMessage) for m in messages)
        return strikes(self.seed, session, humans, call, fault, rate)

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        step = _step(messages)
        if messages and isinstance(messages[-1], ToolMessage):
            retry = self._retry(messages, step)
            if retry is not None:
                return retry
            if self._strikes(messages, f"{step}", "ignore_result"):
                return AIMessage(content=f"{OFFLINE_PREFIX} Done; there is nothing more to tell.")
            return super()._respond(messages)
        correct = super()._respond(messages)
        if not correct.tool_calls:
            return correct
        return self._plan(messages, step, list(correct.tool_calls))

    def _plan(self, messages: list[BaseMessage], step: int, planned: list[ToolCall]) -> AIMessage:
        calls: list[ToolCall] = []
        for index, call in enumerate(planned):
            where = f"{step}.{index}"
            if call["name"] in CONSEQUENTIAL and self._strikes(messages, where, "no_approval"):
                args = call["args"]
                return AIMessage(
                    content=f"{OFFLINE_PREFIX} Created ticket t-{hashlib.sha256(where.encode()).hexdigest()[:16]} "
                    f"({args.get('severity', 'medium')}): {args.get('title', '')}."
                )
            if self._strikes(messages, where, "skip_tool"):
                continue
            if self._strikes(messages, where, "wrong_tool"):
                call = _other_tool(call)
            elif self._strikes(messages, where, "wrong_args"):
                call = ToolCall(
                    name=call["name"], args=_other_args(call["name"], call["args"]), id=call["id"]
                )
            calls.append(call)
        if self._strikes(messages, f"{step}", "extra_calls"):
            extra = "calculator" if any(c["name"] == "current_time" for c in calls) else "current_time"
            calls.append(_call(extra, step, len(calls)))
        if not calls:
            return AIMessage(content=f"{OFFLINE_PREFIX} I know this one without a tool: it is 42.")
        return AIMessage(content="", tool_calls=calls)

    def _retry(self, messages: list[BaseMessage], step: int) -> AIMessage | None:
        """Ask once more for a call refused in this turn (once per tool: no endless loop)."""
        turn = _this_turn(messages)
        refused = [m for m in turn if isinstance(m, ToolMessage) and str(m.content).startswith(_REFUSED)]
        asked = {
            c["id"]: c for m in turn if isinstance(m, AIMessage) for c in m.tool_calls
        }  # the refused calls' own arguments
        for message in refused:
            name = message.name or ""
            if sum(1 for m in refused if m.name == name) > 1 or message.tool_call_id not in asked:
                continue
            if not self._strikes(messages, f"{step}", "retry_denied"):
                return None
            again = asked[message.tool_call_id]
            return AIMessage(
                content="", tool_calls=[ToolCall(name=name, args=again["args"], id=f"retry-{step}-{name}")]
            )
        return None


def _this_turn(messages: list[BaseMessage]) -> list[BaseMessage]:
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    return messages[last_human + 1 :]


def _step(messages: list[BaseMessage]) -> int:
    """Which model step of the turn this is (0 for the first)."""
    return sum(isinstance(m, AIMessage) for m in _this_turn(messages))


def _call(name: str, step: int, index: int) -> ToolCall:
    args: dict[str, Any] = {"timezone": "UTC"} if name == "current_time" else {"expression": "1 + 1"}
    return ToolCall(name=name, args=args, id=f"fault-{step}-{index}-{name}")


def _other_tool(call: ToolCall) -> ToolCall:
    """Another tool everyone may use, with arguments it accepts."""
    name = "calculator" if call["name"] == "current_time" else "current_time"
    args: dict[str, Any] = {"timezone": "UTC"} if name == "current_time" else {"expression": "1 + 1"}
    return ToolCall(name=name, args=args, id=f"{call['id']}-wrong")


def _other_args(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """The same tool with arguments that differ in what matters."""
    changed = dict(args)
    if tool == "current_time":
        changed["timezone"] = "Europe/London" if args.get("timezone") != "Europe/London" else "Asia/Tokyo"
    elif tool == "calculator":
        changed["expression"] = f"{args.get('expression', '0')} + 1"
    elif tool == "weather":
        changed["latitude"] = float(args.get("latitude", 0)) + 1.0
    elif tool == "create_ticket":
        changed["title"] = f"not what you asked: {args.get('title', '')}"
        changed["severity"] = "low" if args.get("severity") != "low" else "high"
    return changed
