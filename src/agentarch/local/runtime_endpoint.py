"""The local AgentCore Runtime data plane: `POST /runtimes/{arn}/invocations`, as boto3 calls it.

In IAM mode (patterns 2 and 3) every request must carry a valid SigV4 signature made with the
local stack's own credentials; anything else — a user's bearer token, no auth, a bad signature —
is refused with 403, as AgentCore refuses it. In JWT mode (patterns 0 and 1) it accepts the
user's access token, which is exactly the gap those patterns demonstrate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentarch.local.identity import AccessTokenVerifier, TokenRejected
from agentarch.local.sigv4 import SignatureRejected, SigV4Verifier

SESSION_HEADER = "x-amzn-bedrock-agentcore-runtime-session-id"
AGENT_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class RuntimeEndpointSpec:
    """Everything the endpoint process needs, written by `agentarch dev` as JSON."""

    mode: Literal["iam", "jwt"]
    runtime_arn: str
    agent_url: str
    region: str
    access_key_id: str = ""
    secret_access_key: str = ""
    jwks_url: str = ""
    issuer: str = ""
    client_id: str = ""
    cors_origins: tuple[str, ...] = ()


def _aws_error(status: int, error_type: str, message: str, origin: str | None = None) -> JSONResponse:
    headers = {"x-amzn-ErrorType": error_type}
    if origin:
        headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def build_app(spec: RuntimeEndpointSpec) -> Starlette:
    """The endpoint as an ASGI app (tests may mount it directly)."""
    sigv4 = SigV4Verifier(spec.access_key_id, spec.secret_access_key, spec.region, "bedrock-agentcore")
    bearer = (
        AccessTokenVerifier(spec.jwks_url, spec.issuer, spec.client_id, required_scope=None)
        if spec.mode == "jwt"
        else None
    )
    agent = httpx.AsyncClient(timeout=AGENT_TIMEOUT_SECONDS)

    def cors_origin(request: Request) -> str | None:
        origin = request.headers.get("origin")
        return origin if origin and origin in spec.cors_origins else None

    async def preflight(request: Request) -> Response:
        origin = cors_origin(request)
        if spec.mode != "jwt" or origin is None:
            return _aws_error(403, "AccessDeniedException", "CORS is not enabled for this origin")
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": f"Authorization, Content-Type, {SESSION_HEADER}",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )

    async def invocations(request: Request) -> Response:
        origin = cors_origin(request)
        raw_path = request.scope.get("raw_path", b"").decode("latin-1")
        arn = unquote(request.path_params["arn"])
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            if spec.mode == "iam":
                query = request.url.query
                url = f"{request.url.scheme}://{headers.get('host', '')}{raw_path}" + (
                    f"?{query}" if query else ""
                )
                sigv4.verify(request.method, url, headers, body)
            else:
                assert bearer is not None
                bearer.verify(headers.get("authorization"))
        except (SignatureRejected, TokenRejected) as exc:
            return _aws_error(403, "AccessDeniedException", f"access denied: {exc}", origin)
        if arn != spec.runtime_arn:
            return _aws_error(404, "ResourceNotFoundException", "no such agent runtime", origin)
        session_id = headers.get(SESSION_HEADER, "")
        if not 33 <= len(session_id) <= 256:
            return _aws_error(
                400, "ValidationException", "runtimeSessionId must be 33 to 256 characters", origin
            )
        try:
            answer = await agent.post(
                spec.agent_url,
                content=body,
                headers={"Content-Type": "application/json", SESSION_HEADER: session_id},
            )
        except httpx.TimeoutException:
            return _aws_error(504, "RuntimeTimeoutException", "the agent did not answer in time", origin)
        except httpx.HTTPError:
            return _aws_error(424, "RuntimeClientError", "the agent runtime is not reachable", origin)
        if answer.status_code >= 400:
            return _aws_error(
                424, "RuntimeClientError", f"the agent answered HTTP {answer.status_code}", origin
            )
        out_headers = {
            "Content-Type": answer.headers.get("content-type", "application/json"),
            SESSION_HEADER: session_id,
        }
        if origin:
            out_headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
        return Response(answer.content, status_code=200, headers=out_headers)

    async def ping(request: Request) -> Response:
        return JSONResponse({"status": "Healthy", "mode": spec.mode})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await agent.aclose()

    return Starlette(
        routes=[
            Route("/runtimes/{arn:path}/invocations", invocations, methods=["POST"]),
            Route("/runtimes/{arn:path}/invocations", preflight, methods=["OPTIONS"]),
            Route("/ping", ping, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the endpoint from a spec file: `python -m agentarch.local.runtime_endpoint SPEC PORT`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("spec", type=Path)
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    raw = json.loads(args.spec.read_text())
    spec = RuntimeEndpointSpec(**{**raw, "cors_origins": tuple(raw.get("cors_origins", ()))})
    uvicorn.run(build_app(spec), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
