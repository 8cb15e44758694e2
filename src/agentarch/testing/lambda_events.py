"""What AWS hands a Lambda behind the front door: an API Gateway REST proxy event, and a context."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CLAIMS: Mapping[str, Any] = {"sub": "user-123", "cognito:groups": ["users"]}


def rest_api_event(
    method: str,
    path: str,
    *,
    body: str | Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] = DEFAULT_CLAIMS,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str | list[str]] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    resource: str | None = None,
    source_ip: str = "203.0.113.7",
    stage: str = "test",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the Cognito-authorized front door sends it.

    `claims` are the verified token's claims; the REST authorizer hands them to the integration as
    strings, so a list (`cognito:groups`) becomes comma-separated text, as in AWS. Pass `{}` for a
    request with no identity. A mapping `body` is sent as JSON with `Content-Type: application/json`.
    `resource` is the route template (`/api/items/{item_id}`); it defaults to `path`. The request id
    (what an error answer's `request_id` carries) is random unless given.
    """
    all_headers = {"Authorization": "Bearer test-token", "X-Forwarded-For": source_ip}
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    query_lists = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    string_claims = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in claims.items()}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query_lists.items()} or None,
        "multiValueQueryStringParameters": query_lists or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "testapi",
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "protocol": "HTTP/1.1",
            "requestId": request_id or str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": "pytest"},
            "authorizer": {"claims": string_claims},
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class LambdaContextStub:
    """The Lambda context object a handler receives (what Powertools' decorators read)."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_time_in_millis: int = 28_000
    log_stream_name: str = "2026/01/01/[$LATEST]test"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_time_in_millis
