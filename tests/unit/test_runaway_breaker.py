"""The runaway breaker inside one turn: the caps (tool calls per turn and per session, wall time,
tokens) and the kill switch's lock, each ending the turn with a sentence and a stable reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool

from agentarch.agent.graph import CAP_POLICY, KILL_SWITCH_POLICY, Caps, Turn, build_graph, run_turn
from agentarch.agent.policy import load_tool_policy
from agentarch.agent.tools import WeatherService, build_tools
from agentarch.config import AgentSettings
from agentarch.core.decisions import Decision, StopReason
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteDatabase, SqliteLockStore
from agentarch.services import locks
from agentarch.services.locks import LockGate

SESSION = "s" * 40


class Arithmetic(BaseChatModel):
    """A model that asks for one more calculation every time it is called, forever (a runaway)."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "arithmetic"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.calls += 1
        call = {"name": "calculator", "args": {"expression": f"{self.calls} + 1"}, "id": f"c{self.calls}"}
        message = AIMessage(content="", tool_calls=[call], usage_metadata=_usage(10))
        return ChatResult(generations=[ChatGeneration(message=message)])


def _usage(tokens: int) -> Any:
    return {"input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens}


@pytest.fixture
def tools() -> list[BaseTool]:
    return build_tools(WeatherService("https://api.weather.gov", 0.5))


def _turn(**values: Any) -> Turn:
    return Turn(principal=Actor(id="alice"), session_id=SESSION, **values)


def test_a_turn_stops_at_its_tool_call_cap_with_a_sentence(tools: list[BaseTool]) -> None:
    model = Arithmetic()
    turn = _turn(caps=Caps(turn_tool_calls=3))

    result = run_turn(build_graph(model, tools, load_tool_policy()), [], "add forever", turn)

    ran = [call for call in result.tool_calls if call.decision is Decision.ALLOW]
    assert len(ran) == 3
    assert result.tool_calls[-1].decision is Decision.DENY and result.tool_calls[-1].policies == [CAP_POLICY]
    assert result.stopped is StopReason.TOOL_CALL_CAP
    assert result.response.startswith("I stopped here: this request used as many tool calls as one turn may")
    assert model.calls == 4  # the refused call's answer was never sent back to the model


def test_a_session_stops_at_its_tool_call_cap_across_turns(tools: list[BaseTool]) -> None:
    turn = _turn(session_calls={"calculator": 4}, caps=Caps(session_tool_calls=5))

    result = run_turn(build_graph(Arithmetic(), tools, load_tool_policy()), [], "add", turn)

    assert [call.decision for call in result.tool_calls] == [Decision.ALLOW, Decision.DENY]
    assert result.stopped is StopReason.SESSION_TOOL_CALL_CAP
    assert "Start a new conversation" in result.response


def test_a_turn_past_its_wall_time_stops_before_the_next_model_call(tools: list[BaseTool]) -> None:
    turn = _turn(caps=Caps(seconds=30))
    turn.started -= 31  # the turn has run longer than it may (no sleeping in tests)

    model = Arithmetic()
    result = run_turn(build_graph(model, tools, load_tool_policy()), [], "add", turn)

    assert model.calls == 0 and result.tool_calls == []
    assert result.stopped is StopReason.TIME_CAP
    assert "ran as long as one turn may" in result.response


def test_the_token_budget_is_a_stop_reason_and_lets_the_asked_call_run(tools: list[BaseTool]) -> None:
    result = run_turn(build_graph(Arithmetic(), tools, load_tool_policy()), [], "add", _turn(token_budget=10))

    assert [call.decision for call in result.tool_calls] == [Decision.ALLOW]
    assert result.stopped is StopReason.TOKEN_BUDGET


def test_a_lock_set_while_a_turn_runs_stops_it_at_its_next_tool_call(
    tools: list[BaseTool], tmp_path: Path
) -> None:
    store = SqliteLockStore(SqliteDatabase(tmp_path / "db.sqlite3"))
    gate = LockGate(store, ttl=0)

    class LockedMidway(Arithmetic):
        def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
            if self.calls == 1:  # an admin locks the user while the model thinks
                store.put(locks.make_lock("user", "alice", "admin-1", "runaway"))
            return super()._generate(messages, *args, **kwargs)

    model = LockedMidway()
    result = run_turn(build_graph(model, tools, load_tool_policy()), [], "add", _turn(gate=gate))

    assert [call.decision for call in result.tool_calls] == [Decision.ALLOW, Decision.DENY]
    assert result.tool_calls[-1].policies == [KILL_SWITCH_POLICY]
    assert result.stopped is StopReason.LOCKED
    assert (
        result.response == "I stopped here: an administrator has paused your account. Nothing more was done."
    )
    assert model.calls == 2  # no model call after the lock


def test_a_locked_session_makes_no_model_call_at_all(tools: list[BaseTool], tmp_path: Path) -> None:
    store = SqliteLockStore(SqliteDatabase(tmp_path / "db.sqlite3"))
    store.put(locks.make_lock("session", SESSION, "admin-1"))
    model = Arithmetic()

    result = run_turn(build_graph(model, tools, load_tool_policy()), [], "add", _turn(gate=LockGate(store)))

    assert model.calls == 0 and result.stopped is StopReason.LOCKED
    assert "paused this conversation" in result.response


def test_the_caps_are_settings_with_defaults() -> None:
    settings = AgentSettings.model_validate(
        {"TURN_MAX_TOOL_CALLS": "4", "SESSION_MAX_TOOL_CALLS": "40", "TURN_MAX_SECONDS": "9.5"}
    )
    assert (settings.turn_max_tool_calls, settings.session_max_tool_calls, settings.turn_max_seconds) == (
        4,
        40,
        9.5,
    )
    with pytest.raises(ValueError, match="TURN_MAX_TOOL_CALLS"):
        AgentSettings.model_validate({"TURN_MAX_TOOL_CALLS": "0"})
