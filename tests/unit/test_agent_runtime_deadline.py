"""The agent client's attempts all end by one total deadline, below the Lambda timeout."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from agentarch.adapters.agent_runtime import AgentRuntimeClient, AgentTimeout, AgentUnavailable, RuntimeTarget

ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-abcdefghij"
SESSION = "s" * 40


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class ScriptedRuntime:
    """Answers each call with the next scripted outcome, after the scripted number of seconds."""

    def __init__(self, clock: FakeClock, outcomes: list[tuple[float, Any]]) -> None:
        self.clock = clock
        self.outcomes = outcomes
        self.calls = 0

    def invoke_agent_runtime(self, **_: Any) -> dict[str, Any]:
        seconds, outcome = self.outcomes[self.calls]
        self.calls += 1
        self.clock.now += seconds
        if isinstance(outcome, Exception):
            raise outcome
        return {"response": io.BytesIO(json.dumps(outcome).encode())}


def server_error() -> ClientError:
    return ClientError(
        {"Error": {"Code": "InternalServerException", "Message": "boom"}}, "InvokeAgentRuntime"
    )


def target(**changes: Any) -> RuntimeTarget:
    values: dict[str, Any] = {
        "runtime_arn": ARN,
        "qualifier": "DEFAULT",
        "region": "us-east-1",
        "endpoint_url": None,
        "connect_timeout_seconds": 3.0,
        "read_timeout_seconds": 20.0,
        "max_attempts": 2,
        "total_timeout_seconds": 25.0,
    }
    values.update(changes)
    return RuntimeTarget(**values)


def client_for(
    outcomes: list[tuple[float, Any]], **changes: Any
) -> tuple[AgentRuntimeClient, ScriptedRuntime, FakeClock]:
    clock = FakeClock()
    runtime = ScriptedRuntime(clock, outcomes)
    return AgentRuntimeClient(target(**changes), runtime, clock=clock, sleep=clock.sleep), runtime, clock


def test_a_5xx_after_a_long_wait_is_not_retried_past_the_deadline() -> None:
    # Given the runtime answers 500 after 19 s (almost a whole read timeout)
    client, runtime, clock = client_for([(19.0, server_error()), (19.0, {"answer": "late"})])
    # When the chat Lambda asks
    with pytest.raises(AgentUnavailable):
        client.invoke({"prompt": "hi"}, SESSION)
    # Then no second attempt starts: 19 + 23 would outlive the 25 s deadline (and a 28 s Lambda)
    assert runtime.calls == 1
    assert clock.now <= 25.0


def test_a_fast_failure_is_retried_within_the_deadline() -> None:
    client, runtime, clock = client_for(
        [(0.5, EndpointConnectionError(endpoint_url="x")), (2.0, {"ok": True})]
    )
    assert client.invoke({"prompt": "hi"}, SESSION) == {"ok": True}
    assert runtime.calls == 2
    assert clock.now <= 25.0


@pytest.mark.parametrize("first_failure_after", [0.0, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0, 19.9, 22.9])
def test_every_attempt_together_ends_by_the_deadline(first_failure_after: float) -> None:
    # Whatever the first failure costs, the worst case of what follows still ends by the deadline.
    client, _, clock = client_for(
        [(first_failure_after, server_error()), (23.0, server_error()), (23.0, server_error())],
        max_attempts=3,
    )
    with pytest.raises(AgentUnavailable):
        client.invoke({"prompt": "hi"}, SESSION)
    assert clock.now <= 25.0


def test_a_read_timeout_is_never_retried() -> None:
    client, runtime, _ = client_for(
        [(20.0, ReadTimeoutError(endpoint_url="x")), (1.0, {"ok": True})], total_timeout_seconds=60.0
    )
    with pytest.raises(AgentTimeout):
        client.invoke({"prompt": "hi"}, SESSION)
    assert runtime.calls == 1


def test_without_a_total_deadline_attempts_are_bounded_by_their_number_only() -> None:
    client, runtime, _ = client_for([(5.0, server_error()), (1.0, {"ok": True})], total_timeout_seconds=None)
    assert client.invoke({"prompt": "hi"}, SESSION) == {"ok": True}
    assert runtime.calls == 2


def test_a_deadline_shorter_than_one_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="one whole attempt"):
        AgentRuntimeClient(target(total_timeout_seconds=10.0), object())


def test_settings_refuse_a_deadline_shorter_than_one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentarch.config import ChatSettings, SettingsError, load

    monkeypatch.setenv("AGENT_RUNTIME_ARN", ARN)
    monkeypatch.setenv("AGENT_TOTAL_TIMEOUT_SECONDS", "10")
    with pytest.raises(SettingsError, match="AGENT_TOTAL_TIMEOUT_SECONDS must be at least"):
        load(ChatSettings)


def test_an_unset_deadline_stretches_to_one_attempt_of_a_long_read_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agentarch.config import ChatSettings, load

    monkeypatch.setenv("AGENT_RUNTIME_ARN", ARN)
    monkeypatch.setenv("AGENT_READ_TIMEOUT_SECONDS", "60")
    monkeypatch.delenv("AGENT_TOTAL_TIMEOUT_SECONDS", raising=False)
    assert load(ChatSettings).agent_total_timeout_seconds == 63.0
