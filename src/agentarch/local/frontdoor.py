"""The local front door: API Gateway REST + WAF emulated on one loopback port.

In order, like the real thing: WAF per-IP rate limit (429) and body-size rule (413), preflight
OPTIONS answered without the authorizer, the Cognito authorizer (401 unless a valid access token
with the API scope), then the integration — an API Gateway REST proxy event for the **same handler
code** the Lambda runs (patterns 2/3), or the user's JWT forwarded to the runtime (pattern 1).
Gateway-made errors carry CORS headers and the project's error shape. The same port serves the
web page, the local identity issuer and `GET /local/config`.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agentarch.local.identity import JWKS_PATH, AccessTokenVerifier, LocalIdentity, LoginFailed, TokenRejected

INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway's default integration timeout
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


@dataclass(frozen=True)
class LambdaRoute:
    """`METHOD /path/{param}` → the local Lambda host URL of the function behind it."""

    method: str
    resource: str
    invoke_url: str
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.resource))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


@dataclass(frozen=True)
class FrontDoorSpec:
    """How the front door is wired for one pattern."""

    pattern: int
    public_url: str
    runtime_url: str
    runtime_arn: str
    routes: tuple[LambdaRoute, ...]
    api_scope: str
    rate_limit: int
    rate_window_seconds: float
    max_body_bytes: int
    allowed_origins: tuple[str, ...]
    web_dir: Path


class RateLimiter:
    """Fixed-window request counts per client IP, like WAF's rate-based rule."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._window = window_seconds
        self._counts: dict[tuple[str, int], int] = defaultdict(int)

    def allow(self, ip: str) -> bool:
        """Count one request from `ip`; False once it is over the limit in this window."""
        window = int(time.monotonic() // self._window)
        if len(self._counts) > 10_000:
            self._counts = defaultdict(int, {k: v for k, v in self._counts.items() if k[1] == window})
        self._counts[(ip, window)] += 1
        return self._counts[(ip, window)] <= self._limit


def build_app(spec: FrontDoorSpec, identity: LocalIdentity) -> Starlette:
    """The front door as an ASGI app."""
    limiter = RateLimiter(spec.rate_limit, spec.rate_window_seconds)
    authorizer = AccessTokenVerifier(
        f"{spec.public_url}{JWKS_PATH}", identity.issuer, identity.client_id, required_scope=spec.api_scope
    )
    upstream = httpx.AsyncClient(timeout=INTEGRATION_TIMEOUT_SECONDS)
    api_url = f"{spec.public_url}/api" if spec.pattern != 0 else None

    def cors(request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if origin and (origin in spec.allowed_origins or "*" in spec.allowed_origins):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def gateway_error(request: Request, status: int, code: str, message: str) -> JSONResponse:
        body = {"error": {"code": code, "message": message, "request_id": request.state.request_id}}
        return JSONResponse(body, status_code=status, headers=cors(request))

    async def local_config(request: Request) -> Response:
        return JSONResponse(
            {
                "pattern": spec.pattern,
                "api_url": api_url,
                "runtime_url": spec.runtime_url,
                "runtime_arn": spec.runtime_arn,
                "insecure": spec.pattern in (0, 1),
                "auth": {
                    "mode": "local",
                    "login_url": f"{spec.public_url}/local-auth/login",
                    "issuer": identity.issuer,
                    "client_id": identity.client_id,
                },
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(identity.jwks())

    async def login(request: Request) -> Response:
        request.state.request_id = str(uuid.uuid4())
        try:
            body = json.loads(await request.body())
            username, password = body["username"], body["password"]
            if not isinstance(username, str) or not isinstance(password, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return gateway_error(request, 400, "bad_request", 'send {"username": "...", "password": "..."}')
        try:
            tokens = await run_in_threadpool(identity.login, username, password)
        except LoginFailed:
            return gateway_error(request, 401, "unauthorized", "wrong username or password")
        return JSONResponse(tokens, headers={"Cache-Control": "no-store"})

    async def api(request: Request) -> Response:
        request.state.request_id = str(uuid.uuid4())
        ip = request.client.host if request.client else "unknown"
        if not limiter.allow(ip):
            return gateway_error(
                request, 429, "rate_limited", "too many requests from your address; slow down"
            )
        if request.method == "OPTIONS":
            return preflight(request)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > spec.max_body_bytes:
            return gateway_error(
                request, 413, "payload_too_large", f"bodies over {spec.max_body_bytes} bytes"
            )
        body = await request.body()
        if len(body) > spec.max_body_bytes:
            return gateway_error(
                request, 413, "payload_too_large", f"bodies over {spec.max_body_bytes} bytes"
            )
        try:
            claims = await run_in_threadpool(authorizer.verify, request.headers.get("authorization"))
        except TokenRejected:
            return gateway_error(
                request, 401, "unauthorized", "sign in first: a valid access token is required"
            )
        if spec.pattern == 1:
            return await passthrough(request, body)
        return await to_lambda(request, body, claims, ip)

    def preflight(request: Request) -> Response:
        headers = cors(request)
        if headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
                    "Access-Control-Max-Age": "600",
                }
            )
        return Response(status_code=204, headers=headers)

    async def to_lambda(request: Request, body: bytes, claims: dict[str, Any], ip: str) -> Response:
        path = request.url.path
        for route in spec.routes:
            match = route.pattern.match(path)
            if match and route.method == request.method:
                break
        else:
            return gateway_error(request, 404, "not_found", "no such endpoint")
        event = proxy_event(request, route, match.groupdict(), body, claims, ip)
        try:
            answer = await upstream.post(route.invoke_url, json=event)
        except httpx.TimeoutException:
            return gateway_error(request, 504, "integration_timeout", "the backend did not answer in time")
        except httpx.HTTPError:
            return gateway_error(request, 502, "bad_gateway", "the backend is not reachable")
        if answer.status_code != 200 or answer.headers.get("x-amz-function-error"):
            return gateway_error(request, 502, "internal_error", "the backend failed")
        result = answer.json()
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        return Response(
            content=(result.get("body") or "").encode("utf-8"),
            status_code=int(result.get("statusCode", 502)),
            headers=headers,
        )

    async def passthrough(request: Request, body: bytes) -> Response:
        # Pattern 1: the integration maps {message, session_id} to the runtime payload and forwards
        # the user's own JWT. The runtime must trust that JWT — so it trusts it from anyone.
        if request.url.path != "/api/chat" or request.method != "POST":
            return gateway_error(request, 404, "not_found", "no such endpoint")
        try:
            data = json.loads(body)
            message = data["message"]
            session_id = data.get("session_id") or "s" + secrets.token_hex(24)
        except (ValueError, KeyError, TypeError, AttributeError):
            return gateway_error(request, 400, "malformed_json", "the request body is not valid JSON")
        try:
            answer = await upstream.post(
                f"{spec.runtime_url}/runtimes/{quote(spec.runtime_arn, safe='')}/invocations",
                json={"prompt": message, "session_id": session_id},
                headers={
                    "Authorization": request.headers.get("authorization", ""),
                    SESSION_HEADER: session_id,
                },
            )
        except httpx.TimeoutException:
            return gateway_error(request, 504, "integration_timeout", "the agent did not answer in time")
        except httpx.HTTPError:
            return gateway_error(request, 502, "bad_gateway", "the agent runtime is not reachable")
        if answer.status_code != 200:
            return gateway_error(request, 502, "agent_error", "the agent could not answer")
        return Response(answer.content, headers={"Content-Type": "application/json", **cors(request)})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "pattern": spec.pattern})

    routes = [
        Route("/local/config", local_config, methods=["GET"]),
        Route("/local/health", health, methods=["GET"]),
        Route(JWKS_PATH, jwks, methods=["GET"]),
        Route("/local-auth/login", login, methods=["POST"]),
        Route("/api/{rest:path}", api, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        Mount("/", app=StaticFiles(directory=spec.web_dir, html=True)),
    ]
    return Starlette(routes=routes)


def proxy_event(
    request: Request, route: LambdaRoute, params: dict[str, str], body: bytes, claims: dict[str, Any], ip: str
) -> dict[str, Any]:
    """The API Gateway REST proxy event API Gateway would send for this request."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = defaultdict(list)
    for name, value in request.headers.items():
        headers[name] = value
        multi_headers[name].append(value)
    query = dict(request.query_params)
    multi_query: dict[str, list[str]] = defaultdict(list)
    for name, value in request.query_params.multi_items():
        multi_query[name].append(value)
    # The REST Cognito authorizer hands claims to the integration as strings.
    string_claims = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in claims.items()}
    return {
        "resource": route.resource,
        "path": request.url.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": dict(multi_headers),
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": dict(multi_query) or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "path": f"/local{request.url.path}",
            "stage": "local",
            "protocol": "HTTP/1.1",
            "requestId": request.state.request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": ip, "userAgent": request.headers.get("user-agent", "")},
            "authorizer": {"claims": string_claims},
            "domainName": request.url.hostname,
        },
        "body": body.decode("utf-8") if body else None,
        "isBase64Encoded": False,
    }
