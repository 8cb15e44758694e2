"""Host one Lambda function on loopback, invoked the way API Gateway's proxy integration does.

`POST /2015-03-31/functions/{name}/invocations` with an API Gateway REST proxy event as the body
runs the real handler (imported from its `module.function` string, with the function's own
environment) and answers its proxy response, like the Lambda Invoke API.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(handler: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Import `package.module.function` the way the Lambda runtime resolves a handler string."""
    module_name, _, function_name = handler.rpartition(".")
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        raise TypeError(f"{handler} is not callable")
    return function  # type: ignore[no-any-return]


def build_app(function_name: str, handler: str, timeout_seconds: float) -> Starlette:
    """An ASGI app that invokes one function, one event at a time per request."""
    function = load_handler(handler)

    async def invoke(request: Request) -> Response:
        if request.path_params["name"] != function_name:
            return JSONResponse({"Message": "Function not found"}, status_code=404)
        event = await request.json()
        context = LocalLambdaContext(function_name, timeout_seconds)
        try:
            result = await asyncio.wait_for(asyncio.to_thread(function, event, context), timeout_seconds)
        except TimeoutError:
            return JSONResponse(
                {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"},
                headers={"X-Amz-Function-Error": "Unhandled"},
            )
        except Exception as exc:  # the Lambda service reports unhandled errors the same way
            return JSONResponse(
                {"errorType": type(exc).__name__, "errorMessage": "Unhandled error"},
                headers={"X-Amz-Function-Error": "Unhandled"},
            )
        return JSONResponse(result)

    async def ping(request: Request) -> Response:
        return JSONResponse({"function": function_name})

    return Starlette(
        routes=[
            Route("/2015-03-31/functions/{name}/invocations", invoke, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m agentarch.local.lambda_host NAME HANDLER PORT [--timeout S]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name")
    parser.add_argument("handler")
    parser.add_argument("port", type=int)
    parser.add_argument("--timeout", type=float, default=28.0)
    args = parser.parse_args(argv)
    app = build_app(args.name, args.handler, args.timeout)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
