"""The local Lambda service for one function, invoked the way API Gateway's proxy integration does.

`POST /2015-03-31/functions/{name}/invocations` with an API Gateway REST proxy event as the body
runs the real handler and answers its proxy response, like the Lambda Invoke API. As in Lambda:

- an **execution environment** is a process that imports the handler once (a cold start) and then
  handles **one event at a time**; Powertools keeps the current event in process-wide state, so
  two events must never share a process;
- concurrency comes from more environments, started on demand up to the function's reserved
  concurrency; past it the invocation is throttled (429 `TooManyRequestsException`);
- an environment that times out or crashes is thrown away; one idle for a while is reaped.

The service listens on a Unix socket inside the state directory (readable by its owner only): the
front door is its only caller, as API Gateway is a Lambda function's only trigger here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import multiprocessing
import multiprocessing.forkserver
from collections.abc import AsyncIterator, Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agentarch.dev import sqlite
from agentarch.dev.lambda_events import LOCAL_ACCOUNT, LocalLambdaContext
from agentarch.dev.local.environments import AtCapacity, EnvironmentPool

UNRESERVED_LIMIT = 1000  # an account's default concurrency quota: what "-1, no reservation" allows
INIT_TIMEOUT_SECONDS = 60.0
MAX_RESULT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response payload limit


def load_handler(handler: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Import `package.module.function` the way the Lambda runtime resolves a handler string."""
    module_name, _, function_name = handler.rpartition(".")
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        raise TypeError(f"{handler} is not callable")
    return function  # type: ignore[no-any-return]


# ---- inside an execution environment ---------------------------------------------------------

# Environments are forked from a template process that has loaded these libraries (as a warm
# runtime image would), so a cold start costs what is the function's own: importing the handler
# module, which builds its resolver, reads its settings and so on, afresh in every environment.
PRELOADED_LIBRARIES = [
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_xray_sdk.core",
    "pydantic",
    "boto3",
    "botocore.session",
]
_PROCESSES = multiprocessing.get_context("forkserver")


def run_environment(
    channel: Connection, function_name: str, handler: str, timeout_seconds: float, stream_handler: str = ""
) -> None:
    """The loop of one execution environment: receive an event, run it, send the result; repeat
    until the service goes away. The handler's own output (Powertools logs) goes to the log.

    A streamed invocation (`{"stream": true}`) runs `stream_handler`, a generator of the response's
    bytes, and sends each piece as it is written (`C` + bytes), then `E` (or `X` + the error).
    """
    sqlite.register()  # STORAGE_BACKEND=sqlite: the local stack's storage, as the stack configures it
    function = load_handler(handler)  # the cold start
    streamer: Callable[[dict[str, Any], Any], Iterator[bytes]] | None = (
        load_handler(stream_handler) if stream_handler else None  # type: ignore[assignment]
    )
    channel.send_bytes(b'{"ready": true}')
    while True:
        try:
            request = json.loads(channel.recv_bytes())
        except (EOFError, OSError):
            return
        event, streamed = request["event"], bool(request.get("stream"))
        context = LocalLambdaContext(function_name, timeout_seconds, account_id=LOCAL_ACCOUNT)
        if streamed and streamer is not None:
            try:
                for piece in streamer(event, context):
                    channel.send_bytes(b"C" + piece)
                channel.send_bytes(b"E")
            except (EOFError, OSError):
                return
            except Exception as exc:
                error = {"errorType": type(exc).__name__, "errorMessage": "Unhandled error"}
                channel.send_bytes(b"X" + json.dumps(error).encode("utf-8"))
            continue
        try:
            answer: dict[str, Any] = {"result": function(event, context)}
        except Exception as exc:  # the Lambda service reports unhandled errors as a function error
            answer = {"error": {"errorType": type(exc).__name__, "errorMessage": "Unhandled error"}}
        channel.send_bytes(json.dumps(answer).encode("utf-8"))


# ---- the service in front of the environments -------------------------------------------------


class EnvironmentFailed(Exception):
    """The environment died, or answered something that is not a result."""


