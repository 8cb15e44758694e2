"""The floor under the chat Lambda: the baseline's call inside Powertools, and nothing of agentarch.

Logger, Metrics and Tracer (botocore patched, as the chat Lambda does) and an `APIGatewayRestResolver`
with one route, no request validation and no pydantic model: what the libraries the chat Lambda is
built on cost a cold start before any code of ours runs. The gap between this and the baseline is
the part of the chat Lambda's cold start that no change in agentarch can remove.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from botocore.config import Config

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics(namespace="bench")
app = APIGatewayRestResolver()
client = boto3.client(
    "bedrock-agentcore",
    endpoint_url=os.environ.get("AGENTCORE_ENDPOINT_URL"),
    config=Config(connect_timeout=3, read_timeout=20, retries={"total_max_attempts": 1}),
)


@app.post("/api/chat")
def chat() -> dict[str, Any]:
    body = app.current_event.json_body
    actor = app.current_event.request_context.authorizer.claims["sub"]
    session = body.get("session_id") or "s" + secrets.token_hex(24)
    answer = client.invoke_agent_runtime(
        agentRuntimeArn=os.environ["AGENT_RUNTIME_ARN"],
        runtimeSessionId=session,
        contentType="application/json",
        accept="application/json",
        payload=json.dumps({"prompt": body["message"], "actor": {"id": actor}}).encode(),
    )
    return {"session_id": session, **json.loads(answer["response"].read())}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
