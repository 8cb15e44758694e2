"""Tool policy at the tool-call boundary: what the default Cedar policy lets each user's agent do."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool

from agentarch.agent.graph import Turn, TurnResult, build_graph, run_turn
from agentarch.agent.offline_model import OfflineChatModel
from agentarch.agent.policy import DEFAULT_POLICY_DIR, CallHistory, PolicyError, decide, load_tool_policy
from agentarch.agent.tools import TicketService, WeatherService, build_tools
from agentarch.core.contracts import ApprovalGrant
from agentarch.core.decisions import Decision, PolicyMode
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteDatabase, SqliteTicketStore

SESSION = "s" * 40
POLICY = load_tool_policy()
TICKET_ARGS = {"title": "printer on floor 3 is broken", "severity": "medium", "body": "it jams"}


class ForecastCounter:
    """The weather API, answered locally; counts the requests the tool's code made."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if "/points/" in request.url.path:
            return httpx.Response(200, json={"properties": {"forecast": "https://api.weather.gov/f"}})
        return httpx.Response(
            200, json={"properties": {"periods": [{"name": "Today", "shortForecast": "Sunny"}]}}
        )


class Scripted(BaseChatModel):
    """A model that asks for the given tool calls in one message, then answers 'done'; records what it was offered."""

    script: list[list[ToolCall]]
    offered: list[list[str]]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        self.offered.append([t.name for t in tools])
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        calls = self.script.pop(0) if self.script else []
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="done", tool_calls=calls))])


@pytest.fixture
def weather_api() -> ForecastCounter:
    return ForecastCounter()


@pytest.fixture
def tickets(tmp_path: Path) -> SqliteTicketStore:
    return SqliteTicketStore(SqliteDatabase(tmp_path / "local.sqlite3"))


@pytest.fixture
def tools(weather_api: ForecastCounter, tickets: SqliteTicketStore) -> list[BaseTool]:
    client = httpx.Client(transport=httpx.MockTransport(weather_api))
    return build_tools(WeatherService("https://api.weather.gov", 1, client), TicketService(tickets))


def turn(*groups: str, who: str = "user-1", **kwargs: Any) -> Turn:
    return Turn(principal=Actor(id=who, groups=groups), session_id=SESSION, approvals_possible=True, **kwargs)


def ask(
    tools: list[BaseTool], question: str, the_turn: Turn, model: BaseChatModel | None = None
) -> TurnResult:
    return run_turn(build_graph(model or OfflineChatModel(), tools, POLICY), [], question, the_turn)


def test_weather_outside_the_weather_group_is_denied_and_its_code_never_runs(
    tools: list[BaseTool], weather_api: ForecastCounter
) -> None:
    result = ask(tools, "what's the weather in Seattle?", turn("users"))

    assert [(c.name, c.decision, c.policies) for c in result.tool_calls] == [
        ("weather", Decision.DENY, ["default-deny"])
    ]
    assert "Not permitted" in result.response and "weather" in result.response
    assert weather_api.requests == 0


def test_a_member_of_the_weather_group_gets_the_forecast(
    tools: list[BaseTool], weather_api: ForecastCounter
) -> None:
    result = ask(tools, "what's the weather in Seattle?", turn("weather"))

    assert [(c.decision, c.policies) for c in result.tool_calls] == [
        (Decision.ALLOW, ["weather-for-the-weather-group"])
    ]
    assert "Sunny" in result.response and weather_api.requests == 2


def test_tools_an_actor_can_never_use_are_not_offered_to_the_model(tools: list[BaseTool]) -> None:
    outsider, supporter = Scripted(script=[], offered=[]), Scripted(script=[], offered=[])

    ask(tools, "hi", turn("users"), outsider)
    ask(tools, "hi", turn("support", "weather"), supporter)

    assert outsider.offered == [["current_time", "calculator", "search_tickets"]]
    assert supporter.offered == [
        ["current_time", "calculator", "weather", "create_ticket", "search_tickets", "comment_on_ticket"]
    ]


def test_the_fifth_tool_call_of_a_turn_is_denied(tools: list[BaseTool]) -> None:
    five = [ToolCall(name="calculator", args={"expression": f"{n} + {n}"}, id=f"c{n}") for n in range(5)]

    result = ask(tools, "add a lot", turn(), Scripted(script=[five], offered=[]))

    assert [c.decision for c in result.tool_calls] == [Decision.ALLOW] * 4 + [Decision.DENY]
    assert result.tool_calls[4].policies == ["at-most-four-tool-calls-per-turn"]
    assert result.tool_calls[3].output == "3 + 3 = 6" and "Not permitted" in result.tool_calls[4].output


def test_a_session_count_policy_flips_at_the_third_ticket() -> None:
    supporter = Actor(id="user-1", groups=("support",))

    def with_tickets(made: int) -> tuple[Decision, tuple[str, ...]]:
        history = CallHistory(session_calls={"create_ticket": made}, approved=True)
        decision, answer = decide(POLICY, supporter, "create_ticket", TICKET_ARGS, history)
        return decision, answer.policies

    assert with_tickets(2) == (Decision.APPROVED, ("tickets-for-the-support-group",))
    assert with_tickets(3) == (Decision.DENY, ("at-most-three-tickets-per-conversation",))


