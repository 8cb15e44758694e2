"""The local front door: API Gateway REST + WAF emulated on one loopback port.

In order, like the real thing: WAF per-IP rate limit (429) and body-size rule (413), preflight
OPTIONS answered without the authorizer, the Cognito authorizer (401 unless a valid access token
with the API scope), then the integration — an API Gateway REST proxy event for the **same handler
code** the Lambda runs (patterns 2/3), or the user's JWT forwarded to the runtime (pattern 1).
The client's address is the TCP peer: forwarding headers sent by a client never decide it.
Every answer the gateway makes itself — and every 404 on this port — carries the project's
error shape (and CORS headers on the API). The same port serves the web page, the local identity
issuer (with Cognito-like throttling of failed sign-ins) and `GET /local/config` / `/local/health`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from agentarch.adapters.cognito_tokens import AccessTokenVerifier, TokenRejected
from agentarch.core.errors import NO_SUCH_ENDPOINT, error_body
from agentarch.core.sessions import SESSION_HEADER, SESSION_ID_PATTERN, new_session_id
from agentarch.core.streaming import PRELUDE_DELIMITER, wants_stream
from agentarch.dev.lambda_events import LOCAL_ACCOUNT, rest_api_event
from agentarch.dev.local.identity import (
    JWKS_PATH,
    LocalIdentity,
    LoginFailed,
)
from agentarch.dev.local.request_body import BodyTooLarge, read_body

INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway's default integration timeout
STREAM_IDLE_SECONDS = 300.0  # a STREAM integration: 5 min without a byte ends it (regional endpoints)
STREAM_TIMEOUT_SECONDS = 900.0  # a STREAM integration's own timeout bounds the whole stream (≤ 15 min)
PRELUDE_MAX_BYTES = 64 * 1024
LOGIN_MAX_BODY_BYTES = 4096
USERNAME_MAX_CHARS, PASSWORD_MAX_CHARS = 128, 256  # Cognito's limits
HealthReport = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class LambdaRoute:
    """`METHOD /path/{param}` → the function behind it, reached over its Unix socket."""

    method: str
    resource: str
    function: str
    socket_path: str
    stream: bool = False  # the integration's response_transfer_mode is STREAM
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.resource))
        object.__setattr__(self, "pattern", re.compile(regex, re.DOTALL))

    @property
    def invoke_path(self) -> str:
        """The Lambda Invoke API path for the function (InvokeWithResponseStream for a STREAM route)."""
        if self.stream:
            return f"/2021-11-15/functions/{self.function}/response-streaming-invocations"
        return f"/2015-03-31/functions/{self.function}/invocations"


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
    integration_timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS
    stream_timeout_seconds: float = STREAM_TIMEOUT_SECONDS  # the front_door module's stream_timeout_ms


class RateLimiter:
    """Requests per client IP over a sliding window, like WAF's rate-based rule.

    The window slides: the previous fixed window's count is weighted by how much of it still lies
    inside the last `window_seconds` (O(1) per address). Plain fixed windows would let a burst that
    straddles a boundary through with twice the limit.
    """

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._window = window_seconds
        self._counts: dict[tuple[str, int], int] = defaultdict(int)

    def allow(self, ip: str) -> bool:
        """Count one request from `ip`; False once the last window holds more than the limit."""
        position = time.monotonic() / self._window
        window = int(position)
        if len(self._counts) > 10_000:
            self._counts = defaultdict(int, {k: v for k, v in self._counts.items() if k[1] >= window - 1})
        self._counts[(ip, window)] += 1
        earlier = self._counts.get((ip, window - 1), 0) * (1 - (position - window))
        return earlier + self._counts[(ip, window)] <= self._limit


class LoginThrottle:
    """Failed sign-ins slow down, as Cognito's do: per user (lockout doubling after a few
    failures, even for the right password) and per address (a budget of failures per window)."""

    FREE_FAILURES_PER_USER = 5
    MAX_LOCK_SECONDS = 900.0
    FAILURES_PER_IP = 20
    IP_WINDOW_SECONDS = 300.0
    TRACKED_USERS = 10_000

    def __init__(self) -> None:
        self._user_failures: dict[str, int] = defaultdict(int)
        self._locked_until: dict[str, float] = {}
        self._ip_failures = RateLimiter(self.FAILURES_PER_IP - 1, self.IP_WINDOW_SECONDS)  # the Nth blocks
        self._ip_blocked: dict[str, float] = {}

    def retry_after(self, ip: str, username: str) -> int:
        """Seconds to wait before this attempt may be tried, or 0."""
        now = time.monotonic()
        until = max(self._locked_until.get(username, 0.0), self._ip_blocked.get(ip, 0.0))
        return max(0, int(until - now + 0.999))

    def failed(self, ip: str, username: str) -> None:
        """Count a failed attempt against the user and the address."""
        now = time.monotonic()
        if len(self._user_failures) > self.TRACKED_USERS:  # forget users whose lock-out is over
            for name in [n for n in self._user_failures if self._locked_until.get(n, 0.0) <= now]:
                self._user_failures.pop(name, None)
                self._locked_until.pop(name, None)
        self._user_failures[username] += 1
        extra = self._user_failures[username] - self.FREE_FAILURES_PER_USER
        if extra >= 0:
            self._locked_until[username] = now + min(2.0**extra, self.MAX_LOCK_SECONDS)
        if not self._ip_failures.allow(ip):
            self._ip_blocked[ip] = now + self.IP_WINDOW_SECONDS

    def succeeded(self, username: str) -> None:
        """A correct sign-in resets the user's count."""
        self._user_failures.pop(username, None)
        self._locked_until.pop(username, None)


