"""The agent graph driven by the offline model, model selection, and the runtime entrypoint."""

from __future__ import annotations

import pytest
from bedrock_agentcore.runtime import RequestContext
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import BaseTool

from agentarch.agent.app import AgentService, invoke
from agentarch.agent.graph import Turn, build_graph, run_turn
from agentarch.agent.models import select_model
from agentarch.agent.offline_model import OFFLINE_PREFIX, US_CITIES, OfflineChatModel
from agentarch.agent.policy import load_tool_policy
from agentarch.agent.tools import WeatherService, build_tools, current_time
from agentarch.config import AgentSettings, SettingsError
from agentarch.core.contracts import AgentInvocation
from agentarch.core.identity import Actor


@pytest.fixture
def tools() -> list[BaseTool]:
    return build_tools(WeatherService("https://api.weather.gov", 0.5))


def member(*groups: str) -> Turn:
    """A turn for a signed-in user (in the given groups) under the default tool policy."""
    return Turn(principal=Actor(id="user-1", groups=groups), session_id="s" * 40)


def offline_calls(question: str, tools: list[BaseTool]) -> list[tuple[str, dict[str, object]]]:
    model = OfflineChatModel().bind_tools(tools)
    message = model.invoke([HumanMessage(question)])
    assert isinstance(message, AIMessage)
    return [(call["name"], call["args"]) for call in message.tool_calls]


def test_offline_model_calls_the_calculator_and_the_clock(tools: list[BaseTool]) -> None:
    assert offline_calls("what is 17 * 23?", tools) == [("calculator", {"expression": "17 * 23"})]
    assert offline_calls("what time is it?", tools) == [("current_time", {"timezone": "UTC"})]
    assert offline_calls("what time is it in Asia/Tokyo?", tools) == [
        ("current_time", {"timezone": "Asia/Tokyo"})
    ]
    assert offline_calls("weather at 47.61,-122.33", tools) == [
        ("weather", {"latitude": 47.61, "longitude": -122.33})
    ]


def test_offline_model_finds_the_weather_of_a_large_us_city_by_name(tools: list[BaseTool]) -> None:
    assert offline_calls("what's the weather in Seattle?", tools) == [
        ("weather", {"latitude": 47.6062, "longitude": -122.3321})
    ]
    assert offline_calls("Forecast for new york city please", tools) == [
        ("weather", {"latitude": 40.7128, "longitude": -74.006})
    ]
    assert offline_calls("weather in San Antonio today", tools) == [
        ("weather", {"latitude": 29.4241, "longitude": -98.4936})
    ]


def test_offline_model_asks_where_when_the_weather_has_no_place(tools: list[BaseTool]) -> None:
    result = run_turn(
        build_graph(OfflineChatModel(), tools, load_tool_policy()),
        [],
        "what's the weather like today?",
        member(),
    )

    assert result.tool_calls == []
    assert "Seattle" in result.response and "47.61,-122.33" in result.response


def test_offline_model_answers_the_date_and_a_city_time_with_the_clock(tools: list[BaseTool]) -> None:
    assert offline_calls("what is today's date?", tools) == [("current_time", {"timezone": "UTC"})]
    assert offline_calls("what day is it today?", tools) == [("current_time", {"timezone": "UTC"})]
    assert offline_calls("what time is it in Chicago?", tools) == [
        ("current_time", {"timezone": "America/Chicago"})
    ]


def test_offline_help_lists_every_kind_of_question_and_every_city(tools: list[BaseTool]) -> None:
    answer = run_turn(
        build_graph(OfflineChatModel(), tools, load_tool_policy()), [], "help", member()
    ).response

    for example in ("what time is it?", "today's date", "17 * 23", "weather in Seattle", "47.61,-122.33"):
        assert example in answer
    assert [city.name for city in US_CITIES if city.name not in answer] == []
    assert len(US_CITIES) == 25


def test_every_city_of_the_offline_model_has_a_real_time_zone() -> None:
    for city in US_CITIES:
        assert "Unknown time zone" not in current_time(city.timezone), city.name


def test_offline_model_asks_for_the_tool_a_question_needs_even_when_not_offered() -> None:
    only_clock = [t for t in build_tools(WeatherService("https://x", 1)) if t.name == "current_time"]

    # The authorizer, not the model, is what stops a call: the offline model reaches for it anyway.
    assert offline_calls("what is 2 + 2?", only_clock) == [("calculator", {"expression": "2 + 2"})]


def test_graph_answers_from_tool_results_and_says_it_is_offline(tools: list[BaseTool]) -> None:
    graph = build_graph(OfflineChatModel(), tools, load_tool_policy())

    result = run_turn(graph, [], "what is 17 * 23?", member())

    assert result.response == f"{OFFLINE_PREFIX} 17 * 23 = 391"
    assert [(c.name, c.output) for c in result.tool_calls] == [("calculator", "17 * 23 = 391")]


