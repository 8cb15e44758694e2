"""Invoke the agent on AgentCore Runtime with IAM (SigV4): the only way the Lambda reaches it.

Retries are ours, not botocore's: a throttled or unreachable runtime is retried a bounded number
of times, but a read timeout never is, because the agent may still be working on that turn. Every
attempt together ends by one total deadline: a retry starts only if a whole attempt (connect + read)
still fits before it, because a 5xx can arrive after nearly a full read timeout. The deadline sits
below the Lambda timeout, so the Lambda always answers (504 or 502 with a body) before it is killed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from agentarch.core.streaming import ERROR, EVENT_STREAM, REPLY, parse_sse
from agentarch.services.chat import AgentTimeout, AgentUnavailable

__all__ = ["AgentRuntimeClient", "AgentTimeout", "AgentUnavailable", "RuntimeTarget"]

RETRYABLE_CODES = frozenset({"ThrottlingException", "ServiceUnavailableException", "InternalServerException"})


@dataclass(frozen=True)
class RuntimeTarget:
    """Which runtime to call and how patiently."""

    runtime_arn: str
    qualifier: str
    region: str | None
    endpoint_url: str | None
    connect_timeout_seconds: float
    read_timeout_seconds: float
    max_attempts: int
    # Every attempt together ends by this many seconds; None bounds them by max_attempts only (the
    # chat Lambda always sets it, below its own timeout).
    total_timeout_seconds: float | None = None

    @property
    def attempt_seconds(self) -> float:
        """The longest one attempt can take: connect, then wait for the answer."""
        return self.connect_timeout_seconds + self.read_timeout_seconds

    @property
    def deadline_seconds(self) -> float:
        """The longest all attempts together may take."""
        if self.total_timeout_seconds is None:
            return float("inf")
        return self.total_timeout_seconds


class AgentRuntimeClient:
    """A thin wrapper over boto3's `bedrock-agentcore` `invoke_agent_runtime`."""

    def __init__(
        self,
        target: RuntimeTarget,
        client: Any | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if target.deadline_seconds < target.attempt_seconds:
            raise ValueError("the total deadline must leave room for one whole attempt (connect + read)")
        self._target = target
        self._clock = clock
        self._sleep = sleep
        self._client = client or boto3.client(
            "bedrock-agentcore",
            region_name=target.region or _region_from_arn(target.runtime_arn),
            endpoint_url=target.endpoint_url,
            config=Config(
                connect_timeout=target.connect_timeout_seconds,
                read_timeout=target.read_timeout_seconds,
                retries={"total_max_attempts": 1},
            ),
        )

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Send one JSON payload to the runtime and return its JSON answer."""
        return _json_reply(self._call(payload, session_id, "application/json").read())

    def stream(
        self,
        payload: dict[str, Any],
        session_id: str,
        on_event: Callable[[dict[str, Any]], None],
        seconds_left: Callable[[], float],
    ) -> dict[str, Any]:
        """Ask the runtime for an event stream: hand each event to `on_event` as it arrives and return
        the agent's whole reply (its last event). The stream is read as it comes: nothing waits for
        the end. It stops with `AgentTimeout` when `seconds_left` says the caller's own deadline is
        near (a stream is not bounded by the read timeout, which counts the time between bytes)."""
        body = self._call({**payload, "stream": True}, session_id, EVENT_STREAM)
        try:
            if not _is_event_stream(body):
                return _json_reply(body.read())
            for event in parse_sse(_lines(body)):
                kind = event.get("type")
                if kind == REPLY and isinstance(event.get("reply"), dict):
                    reply: dict[str, Any] = event["reply"]
                    return reply
                if kind == ERROR:
                    raise AgentUnavailable("the agent failed while answering")
                if seconds_left() <= 0:
                    raise AgentTimeout("the stream outlived the deadline")
                on_event(event)
        except ReadTimeoutError:
            raise AgentTimeout(f"no event within {self._target.read_timeout_seconds:g} s") from None
        except (ConnectionClosedError, ValueError):
            raise AgentUnavailable("the agent's stream broke off") from None
        finally:
            body.close()  # a stream left early (the cap, a deadline) is closed, not drained
        raise AgentUnavailable("the agent's stream ended without a reply")

    def _call(self, payload: dict[str, Any], session_id: str, accept: str) -> Any:
        """One invocation with the bounded retries; the answer's body, not yet read."""
        body = json.dumps(payload).encode("utf-8")
        deadline = self._clock() + self._target.deadline_seconds
        for attempt in range(1, self._target.max_attempts + 1):
            try:
                answer = self._client.invoke_agent_runtime(
                    agentRuntimeArn=self._target.runtime_arn,
                    qualifier=self._target.qualifier,
                    runtimeSessionId=session_id,
                    contentType="application/json",
                    accept=accept,
                    payload=body,
                )
                break
            except ReadTimeoutError:
                raise AgentTimeout(f"no answer within {self._target.read_timeout_seconds:g} s") from None
            except (ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError):
                reason = "the agent runtime could not be reached"
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "Unknown")
                reason = f"the agent runtime answered {code}"
                if code not in RETRYABLE_CODES:
                    raise AgentUnavailable(reason) from None
            if attempt == self._target.max_attempts:
                raise AgentUnavailable(reason)
            pause = min(0.2 * 2 ** (attempt - 1), 1.0)
            if self._clock() + pause + self._target.attempt_seconds > deadline:
                raise AgentUnavailable(reason)  # another whole attempt would outlive the deadline
            (self._sleep or time.sleep)(pause)
        return _Body(answer["response"], answer.get("contentType", ""))


class _Body:
    """The runtime's answer body with the content type it came with."""

    def __init__(self, stream: Any, content_type: str) -> None:
        self.stream = stream
        self.content_type = content_type

    def read(self) -> bytes:
        raw: bytes = self.stream.read()
        return raw

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


def _is_event_stream(body: Any) -> bool:
    return str(getattr(body, "content_type", "")).lower().startswith(EVENT_STREAM)


def _lines(body: Any) -> Iterator[bytes]:
    """The body's lines as they arrive. botocore's `iter_lines` reads fixed 1 KiB chunks, which waits
    for a whole KiB of small events; urllib3's `read1` hands over whatever has arrived."""
    raw = getattr(body.stream, "_raw_stream", None)
    read = getattr(raw, "read1", None) or body.stream.read
    pending = b""
    while True:
        chunk = read(65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


def _json_reply(raw: bytes) -> dict[str, Any]:
    try:
        reply = json.loads(raw)
    except ValueError:
        raise AgentUnavailable("the agent answered something that is not JSON") from None
    if not isinstance(reply, dict):
        raise AgentUnavailable("the agent answered an unexpected document")
    return reply


def _region_from_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None