def test_a_time_of_day_policy_flips_at_the_hour(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "schema.cedarschema").write_text((DEFAULT_POLICY_DIR / "schema.cedarschema").read_text())
    (folder / "office-hours.cedar").write_text(
        '@id("weather-in-office-hours")\n'
        'permit (principal, action == Agentarch::Action::"weather", resource)\n'
        "when { context.history.now.hour >= 8 && context.history.now.hour < 18 };\n"
    )
    policy = load_tool_policy(folder)
    anyone = Actor(id="user-1")
    args = {"latitude": 47.6, "longitude": -122.3}

    def at(hour: int) -> Decision:
        history = CallHistory(now=datetime(2026, 11, 26, hour, 30, tzinfo=UTC))
        return decide(policy, anyone, "weather", args, history)[0]

    assert (at(7), at(8), at(17), at(18)) == (Decision.DENY, Decision.ALLOW, Decision.ALLOW, Decision.DENY)


def test_log_only_runs_the_denied_call_and_records_it(
    tools: list[BaseTool], weather_api: ForecastCounter
) -> None:
    result = ask(tools, "what's the weather in Seattle?", turn("users", mode=PolicyMode.LOG_ONLY))

    assert [c.decision for c in result.tool_calls] == [Decision.LOG_ONLY_DENY]
    assert "Sunny" in result.response and weather_api.requests == 2


def test_without_a_verified_identity_every_call_is_denied(tools: list[BaseTool]) -> None:
    nobody = Turn(principal=None, session_id=SESSION)

    result = ask(tools, "what is 17 * 23?", nobody)

    assert [c.decision for c in result.tool_calls] == [Decision.DENY]
    assert "391" not in result.response and "signed-in user" in result.response


def test_a_ticket_waits_for_approval_then_is_created_once(
    tools: list[BaseTool], tickets: SqliteTicketStore
) -> None:
    paused = ask(tools, "open a ticket: printer on floor 3 is broken", turn("support"))

    assert paused.pending_approval is not None
    assert paused.tool_calls[0].decision == Decision.PENDING_APPROVAL
    assert paused.tool_calls[0].policies == ["tickets-need-the-users-approval"]
    assert "approval" in paused.response

    pending = paused.pending_approval
    approval = ApprovalGrant(call_id="ap-123", tool=pending.tool, args=pending.args, decision="approved")
    first = ask(tools, "Approved.", turn("support", approval=approval))
    replayed = ask(tools, "Approved.", turn("support", approval=approval))

    assert [c.decision for c in first.tool_calls] == [Decision.APPROVED]
    assert "Created ticket ap-123" in first.response
    assert "Already created ticket ap-123" in replayed.response
    assert list(SqliteDatabaseRows(tickets)) == ["ap-123"]


def test_a_rejected_call_does_not_run(tools: list[BaseTool], tickets: SqliteTicketStore) -> None:
    rejection = ApprovalGrant(call_id="ap-9", tool="create_ticket", args=TICKET_ARGS, decision="rejected")

    result = ask(tools, "Rejected.", turn("support", approval=rejection))

    assert [c.decision for c in result.tool_calls] == [Decision.REJECTED]
    assert "rejected" in result.response and list(SqliteDatabaseRows(tickets)) == []


def test_an_approval_holds_only_for_the_arguments_the_user_saw(
    tools: list[BaseTool], tickets: SqliteTicketStore
) -> None:
    approval = ApprovalGrant(call_id="ap-1", tool="create_ticket", args=TICKET_ARGS, decision="approved")
    # After the approved call ran, the model asks again under the approval's id with other arguments.
    again = [ToolCall(name="create_ticket", args={**TICKET_ARGS, "severity": "high"}, id="ap-1")]

    result = run_turn(
        build_graph(Scripted(script=[again], offered=[]), tools, POLICY),
        [],
        "go",
        turn("support", approval=approval),
    )

    assert [c.decision for c in result.tool_calls] == [Decision.APPROVED, Decision.PENDING_APPROVAL]
    assert list(SqliteDatabaseRows(tickets)) == ["ap-1"]


def test_without_conversation_storage_a_ticket_is_denied(tools: list[BaseTool]) -> None:
    no_store = Turn(
        principal=Actor(id="user-1", groups=("support",)), session_id=SESSION, approvals_possible=False
    )

    result = ask(tools, "open a ticket: printer on floor 3 is broken", no_store)

    assert [c.decision for c in result.tool_calls] == [Decision.DENY]
    assert result.pending_approval is None and "conversation storage" in result.response


def SqliteDatabaseRows(store: SqliteTicketStore) -> Iterator[str]:
    with store._db.connect() as connection:  # the file the tool wrote
        yield from (row[0] for row in connection.execute("SELECT ticket_id FROM tickets ORDER BY ticket_id"))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '@id("ok")\npermit (principal, action, resource);\n\n'
            '@id("broken")\npermit (principal, action, resource) when { ; };\n',
            4,
            "unexpected token",
        ),
        (
            '// a comment\n@id("typo")\npermit (principal, action == Agentarch::Action::"wether", resource);\n',
            2,
            "wether",
        ),
    ],
    ids=["syntax error", "unknown tool"],
)
def test_an_invalid_policy_names_the_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    (tmp_path / "schema.cedarschema").write_text((DEFAULT_POLICY_DIR / "schema.cedarschema").read_text())
    (tmp_path / "mine.cedar").write_text(text)

    with pytest.raises(PolicyError) as raised:
        load_tool_policy(tmp_path)

    assert f"mine.cedar:{line}:" in str(raised.value) and message in str(raised.value)
