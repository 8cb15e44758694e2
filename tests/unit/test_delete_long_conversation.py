"""Deleting a 1,000-turn conversation finishes inside the conversations Lambda's timeout."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from agentarch.adapters.aws_memory import AgentCoreMemoryEvents
from agentarch.config import DEFAULT_DELETE_DEADLINE_SECONDS
from agentarch.services.memory import DeleteIncomplete

ACTOR, SESSION = "actor-1", "s" * 40
ROUND_TRIP_SECONDS = 0.02  # a fast AgentCore data-plane call; real ones are 20-60 ms


class SlowMemory:
    """ListEvents newest first in pages of 100, DeleteEvent taking one round trip each."""

    def __init__(self, events: int, latency: float = ROUND_TRIP_SECONDS) -> None:
        self.events = {f"e{i:05d}" for i in range(events)}
        self.latency = latency
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0

    def list_events(self, **request: Any) -> dict[str, Any]:
        time.sleep(self.latency)
        ordered = sorted(self.events, reverse=True)
        start = int(request.get("nextToken", "0"))
        page = ordered[start : start + request["maxResults"]]
        answer: dict[str, Any] = {"events": [{"eventId": e} for e in page]}
        if start + len(page) < len(ordered):
            answer["nextToken"] = str(start + len(page))
        return answer

    def delete_event(self, **request: Any) -> None:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.latency)
        with self.lock:
            self.in_flight -= 1
            self.events.discard(request["eventId"])


def test_a_1000_turn_conversation_is_deleted_well_within_the_default_deadline() -> None:
    # Given a conversation of 1,000 turns (one event each)
    memory = SlowMemory(1000)
    adapter = AgentCoreMemoryEvents(
        "mem", client=memory, delete_deadline_seconds=DEFAULT_DELETE_DEADLINE_SECONDS
    )
    # When it is deleted
    started = time.monotonic()
    adapter.delete_session(ACTOR, SESSION)
    elapsed = time.monotonic() - started
    # Then every event is gone, with calls in parallel, long before even a 10 s Lambda's deadline
    assert memory.events == set()
    assert memory.most_in_flight > 1
    sequential = 1000 * ROUND_TRIP_SECONDS
    assert elapsed < sequential / 4
    assert elapsed < DEFAULT_DELETE_DEADLINE_SECONDS / 2


def test_a_delete_that_runs_out_of_time_stops_and_a_retry_finishes_it() -> None:
    memory = SlowMemory(400, latency=0.01)
    hurried = AgentCoreMemoryEvents("mem", client=memory, delete_deadline_seconds=0.05, delete_workers=2)
    with pytest.raises(DeleteIncomplete):
        hurried.delete_session(ACTOR, SESSION)
    left = len(memory.events)
    assert 0 < left < 400, "it made progress and stopped at the deadline"
    AgentCoreMemoryEvents("mem", client=memory, delete_deadline_seconds=10).delete_session(ACTOR, SESSION)
    assert memory.events == set()


def test_the_terraform_default_leaves_room_for_the_delete() -> None:
    # the conversations Lambda's timeout defaults to 28 and DELETE_DEADLINE_SECONDS to it minus 3
    from agentarch.dev.lint.hcl import plain
    from tests.terraform.conftest import module_dir

    default = plain(module_dir("timeout_chain").variables["conversations_lambda_seconds"].body)["default"]
    assert default - 3 >= DEFAULT_DELETE_DEADLINE_SECONDS