class LambdaEnvironment:
    """One worker process of the function, driven over a pipe."""

    def __init__(self, process: BaseProcess, channel: Connection) -> None:
        self.process = process
        self.channel = channel
        self.pid = process.pid or 0

    @classmethod
    async def start(
        cls, function_name: str, handler: str, timeout_seconds: float, stream_handler: str = ""
    ) -> LambdaEnvironment:
        """Start a process and wait for its cold start (the handler import) to finish."""
        ours, theirs = _PROCESSES.Pipe()
        process = _PROCESSES.Process(
            target=run_environment,
            args=(theirs, function_name, handler, timeout_seconds, stream_handler),
            daemon=True,
        )
        await asyncio.to_thread(process.start)
        theirs.close()
        env = cls(process, ours)
        try:
            ready = await asyncio.wait_for(env._read(), INIT_TIMEOUT_SECONDS)
        except (TimeoutError, EnvironmentFailed):
            await env.close()
            raise EnvironmentFailed("the environment did not initialise") from None
        if not ready.get("ready"):
            await env.close()
            raise EnvironmentFailed("the environment did not initialise")
        return env

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.is_alive()

    async def invoke(self, event: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
        """Run one event; `TimeoutError` past the function's timeout."""
        self._send({"event": event})
        return await asyncio.wait_for(self._read(), timeout_seconds)

    def _send(self, request: dict[str, Any]) -> None:
        try:
            self.channel.send_bytes(json.dumps(request).encode("utf-8"))
        except OSError:
            raise EnvironmentFailed("the environment exited") from None

    async def invoke_streaming(self, event: dict[str, Any]) -> None:
        """Hand over one event whose response is streamed; read it with `next_piece`."""
        self._send({"event": event, "stream": True})

    async def next_piece(self, timeout_seconds: float) -> tuple[str, bytes]:
        """The next message of a streamed response: (`C`, bytes), (`E`, b"") or (`X`, error JSON)."""
        raw = await asyncio.wait_for(self._raw(), timeout_seconds)
        return raw[:1].decode(), raw[1:]

    async def _raw(self) -> bytes:
        await self._readable()
        try:
            return self.channel.recv_bytes(MAX_RESULT_BYTES * 2)
        except (EOFError, OSError):
            raise EnvironmentFailed("the environment exited") from None

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.channel.poll():
            readable: asyncio.Future[None] = loop.create_future()
            loop.add_reader(self.channel.fileno(), _settle, readable)
            try:
                await readable
            finally:
                loop.remove_reader(self.channel.fileno())

    async def _read(self) -> dict[str, Any]:
        await self._readable()
        try:
            raw = self.channel.recv_bytes(MAX_RESULT_BYTES * 2)
        except (EOFError, OSError):
            raise EnvironmentFailed("the environment exited, or answered more than Lambda allows") from None
        answer: dict[str, Any] = json.loads(raw)
        return answer

    async def close(self) -> None:
        """Stop the process (Lambda freezes and later discards it; we just stop it)."""
        if self.process.is_alive():
            with contextlib.suppress(ProcessLookupError, OSError):
                self.process.kill()
        await asyncio.to_thread(self.process.join, 5)
        self.channel.close()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _pieces(
    pool: EnvironmentPool[LambdaEnvironment], env: LambdaEnvironment, timeout_seconds: float
) -> AsyncIterator[bytes]:
    """A streamed response's bytes until its end, the function's timeout, or its environment's death."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    ended = False
    try:
        while True:
            left = deadline - asyncio.get_running_loop().time()
            kind, piece = await env.next_piece(max(left, 0.0))
            if kind != "C":
                ended = kind == "E" or kind == "X"
                return
            yield piece
    except (TimeoutError, EnvironmentFailed):
        return  # the function timed out or died: the stream ends there, as Lambda cuts it
    finally:
        if ended:
            await pool.release(env, True)
        else:
            _DRAINING.add(asyncio.get_running_loop().create_task(_drain(pool, env, deadline)))


async def _drain(pool: EnvironmentPool[LambdaEnvironment], env: LambdaEnvironment, deadline: float) -> None:
    """Read a response nobody reads any more to its end, then free the environment."""
    try:
        while True:
            left = deadline - asyncio.get_running_loop().time()
            kind, _ = await env.next_piece(max(left, 0.0))
            if kind != "C":
                await pool.release(env, True)
                return
    except (TimeoutError, EnvironmentFailed):
        await pool.release(env, False)
    finally:
        _DRAINING.difference_update({t for t in _DRAINING if t.done()})


async def _event_and_environment(
    request: Request, pool: EnvironmentPool[LambdaEnvironment]
) -> tuple[dict[str, Any], LambdaEnvironment] | Response:
    """The invocation's event and a free environment for it, or the Invoke API's refusal."""
    try:
        event = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"Message": "Could not parse request body into json"}, status_code=400)
    try:
        return event, await pool.acquire()
    except AtCapacity:
        return JSONResponse(
            {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Message": "Rate Exceeded."},
            status_code=429,
            headers={"x-amzn-ErrorType": "TooManyRequestsException"},
        )
    except EnvironmentFailed:
        return _function_error("Runtime.InitError", "the function could not initialise")


_DRAINING: set[asyncio.Task[None]] = set()  # responses read to their end after their reader left


def _function_error(error_type: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"errorType": error_type, "errorMessage": message}, headers={"X-Amz-Function-Error": "Unhandled"}
    )


def build_app(
    function_name: str,
    handler: str,
    timeout_seconds: float,
    reserved_concurrency: int,
    idle_seconds: float,
    stream_handler: str = "",
) -> Starlette:
    """The Lambda Invoke API for one function, over a pool of execution environments; with a
    `stream_handler`, also `InvokeWithResponseStream` as API Gateway's STREAM integration calls it."""
    limit = UNRESERVED_LIMIT if reserved_concurrency < 0 else reserved_concurrency
    pool: EnvironmentPool[LambdaEnvironment] = EnvironmentPool(
        lambda _n: LambdaEnvironment.start(function_name, handler, timeout_seconds, stream_handler),
        limit,
        idle_seconds,
    )

    async def invoke(request: Request) -> Response:
        if request.path_params["name"] != function_name:
            return JSONResponse({"Message": "Function not found"}, status_code=404)
        taken = await _event_and_environment(request, pool)
        if isinstance(taken, Response):
            return taken
        event, env = taken
        reusable = False
        try:
            answer = await env.invoke(event, timeout_seconds)
            reusable = True
        except TimeoutError:
            return _function_error("Sandbox.Timedout", f"Task timed out after {timeout_seconds:.2f} seconds")
        except (EnvironmentFailed, ValueError, ConnectionError):
            return _function_error("Runtime.ExitError", "the runtime exited before answering")
        finally:
            await pool.release(env, reusable)
        if "error" in answer:
            return _function_error(answer["error"]["errorType"], answer["error"]["errorMessage"])
        return JSONResponse(answer["result"])

    async def invoke_streaming(request: Request) -> Response:
        """`InvokeWithResponseStream`: the function's response bytes as it writes them (the HTTP
        prelude, eight NULs, the body), still one event at a time per environment. The function's
        timeout bounds the whole stream; a reader that goes away does not stop the function: the
        environment is drained to the end of its response before it takes another event."""
        if request.path_params["name"] != function_name or not stream_handler:
            return JSONResponse({"Message": "Function not found"}, status_code=404)
        taken = await _event_and_environment(request, pool)
        if isinstance(taken, Response):
            return taken
        event, env = taken
        try:
            await env.invoke_streaming(event)
        except EnvironmentFailed:
            await pool.release(env, False)
            return _function_error("Runtime.ExitError", "the runtime exited before answering")
        return StreamingResponse(_pieces(pool, env, timeout_seconds), media_type="application/octet-stream")

    async def ping(request: Request) -> Response:
        stats = pool.stats()
        return JSONResponse({"function": function_name, **stats.__dict__})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _PROCESSES.set_forkserver_preload(PRELOADED_LIBRARIES)
        await asyncio.to_thread(multiprocessing.forkserver.ensure_running)
        async with pool.running():
            yield

    return Starlette(
        routes=[
            Route("/2015-03-31/functions/{name}/invocations", invoke, methods=["POST"]),
            Route(
                "/2021-11-15/functions/{name}/response-streaming-invocations",
                invoke_streaming,
                methods=["POST"],
            ),
            Route("/ping", ping, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def serve_on_socket(app: Starlette, socket_path: Path) -> None:
    """Serve on a Unix socket that only the owner of the state directory can reach."""
    socket_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()  # a previous run's socket
    uvicorn.run(app, uds=str(socket_path), log_level="warning", proxy_headers=False)


def main(argv: list[str] | None = None) -> None:
    """`python -m agentarch.dev.local.lambda_host serve NAME HANDLER SOCKET [...]`."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    serve = sub.add_parser("serve", help="the function's Invoke API on a Unix socket")
    serve.add_argument("name")
    serve.add_argument("handler")
    serve.add_argument("socket", type=Path)
    serve.add_argument("--timeout", type=float, default=28.0)
    serve.add_argument("--reserved-concurrency", type=int, default=-1)
    serve.add_argument("--idle-seconds", type=float, default=300.0)
    serve.add_argument("--stream-handler", default="", help="the generator InvokeWithResponseStream runs")
    args = parser.parse_args(argv)
    app = build_app(
        args.name,
        args.handler,
        args.timeout,
        args.reserved_concurrency,
        args.idle_seconds,
        args.stream_handler,
    )
    serve_on_socket(app, args.socket)


if __name__ == "__main__":
    main()
