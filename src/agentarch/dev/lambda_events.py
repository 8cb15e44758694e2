"""What AWS hands a Lambda behind the front door: an API Gateway REST proxy event, and a context.

One builder for both users: the local front door turns each request into the event API Gateway
would send, and tests build the same event by hand (`agentarch.dev.testing.rest_api_event`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CLAIMS: Mapping[str, Any] = {"sub": "user-123", "cognito:groups": ["users"]}
TEST_ACCOUNT = "123456789012"  # what tests' events and contexts name
LOCAL_ACCOUNT = "000000000000"  # what the local stack's ARNs, events and contexts name
LOCAL_REGION = "us-east-1"


def rest_api_event(
    method: str,
    path: str,
    *,
    body: str | Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] = DEFAULT_CLAIMS,
    headers: Mapping[str, str | list[str]] | None = None,
    query: Mapping[str, str | list[str]] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    resource: str | None = None,
    source_ip: str = "203.0.113.7",
    stage: str = "test",
    request_id: str | None = None,
    account_id: str = TEST_ACCOUNT,
    api_id: str = "testapi",
    domain_name: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the Cognito-authorized front door sends it.

    `claims` are the verified token's claims; the REST authorizer hands them to the integration as
    strings, so a list (`cognito:groups`) becomes comma-separated text, as in AWS. Pass `{}` for a
    request with no identity. A mapping `body` is sent as JSON with `Content-Type: application/json`.
    A header or query value may be a list (several values: the single-value map keeps the last).
    `X-Forwarded-For` is the gateway's to set: any the caller passes is replaced by `source_ip`.
    `resource` is the route template (`/api/items/{item_id}`); it defaults to `path`. The request id
    (what an error answer's `request_id` carries) is random unless given.
    """
    multi_headers = {k: v if isinstance(v, list) else [v] for k, v in (headers or {}).items()}
    multi_headers = {k: v for k, v in multi_headers.items() if k.lower() not in _CLIENT_FORWARDING}
    if not any(name.lower() == "authorization" for name in multi_headers):
        multi_headers["Authorization"] = ["Bearer test-token"]
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
        if not any(name.lower() == "content-type" for name in multi_headers):
            multi_headers["Content-Type"] = ["application/json"]
    multi_headers["X-Forwarded-For"] = [source_ip]
    multi_query = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    string_claims = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in claims.items()}
    user_agent = next((v[-1] for k, v in multi_headers.items() if k.lower() == "user-agent"), "pytest")
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "resourcePath": resource or path,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "stage": stage,
        "protocol": "HTTP/1.1",
        "requestId": request_id or str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "authorizer": {"claims": string_claims},
    }
    if domain_name:
        context["domainName"] = domain_name
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {k: v[-1] for k, v in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": context,
        "body": body or None,
        "isBase64Encoded": False,
    }


_CLIENT_FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip")


@dataclass
class LocalLambdaContext:
    """The Lambda context object a handler receives (what handlers and Powertools' decorators read).

    Its clock runs from creation: `get_remaining_time_in_millis` counts down to the timeout.
    """

    function_name: str = "test-function"
    timeout_seconds: float = 28.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    account_id: str = TEST_ACCOUNT
    log_stream_name: str = "2026/01/01/[$LATEST]local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
