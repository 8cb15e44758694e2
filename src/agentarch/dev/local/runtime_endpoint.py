"""The local AgentCore Runtime data plane: `POST /runtimes/{arn}/invocations`, as boto3 calls it.

In IAM mode (patterns 2 and 3) every request must carry a valid SigV4 signature made with the
local stack's own credentials, over the body it carries; anything else — a user's bearer token, no
auth, a bad signature, a body that is not the one signed — is refused with 403, as AgentCore
refuses it. In JWT mode (patterns 0 and 1) it accepts the user's access token, which is exactly the
gap those patterns demonstrate. The runtime is named by its URL-encoded ARN (boto3) or by its id
with `accountId` in the query (the form API Gateway's HTTP integration must use).

Behind it, agent workers are execution environments (`agentarch.dev.local.environments`): each runs the
real agent app on a Unix socket and serves one turn at a time; more are started on demand up to a
cap, and a request waits for a free one. A worker that dies or hangs is thrown away and replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agentarch.adapters.cognito_tokens import AccessTokenVerifier, TokenRejected
from agentarch.core.errors import error_body
from agentarch.core.sessions import SESSION_HEADER, is_runtime_session_id
from agentarch.core.streaming import ERROR, EVENT_STREAM, sse
from agentarch.dev.local.environments import AtCapacity, EnvironmentPool, preexec
from agentarch.dev.local.request_body import BodyTooLarge, read_body
from agentarch.dev.local.sigv4 import SignatureRejected, SigV4Verifier

AGENT_TIMEOUT_SECONDS = 120.0
AGENT_START_TIMEOUT_SECONDS = 90.0
MAX_PAYLOAD_BYTES = 100 * 1024 * 1024  # InvokeAgentRuntime's payload limit


@dataclass(frozen=True)
class RuntimeEndpointSpec:
    """Everything the endpoint process needs, written by `agentarch dev` as JSON."""

    mode: Literal["iam", "jwt"]
    runtime_arn: str
    region: str
    socket_dir: str
    agent_log: str
    agent_env: dict[str, str] = field(default_factory=dict)
    agent_workers: int = 4
    access_key_id: str = ""
    secret_access_key: str = ""
    jwks_url: str = ""
    issuer: str = ""
    client_id: str = ""
    cors_origins: tuple[str, ...] = ()

    @property
    def runtime_id(self) -> str:
        """The id at the end of the ARN (`runtime/{id}`)."""
        return self.runtime_arn.rpartition("/")[2]

    @property
    def account_id(self) -> str:
        """The account in the ARN."""
        return self.runtime_arn.split(":")[4]


class AgentWorker:
    """One agent process serving the AgentCore app on its own Unix socket."""

    def __init__(self, process: asyncio.subprocess.Process, socket_path: Path) -> None:
        self.process = process
        self.pid = process.pid
        self.socket_path = socket_path
        self.client = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(socket_path)),
            base_url="http://agent",
            timeout=AGENT_TIMEOUT_SECONDS,
        )

    @classmethod
    async def start(cls, spec: RuntimeEndpointSpec, number: int) -> AgentWorker:
        """Start a worker and wait until its `/ping` answers (its cold start)."""
        socket_path = Path(spec.socket_dir) / f"agent-{os.getpid()}-{number}.sock"
        with open(spec.agent_log, "ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "agentarch.dev.local.agent_host",
                str(socket_path),
                env=spec.agent_env or None,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=preexec(),
            )
        worker = cls(process, socket_path)
        deadline = time.monotonic() + AGENT_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and worker.alive:
            with contextlib.suppress(httpx.HTTPError):
                if (await worker.client.get("/ping", timeout=2)).status_code == 200:
                    return worker
            await asyncio.sleep(0.1)
        await worker.close()
        raise RuntimeError("the agent worker did not start")

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.returncode is None

    async def close(self) -> None:
        """Stop the process and forget its socket."""
        await self.client.aclose()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        with contextlib.suppress(Exception):
            await self.process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()


def _aws_error(status: int, error_type: str, message: str, origin: str | None = None) -> JSONResponse:
    headers = {"x-amzn-ErrorType": error_type}
    if origin:
        headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
    return JSONResponse({"message": message}, status_code=status, headers=headers)


class RuntimeEndpoint:
    """AgentCore's data plane for one runtime: authenticate, check the session, hand the turn to a worker."""

    def __init__(self, spec: RuntimeEndpointSpec) -> None:
        self.spec = spec
        self.sigv4 = SigV4Verifier(
            spec.access_key_id, spec.secret_access_key, spec.region, "bedrock-agentcore"
        )
        self.bearer = (
            AccessTokenVerifier(spec.jwks_url, spec.issuer, spec.client_id, required_scope=None)
            if spec.mode == "jwt"
            else None
        )
        self.pool: EnvironmentPool[AgentWorker] = EnvironmentPool(
            lambda number: AgentWorker.start(spec, number), spec.agent_workers
        )

    def cors_origin(self, request: Request) -> str | None:
        origin = request.headers.get("origin")
        return origin if origin and origin in self.spec.cors_origins else None

    def names_this_runtime(self, request: Request) -> bool:
        named = unquote(request.path_params["arn"])
        if named == self.spec.runtime_arn:
            return True
        return named == self.spec.runtime_id and request.query_params.get("accountId") == self.spec.account_id

    async def preflight(self, request: Request) -> Response:
        origin = self.cors_origin(request)
        if self.spec.mode != "jwt" or origin is None:
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

    async def invocations(self, request: Request) -> Response:
        """`InvokeAgentRuntime`: authenticate, name this runtime, a valid session, then one worker's turn."""
        origin = self.cors_origin(request)
        try:
            body = await read_body(request, MAX_PAYLOAD_BYTES)
        except BodyTooLarge:
            return _aws_error(413, "ValidationException", "the payload is larger than 100 MB", origin)
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            self.authenticate(request, headers, body)
        except (SignatureRejected, TokenRejected) as exc:
            return _aws_error(403, "AccessDeniedException", f"access denied: {exc}", origin)
        if not self.names_this_runtime(request):
            return _aws_error(404, "ResourceNotFoundException", "no such agent runtime", origin)
        session_id = headers.get(SESSION_HEADER.lower(), "")
        if not is_runtime_session_id(session_id):
            return _aws_error(
                400, "ValidationException", "runtimeSessionId must be 33 to 256 characters", origin
            )
        return await self.forward(body, session_id, origin, headers.get("authorization"))

    def authenticate(self, request: Request, headers: dict[str, str], body: bytes) -> None:
        """SigV4 over what was received (IAM inbound auth), or the user's JWT (patterns 0 and 1)."""
        if self.bearer is not None:
            self.bearer.verify(headers.get("authorization"))
            return
        raw_path = request.scope.get("raw_path", b"").decode("latin-1")
        query = request.url.query
        url = f"{request.url.scheme}://{headers.get('host', '')}{raw_path}" + (f"?{query}" if query else "")
        self.sigv4.verify(request.method, url, headers, body)

    async def forward(
        self, body: bytes, session_id: str, origin: str | None, authorization: str | None = None
    ) -> Response:
        """The turn on a free worker; a worker found dead before it got the request is replaced once.

        An event-stream answer (the entrypoint yielded) is passed on as it comes, chunk by chunk, as
        AgentCore streams it; the worker is free again once the stream has ended. In JWT mode the
        caller's verified token is handed to the agent (`request_header_allowlist = ["Authorization"]`).
        """
        headers = {"Content-Type": "application/json", SESSION_HEADER: session_id}
        if authorization and self.spec.mode == "jwt":
            headers["Authorization"] = authorization
        for _attempt in range(2):
            try:
                worker = await self.pool.acquire(wait_seconds=AGENT_TIMEOUT_SECONDS)
            except AtCapacity:
                return _aws_error(429, "ThrottlingException", "every agent worker is busy", origin)
            except RuntimeError:
                return _aws_error(424, "RuntimeClientError", "the agent runtime could not start", origin)
            try:
                sent = worker.client.build_request("POST", "/invocations", content=body, headers=headers)
                answer = await worker.client.send(sent, stream=True)
                break
            except httpx.ConnectError:
                await self.pool.release(worker, False)
                continue  # the worker died while idle: nothing reached it, so another may take the turn
            except httpx.TimeoutException:
                await self.pool.release(worker, False)
                return _aws_error(504, "RuntimeTimeoutException", "the agent did not answer in time", origin)
            except httpx.HTTPError:
                await self.pool.release(worker, False)
                return _aws_error(424, "RuntimeClientError", "the agent runtime is not reachable", origin)
        else:
            return _aws_error(424, "RuntimeClientError", "the agent runtime is not reachable", origin)
        out_headers = {
            "Content-Type": answer.headers.get("content-type", "application/json"),
            SESSION_HEADER: session_id,
        }
        if origin:
            out_headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
        if answer.headers.get("content-type", "").startswith(EVENT_STREAM) and answer.status_code == 200:
            return StreamingResponse(self._relay(worker, answer), status_code=200, headers=out_headers)
        try:
            content = await answer.aread()
        except httpx.HTTPError:
            await self.pool.release(worker, False)
            return _aws_error(504, "RuntimeTimeoutException", "the agent did not answer in time", origin)
        finally:
            await answer.aclose()
        await self.pool.release(worker, True)
        if answer.status_code >= 400:
            return _aws_error(
                424, "RuntimeClientError", f"the agent answered HTTP {answer.status_code}", origin
            )
        return Response(content, status_code=200, headers=out_headers)

    async def _relay(self, worker: AgentWorker, answer: httpx.Response) -> AsyncIterator[bytes]:
        """An agent's event stream, chunk by chunk. A stream the caller left early leaves the worker
        mid-turn: it is thrown away (its turn goes no further), never handed the next request."""
        finished = False
        try:
            async for chunk in answer.aiter_raw():
                yield chunk
            finished = True
        except httpx.HTTPError:
            yield sse(
                {
                    "type": ERROR,
                    "status": 504,
                    **error_body("agent_timeout", "the agent stopped answering", ""),
                }
            )
        finally:
            await answer.aclose()
            await self.pool.release(worker, finished)

    async def ping(self, request: Request) -> Response:
        stats = self.pool.stats()
        return JSONResponse({"status": "Healthy", "mode": self.spec.mode, "agent": stats.__dict__})

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # One warm worker, so the first turn does not pay the agent's cold start.
        await self.pool.release(await self.pool.acquire())
        async with self.pool.running():
            yield


def build_app(spec: RuntimeEndpointSpec) -> Starlette:
    """The endpoint as an ASGI app (tests may mount it directly)."""
    endpoint = RuntimeEndpoint(spec)
    return Starlette(
        routes=[
            Route("/runtimes/{arn:path}/invocations", endpoint.invocations, methods=["POST"]),
            Route("/runtimes/{arn:path}/invocations", endpoint.preflight, methods=["OPTIONS"]),
            Route("/ping", endpoint.ping, methods=["GET"]),
        ],
        lifespan=endpoint.lifespan,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the endpoint from a spec file: `python -m agentarch.dev.local.runtime_endpoint SPEC PORT`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("spec", type=Path)
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    raw = json.loads(args.spec.read_text())
    spec = RuntimeEndpointSpec(**{**raw, "cors_origins": tuple(raw.get("cors_origins", ()))})
    uvicorn.run(build_app(spec), host="127.0.0.1", port=args.port, log_level="warning", proxy_headers=False)


if __name__ == "__main__":
    main()
