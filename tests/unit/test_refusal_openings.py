"""The authorizer's answers about calls that do not run open as `core.decisions` names them, so a
reader of spans (which carry no decisions) tells a denial, a pause and a rejection apart."""

from __future__ import annotations

from agentarch.agent.graph import Turn, build_graph, run_turn
from agentarch.agent.offline_model import OfflineChatModel
from agentarch.agent.policy import load_tool_policy
from agentarch.agent.tools import WeatherService, build_tools
from agentarch.core.contracts import ApprovalGrant
from agentarch.core.decisions import Decision, decision_of_refusal
from agentarch.core.identity import Actor

SESSION = "s" * 40


def decided(
    prompt: str, groups: tuple[str, ...], approval: ApprovalGrant | None = None
) -> list[tuple[Decision, Decision | None]]:
    graph = build_graph(
        OfflineChatModel(), build_tools(WeatherService("https://weather.invalid", 1)), load_tool_policy()
    )
    turn = Turn(
        principal=Actor(id="u1", groups=groups),
        session_id=SESSION,
        approvals_possible=True,
        approval=approval,
    )
    result = run_turn(graph, [], prompt, turn)
    return [(call.decision, decision_of_refusal(call.output)) for call in result.tool_calls]


def test_a_denial_a_pause_and_a_rejection_each_open_with_their_own_words() -> None:
    ticket = "open a ticket: the lift is stuck"
    grant = ApprovalGrant(call_id="c1", tool="create_ticket", args={"title": "x", "severity": "low", "body": "y"},
                          decision=Decision.REJECTED)  # fmt: skip

    assert decided("how is the weather in Denver?", ("users",)) == [(Decision.DENY, Decision.DENY)]
    assert decided(ticket, ("support",)) == [(Decision.PENDING_APPROVAL, Decision.PENDING_APPROVAL)]
    assert decided("Rejected create_ticket.", ("support",), grant) == [(Decision.REJECTED, Decision.REJECTED)]
    assert decided("what is 2 + 2?", ()) == [(Decision.ALLOW, None)]
