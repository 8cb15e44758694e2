"""Invoke the agent on AgentCore Runtime with IAM (SigV4): the only way the Lambda reaches it.

Retries are ours, not botocore's: a throttled or unreachable runtime is retried a bounded number
of times, but a read timeout never is, because the agent may still be working on that turn.
"""

from __future__ import annotations

import json
import time
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


class AgentRuntimeClient:
    """A thin wrapper over boto3's `bedrock-agentcore` `invoke_agent_runtime`."""

    def __init__(self, target: RuntimeTarget, client: Any | None = None) -> None:
        self._target = target
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
        body = json.dumps(payload).encode("utf-8")
        for attempt in range(1, self._target.max_attempts + 1):
            try:
                answer = self._client.invoke_agent_runtime(
                    agentRuntimeArn=self._target.runtime_arn,
                    qualifier=self._target.qualifier,
                    runtimeSessionId=session_id,
                    contentType="application/json",
                    accept="application/json",
                    payload=body,
                )
                raw = answer["response"].read()
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
            time.sleep(min(0.2 * 2 ** (attempt - 1), 1.0))
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
