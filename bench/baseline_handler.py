"""The baseline: a boto3-only Lambda handler making the chat Lambda's call and nothing else.

No Powertools, no validation, no error mapping, no logs or metrics: it reads the message, invokes
the runtime with SigV4 (`bedrock-agentcore` `invoke_agent_runtime`, as the chat Lambda does) and
returns the answer. What the chat Lambda costs on top of this is what the architecture costs.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

import boto3
from botocore.config import Config

client = boto3.client(
    "bedrock-agentcore",
    endpoint_url=os.environ.get("AGENTCORE_ENDPOINT_URL"),
    config=Config(connect_timeout=3, read_timeout=20, retries={"total_max_attempts": 1}),
)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event["body"])
    actor = event["requestContext"]["authorizer"]["claims"]["sub"]
    session = body.get("session_id") or "s" + secrets.token_hex(24)
    answer = client.invoke_agent_runtime(
        agentRuntimeArn=os.environ["AGENT_RUNTIME_ARN"],
        runtimeSessionId=session,
        contentType="application/json",
        accept="application/json",
        payload=json.dumps({"prompt": body["message"], "actor": {"id": actor}}).encode(),
    )
    reply = json.loads(answer["response"].read())
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"session_id": session, **reply}),
    }