def test_graph_can_use_two_tools_in_one_turn(tools: list[BaseTool]) -> None:
    result = run_turn(
        build_graph(OfflineChatModel(), tools, load_tool_policy()),
        [],
        "what time is it, and what is (2+3)**2?",
        member(),
    )

    assert [c.name for c in result.tool_calls] == ["current_time", "calculator"]
    assert "= 25" in result.response and "UTC" in result.response


def test_offline_model_sees_the_history_it_is_given(tools: list[BaseTool]) -> None:
    graph = build_graph(OfflineChatModel(), tools, load_tool_policy())
    history = [HumanMessage("tell me a joke"), AIMessage("no")]

    result = run_turn(graph, history, "what did I ask before?", member())

    assert "tell me a joke" in result.response
    assert result.tool_calls == []


def test_model_selection_prefers_bedrock_only_when_configured() -> None:
    assert isinstance(select_model(AgentSettings()), OfflineChatModel)

    bedrock = select_model(AgentSettings(BEDROCK_MODEL_ID="anthropic.claude-3-haiku", AWS_REGION="us-west-2"))  # type: ignore[call-arg]
    assert type(bedrock).__name__ == "ChatBedrockConverse"
    assert bedrock.model_id == "anthropic.claude-3-haiku"  # type: ignore[attr-defined]
    assert bedrock.region_name == "us-west-2"  # type: ignore[attr-defined]

    with pytest.raises(SettingsError, match="BEDROCK_MODEL_ID"):
        select_model(AgentSettings(MODEL_PROVIDER="bedrock"))  # type: ignore[call-arg]
    assert isinstance(
        select_model(AgentSettings(MODEL_PROVIDER="offline", BEDROCK_MODEL_ID="x")), OfflineChatModel
    )  # type: ignore[call-arg]


def test_entrypoint_validates_the_payload_and_answers_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentarch.agent.app.agent_service", lambda: AgentService(AgentSettings()))

    in_session = RequestContext(session_id="s" * 40)
    answer = invoke({"prompt": "what is 6 * 7?", "actor": {"id": "u1"}}, in_session)
    bad = invoke({"actor": {"id": "u1"}}, in_session)
    no_session = invoke({"prompt": "hi"}, RequestContext(session_id=None))

    assert isinstance(answer, dict)
    assert answer["session_id"] == "s" * 40 and "42" in answer["response"]
    assert answer["tool_calls"][0]["name"] == "calculator"
    assert getattr(bad, "status_code", None) == 400
    assert b"prompt" in bad.body  # type: ignore[union-attr]
    assert getattr(no_session, "status_code", None) == 400


def test_a_turn_reports_the_tokens_of_every_model_call_deterministically(tools: list[BaseTool]) -> None:
    graph = build_graph(OfflineChatModel(), tools, load_tool_policy())

    with_tool = run_turn(
        graph, [], "what is 17 * 23?", member()
    )  # two model calls: the tool call, the answer
    again = run_turn(graph, [], "what is 17 * 23?", member())
    plain = run_turn(graph, [], "hello", member())  # one model call

    assert with_tool.usage == again.usage
    assert with_tool.usage.input_tokens > plain.usage.input_tokens > 0
    assert with_tool.usage.output_tokens > 0 and plain.usage.output_tokens > 0


def test_a_turn_stops_at_its_token_budget_and_says_so(tools: list[BaseTool]) -> None:
    # Given a turn whose quota reservation is smaller than what its first model call costs
    graph = build_graph(OfflineChatModel(), tools, load_tool_policy())
    turn = Turn(principal=Actor(id="user-1"), session_id="s" * 40, token_budget=1)

    # When the question needs a tool and a second model call to answer
    result = run_turn(graph, [], "what is 17 * 23?", turn)

    # Then the tool ran, but no model call was made past the budget: the user reads why it stopped
    assert [(call.name, call.decision.value) for call in result.tool_calls] == [("calculator", "allow")]
    assert "used its budget of 1 model tokens" in result.response
    assert result.stopped == "token_budget"
    assert turn.spent == result.usage.total > 0


def test_the_runtime_takes_the_reservation_the_chat_lambda_sends() -> None:
    service = AgentService(AgentSettings.model_validate({"MODEL_PROVIDER": "offline"}))
    invocation = AgentInvocation(prompt="what is 17 * 23?", actor=Actor(id="user-1"), token_budget=1)

    answer = service.invoke(invocation, "s" * 40)

    assert "used its budget of 1 model tokens" in answer.response
