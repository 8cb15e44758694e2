"""A cap the tool policy states holds under concurrency: "at most three tickets per conversation".

Two approved ticket calls of one conversation run at once, both having read the count as 2 (the
interleaving is injected: each waits for the other to have read before going on). The count is
taken at the moment a call runs, compare-and-set, so exactly one of them runs; the other is decided
again on the new count and denied by the policy. On both stores.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

from agentarch.agent.graph import SessionCalls, Turn, build_graph, run_turn
from agentarch.agent.offline_model import OfflineChatModel
from agentarch.agent.policy import load_tool_policy
from agentarch.agent.tools import WeatherService, build_tools
from agentarch.core.contracts import ApprovalGrant
from agentarch.core.decisions import Decision
from agentarch.core.identity import Actor
from agentarch.services.conversations import get_conversation, start_or_resume
from tests.contract.conftest import Storage

SUPPORTER = Actor(id="carol", groups=("users", "support"))
T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
TICKET = {"title": "printer on floor 3", "severity": "low", "body": "it is broken"}


class ReadTogether(SessionCalls):
    """Session counts whose first read in each turn waits until both turns have read."""

    barrier: Barrier

    def counts(self) -> dict[str, int]:
        seen = super().counts()
        if not getattr(self, "_waited", False):
            object.__setattr__(self, "_waited", True)
            self.barrier.wait(timeout=30)
        return seen


def test_two_approved_calls_racing_for_the_last_ticket_make_one(storage: Storage) -> None:
    # Given a conversation that already made two tickets, of a cap of three
    session = "s" + uuid.uuid4().hex + "z" * 8
    start_or_resume(storage.index, SUPPORTER.id, session, "tickets", T0)
    for seen in range(2):
        assert storage.index.count_call(SUPPORTER.id, session, "create_ticket", seen)
    graph = build_graph(
        OfflineChatModel(), build_tools(WeatherService("https://api.weather.gov", 1)), load_tool_policy()
    )
    barrier = Barrier(2)

    def approved_turn(number: int) -> Decision:
        calls = ReadTogether(storage.index, SUPPORTER.id, session)
        object.__setattr__(calls, "barrier", barrier)
        grant = ApprovalGrant(
            call_id=f"ap-{number}", tool="create_ticket", args=TICKET, decision=Decision.APPROVED
        )
        turn = Turn(
            principal=SUPPORTER, session_id=session, approval=grant, approvals_possible=True, calls=calls
        )
        result = run_turn(graph, [], "Approved create_ticket.", turn)
        return result.tool_calls[0].decision

    # When both run at once, each having read the count before either counted its call
    with ThreadPoolExecutor(max_workers=2) as pool:
        decisions = sorted(pool.map(approved_turn, range(2)))

    # Then one ran and one was denied by the cap, and the conversation counts three tickets
    assert decisions == sorted([Decision.APPROVED, Decision.DENY])
    assert get_conversation(storage.index, SUPPORTER.id, session).tool_counts == {"create_ticket": 3}


def test_a_count_taken_by_someone_else_meanwhile_is_refused(storage: Storage) -> None:
    session = "s" + uuid.uuid4().hex + "w" * 8
    start_or_resume(storage.index, SUPPORTER.id, session, "tickets", T0)

    assert storage.index.count_call(SUPPORTER.id, session, "create_ticket", 0)
    assert not storage.index.count_call(SUPPORTER.id, session, "create_ticket", 0)  # it is 1 now
    assert storage.index.count_call(SUPPORTER.id, session, "create_ticket", 1)
    assert get_conversation(storage.index, SUPPORTER.id, session).tool_counts == {"create_ticket": 2}