class FrontDoor:
    """The front door as an ASGI app: the gateway's guards on `/api`, the site on everything else."""

    def __init__(
        self, spec: FrontDoorSpec, identity: LocalIdentity, health_report: HealthReport | None = None
    ) -> None:
        self.spec = spec
        self.identity = identity
        self.health_report = health_report
        self.limiter = RateLimiter(spec.rate_limit, spec.rate_window_seconds)
        self.logins = LoginThrottle()
        self.authorizer = AccessTokenVerifier(
            f"{spec.public_url}{JWKS_PATH}",
            identity.issuer,
            identity.client_id,
            required_scope=spec.api_scope,
        )
        self.upstream = httpx.AsyncClient(timeout=spec.integration_timeout_seconds)
        self.functions = {
            route.function: httpx.AsyncClient(
                transport=httpx.AsyncHTTPTransport(uds=route.socket_path),
                base_url="http://lambda",
                timeout=spec.integration_timeout_seconds,
            )
            for route in spec.routes
        }
        # A STREAM integration is not bounded by the integration timeout but by its own (the stream
        # timeout, over the whole response: to_streaming_lambda) and by the stream's idle time.
        self.streams = {
            route.function: httpx.AsyncClient(
                transport=httpx.AsyncHTTPTransport(uds=route.socket_path),
                base_url="http://lambda",
                timeout=httpx.Timeout(STREAM_IDLE_SECONDS, connect=spec.integration_timeout_seconds),
            )
            for route in spec.routes
            if route.stream
        }
        self.api_url = f"{spec.public_url}/api" if spec.pattern != 0 else None
        self.runtime_id = spec.runtime_arn.rpartition("/")[2]
        self.account_id = spec.runtime_arn.split(":")[4]
        self.passthrough_route = (LambdaRoute("POST", "/api/chat", "runtime", ""),)
        self.site = Starlette(
            routes=[
                Route("/local/config", self.local_config, methods=["GET"]),
                Route("/local/health", self.health, methods=["GET"]),
                Route(JWKS_PATH, self.jwks, methods=["GET"]),
                Route("/local-auth/login", self.login, methods=["POST"]),
                Mount("/", app=StaticFiles(directory=spec.web_dir, html=True)),
            ],
            exception_handlers={HTTPException: self.http_error},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Everything under /api goes through the gateway's guards, whatever characters the path holds.
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/api" or path.startswith("/api/"):
            response = await self.api(Request(scope, receive))
            await response(scope, receive, send)
            return
        await self.site(scope, receive, send)

    def cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if origin and (origin in self.spec.allowed_origins or "*" in self.spec.allowed_origins):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def gateway_error(
        self, request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None) or str(uuid.uuid4())
        return JSONResponse(
            error_body(code, message, request_id),
            status_code=status,
            headers={**self.cors(request), **(headers or {})},
        )

    async def local_config(self, request: Request) -> Response:
        return JSONResponse(
            {
                "pattern": self.spec.pattern,
                "api_url": self.api_url,
                # as Terraform's `runtime_url` output: the full invocation URL, ready to POST to
                "runtime_url": f"{self.spec.runtime_url}/runtimes/{self.runtime_id}/invocations"
                f"?qualifier=DEFAULT&accountId={self.account_id}",
                "runtime_arn": self.spec.runtime_arn,
                "insecure": self.spec.pattern in (0, 1),
                "auth": {
                    "mode": "local",
                    "login_url": f"{self.spec.public_url}/local-auth/login",
                    "issuer": self.identity.issuer,
                    "client_id": self.identity.client_id,
                },
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self.identity.jwks())

    async def login(self, request: Request) -> Response:
        request.state.request_id = str(uuid.uuid4())
        ip = request.client.host if request.client else "unknown"
        try:
            body = json.loads(await read_body(request, LOGIN_MAX_BODY_BYTES))
            username, password = body["username"], body["password"]
            if not isinstance(username, str) or not isinstance(password, str):
                raise TypeError
            if not 0 < len(username) <= USERNAME_MAX_CHARS or len(password) > PASSWORD_MAX_CHARS:
                raise ValueError  # Cognito's limits; a long password would also cost scrypt time
            username.encode("utf-8"), password.encode("utf-8")  # a lone surrogate is no text: 400
        except BodyTooLarge:
            return self.gateway_error(
                request, 413, "payload_too_large", f"bodies over {LOGIN_MAX_BODY_BYTES} bytes"
            )
        except (ValueError, KeyError, TypeError, RecursionError):
            return self.gateway_error(
                request, 400, "bad_request", 'send {"username": "...", "password": "..."}'
            )
        wait = self.logins.retry_after(ip, username)
        if wait:
            return self.gateway_error(
                request,
                429,
                "too_many_attempts",
                "too many failed sign-ins; wait before trying again",
                {"Retry-After": str(wait)},
            )
        try:
            tokens = await run_in_threadpool(self.identity.login, username, password)
        except LoginFailed:
            self.logins.failed(ip, username)
            return self.gateway_error(request, 401, "unauthorized", "wrong username or password")
        self.logins.succeeded(username)
        return JSONResponse(tokens, headers={"Cache-Control": "no-store"})

    async def api(self, request: Request) -> Response:
        request.state.request_id = str(uuid.uuid4())
        ip = request.client.host if request.client else "unknown"
        if not self.limiter.allow(ip):
            return self.gateway_error(
                request, 429, "rate_limited", "too many requests from your address; slow down"
            )
        if request.method == "OPTIONS":
            return self.preflight(request)
        routes = self.passthrough_route if self.spec.pattern == 1 else self.spec.routes
        found = self.find_route(request, routes)
        if found is None:  # as API Gateway: MISSING_AUTHENTICATION_TOKEN, before any authorizer runs
            return self.gateway_error(request, 404, "not_found", NO_SUCH_ENDPOINT)
        try:
            body = await read_body(request, self.spec.max_body_bytes)
        except BodyTooLarge:
            return self.gateway_error(
                request, 413, "payload_too_large", f"bodies over {self.spec.max_body_bytes} bytes"
            )
        try:
            claims = await run_in_threadpool(self.authorizer.verify, request.headers.get("authorization"))
        except TokenRejected:
            return self.gateway_error(
                request, 401, "unauthorized", "sign in first: a valid access token is required"
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.gateway_error(request, 400, "malformed_json", "the request body is not UTF-8 JSON")
        if self.spec.pattern == 1:
            return await self.passthrough(request, text)
        return await self.to_lambda(request, found, text, claims, ip)

    def preflight(self, request: Request) -> Response:
        headers = self.cors(request)
        if headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
                    "Access-Control-Max-Age": "600",
                }
            )
        return Response(status_code=204, headers=headers)

    @staticmethod
    def find_route(
        request: Request, routes: tuple[LambdaRoute, ...]
    ) -> tuple[LambdaRoute, dict[str, str]] | None:
        """The route for this method and path, or None: API Gateway answers an undefined method on a
        known path exactly as it answers a path it does not know (404 here, as the gateway responses map it)."""
        for route in routes:
            match = route.pattern.fullmatch(request.url.path)
            if match and route.method == request.method:
                return route, match.groupdict()
        return None

    async def to_lambda(
        self,
        request: Request,
        found: tuple[LambdaRoute, dict[str, str]],
        body: str,
        claims: dict[str, Any],
        ip: str,
    ) -> Response:
        route, params = found
        event = proxy_event(request, route, params, body, claims, ip)
        if route.stream:
            return await self.to_streaming_lambda(request, route, event)
        try:
            answer = await self.functions[route.function].post(route.invoke_path, json=event)
        except httpx.TimeoutException:
            return self.gateway_error(
                request, 504, "integration_timeout", "the backend did not answer in time"
            )
        except httpx.HTTPError:
            return self.gateway_error(request, 502, "bad_gateway", "the backend is not reachable")
        if answer.status_code == 429:
            # A throttled Lambda (its 429) is API Gateway's INTEGRATION_FAILURE, which the front_door
            # module answers 503 with Retry-After (unmapped, AWS would answer a bare 500).
            return self.gateway_error(
                request,
                503,
                "service_unavailable",
                "the service is at its concurrency limit; retry shortly",
                {"Retry-After": "1"},
            )
        if answer.status_code != 200 or answer.headers.get("x-amz-function-error"):
            return self.gateway_error(request, 502, "internal_error", "the backend failed")
        result = answer.json()
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        return Response(
            content=(result.get("body") or "").encode("utf-8"),
            status_code=int(result.get("statusCode", 502)),
            headers=headers,
        )

    async def to_streaming_lambda(
        self, request: Request, route: LambdaRoute, event: dict[str, Any]
    ) -> Response:
        """A STREAM integration: the function's response stream, its prelude read for the status and
        headers, then every chunk passed on as it comes (nothing buffered, no content encoding).

        The route's stream timeout bounds the whole response, as a STREAM integration's timeout does
        in API Gateway: no prelude by then is a 504, a stream still running then is cut."""
        client = self.streams[route.function]
        deadline = asyncio.get_running_loop().time() + self.spec.stream_timeout_seconds
        try:
            async with asyncio.timeout_at(deadline):
                answer = await client.send(
                    client.build_request("POST", route.invoke_path, json=event), stream=True
                )
        except (TimeoutError, httpx.TimeoutException):
            return self.gateway_error(
                request, 504, "integration_timeout", "the backend did not answer in time"
            )
        except httpx.HTTPError:
            return self.gateway_error(request, 502, "bad_gateway", "the backend is not reachable")
        if answer.status_code != 200 or answer.headers.get("x-amz-function-error"):
            await answer.aclose()
            if answer.status_code == 429:
                return self.gateway_error(
                    request,
                    503,
                    "service_unavailable",
                    "the service is at its concurrency limit; retry shortly",
                    {"Retry-After": "1"},
                )
            return self.gateway_error(request, 502, "internal_error", "the backend failed")
        chunks = answer.aiter_raw()
        try:
            async with asyncio.timeout_at(deadline):
                prelude, rest = await self.read_prelude(chunks)
        except (TimeoutError, httpx.TimeoutException):
            await answer.aclose()
            return self.gateway_error(
                request, 504, "integration_timeout", "the backend did not answer in time"
            )
        except (StopAsyncIteration, ValueError, TypeError, AttributeError, httpx.HTTPError):
            await answer.aclose()
            return self.gateway_error(request, 502, "internal_error", "the backend failed")
        status, headers = prelude

        async def body() -> AsyncIterator[bytes]:
            try:
                if rest:
                    yield rest
                while True:
                    async with asyncio.timeout_at(deadline):  # around the read only, never the yield
                        chunk = await anext(chunks)
                    yield chunk
            except (StopAsyncIteration, TimeoutError, httpx.HTTPError):
                return  # the end, the stream timeout, or the function stopped: as API Gateway's ends
            finally:
                await answer.aclose()

        return StreamingResponse(body(), status_code=status, headers=headers)

    @staticmethod
    async def read_prelude(
        chunks: AsyncIterator[bytes],
    ) -> tuple[tuple[int, dict[str, str]], bytes]:
        """The status and headers a streaming function writes first, and the body bytes read with
        them; `ValueError` (or `StopAsyncIteration`) when there is no prelude."""
        head = b""
        while PRELUDE_DELIMITER not in head:
            if len(head) > PRELUDE_MAX_BYTES:
                raise ValueError("no prelude")
            head += await anext(chunks)
        prelude_raw, _, rest = head.partition(PRELUDE_DELIMITER)
        prelude = json.loads(prelude_raw)
        status = int(prelude.get("statusCode", 200))
        headers = {str(k): str(v) for k, v in (prelude.get("headers") or {}).items()}
        return (status, headers), rest

    async def passthrough(self, request: Request, body: str) -> Response:
        # Pattern 1: the integration maps {message, session_id} to the runtime payload and forwards
        # the user's own JWT. The runtime must trust that JWT — so it trusts it from anyone.
        try:
            data = json.loads(body)
            message = data["message"]
            if not isinstance(message, str) or not message:
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            return self.gateway_error(
                request, 400, "malformed_json", 'send {"message": "...", "session_id"?}'
            )
        session_id = data.get("session_id")
        if session_id is None:
            session_id = new_session_id()
        elif not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
            return self.gateway_error(
                request, 422, "validation_error", "session_id: is not a valid session id"
            )
        streamed = wants_stream(request.headers.get("accept"))
        try:
            answer = await self.upstream.send(
                self.upstream.build_request(
                    "POST",
                    f"{self.spec.runtime_url}/runtimes/{self.runtime_id}/invocations",
                    params={"qualifier": "DEFAULT", "accountId": self.account_id},
                    json={"prompt": message, **({"stream": True} if streamed else {})},
                    headers={
                        "Authorization": request.headers.get("authorization", ""),
                        SESSION_HEADER: session_id,
                    },
                ),
                stream=True,
            )
        except httpx.TimeoutException:
            return self.gateway_error(request, 504, "integration_timeout", "the agent did not answer in time")
        except httpx.HTTPError:
            return self.gateway_error(request, 502, "bad_gateway", "the agent runtime is not reachable")
        if answer.status_code != 200:
            await answer.aclose()
            if answer.status_code in (401, 403):
                return self.gateway_error(
                    request, 401, "unauthorized", "sign in again: the runtime refused the token"
                )
            return self.gateway_error(request, 502, "agent_error", "the agent could not answer")
        if streamed and answer.headers.get("content-type", "").startswith("text/event-stream"):

            async def relay() -> AsyncIterator[bytes]:
                try:
                    async for chunk in answer.aiter_raw():
                        yield chunk
                except httpx.HTTPError:
                    return
                finally:
                    await answer.aclose()

            return StreamingResponse(
                relay(),
                headers={
                    "Content-Type": "text/event-stream",
                    "Cache-Control": "no-cache",
                    **self.cors(request),
                },
            )
        try:
            content = await answer.aread()
        except httpx.HTTPError:
            return self.gateway_error(request, 504, "integration_timeout", "the agent did not answer in time")
        finally:
            await answer.aclose()
        return Response(content, headers={"Content-Type": "application/json", **self.cors(request)})

    async def health(self, request: Request) -> Response:
        report: dict[str, Any] = await self.health_report() if self.health_report else {"status": "ok"}
        report["pattern"] = self.spec.pattern
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")
        message = {404: "no such page", 405: "method not allowed"}.get(status, "the request is invalid")
        return JSONResponse(error_body(code, message, str(uuid.uuid4())), status_code=status)


def build_app(
    spec: FrontDoorSpec, identity: LocalIdentity, health_report: HealthReport | None = None
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The front door as an ASGI app."""
    return FrontDoor(spec, identity, health_report)


def proxy_event(
    request: Request, route: LambdaRoute, params: dict[str, str], body: str, claims: dict[str, Any], ip: str
) -> dict[str, Any]:
    """The API Gateway REST proxy event API Gateway would send for this request (the client's own
    forwarding headers replaced by the peer address)."""
    headers: dict[str, list[str]] = defaultdict(list)
    for name, value in request.headers.items():
        headers[name].append(value)
    query: dict[str, list[str]] = defaultdict(list)
    for name, value in request.query_params.multi_items():
        query[name].append(value)
    return rest_api_event(
        request.method,
        request.url.path,
        body=body,
        claims=claims,
        headers=headers,
        query=query,
        path_parameters=params,
        resource=route.resource,
        source_ip=ip,
        stage="local",
        request_id=request.state.request_id,
        account_id=LOCAL_ACCOUNT,
        api_id="local",
        domain_name=request.url.hostname,
    )
