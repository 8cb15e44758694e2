"""The chat Lambda's streamed answers: `POST /api/chat` with `Accept: text/event-stream`.

Python Lambda cannot stream a response by itself, and Powertools' resolver does not stream. So the
chat function, when its route's integration is `STREAM`, runs this module's ASGI `app` behind the
Lambda Web Adapter (`AWS_LWA_INVOKE_MODE=response_stream`, entry `run.sh`); the local Lambda host
calls `stream_handler` the way `InvokeWithResponseStream` runs a function. Both come to `respond`.

**One service path.** `respond` runs the very same `lambda_handler` — Powertools resolver,
validation, idempotency → quota → audit → the turn, the error mapping — in a worker thread, with a
sink for the turn's events (`handlers.chat.turn_events`). What the client gets:

- before the first event nothing is sent: a refusal (400, 401, 409 still being answered, 422, 429
  quota, 503) is the ordinary JSON error with its status, as the JSON route answers it;
- from the first event on: `200 text/event-stream`, each event as it comes (`core.streaming`), then
  `pending_approval` (if a call waits) and `done` with the very reply the JSON route answers — or an
  `error` event with the status the JSON route would have had. A retry after completion with the same
  `Idempotency-Key` replays the stored reply as `done`;
- a client that asks for JSON, or a stream on a route that has none (`GET /api/usage`), gets JSON.

**Backpressure, disconnects, deadlines.** At most `QUEUE_EVENTS` events wait for a slow reader; then
the turn waits too (the agent's stream is read no faster than the client reads). A client that goes
away does not cancel the turn: it completes, is charged, stored and audited once, exactly as if the
client had stayed (a half-stored turn is what cancelling mid-write would risk); later events are
dropped. A turn still running when the Lambda's deadline nears ends the stream with an `error`
event (504 `agent_timeout`), never a silent cut.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agentarch.core import streaming
from agentarch.core.errors import error_body
from agentarch.handlers import chat
from agentarch.handlers.http import cors_headers

QUEUE_EVENTS = 64  # events waiting for a slow reader before the turn itself waits
DEADLINE_MARGIN_SECONDS = 1.0  # the error event must leave before the function is stopped
STREAM_HEADERS = {
    "Content-Type": f"{streaming.EVENT_STREAM}; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


@dataclass
class StreamedResponse:
    """Status and headers, decided before the first byte, then the body as it comes."""

    status: int
    headers: dict[str, str]
    body: Iterator[bytes]


def respond(event: dict[str, Any], context: Any) -> StreamedResponse:
    """The answer to one API Gateway proxy event: streamed when asked for on the chat route."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    streams = event.get("httpMethod") == "POST" and event.get("resource") == "/api/chat"
    if not (streams and streaming.wants_stream(headers.get("accept"))):
        return _whole(chat.lambda_handler(event, context))
    relay = _Relay(context)
    relay.start(event)
    first = relay.next()
    if isinstance(first, _Finished) and not _ok(first.result):
        return _whole(first.result)  # refused before the first byte: its own status, as JSON
    sse = {**STREAM_HEADERS, **cors_headers(chat.http_settings, event)}
    return StreamedResponse(200, sse, relay.events(first, _request_id(event)))


def stream_handler(event: dict[str, Any], context: Any) -> Iterator[bytes]:
    """The function's response stream as Lambda carries it to API Gateway: a JSON prelude (status and
    headers), eight NUL bytes, then the body as it is written."""
    answer = respond(event, context)
    yield (
        json.dumps({"statusCode": answer.status, "headers": answer.headers}).encode()
        + streaming.PRELUDE_DELIMITER
    )
    yield from answer.body


@dataclass(frozen=True)
class _Finished:
    result: dict[str, Any]


class _Relay:
    """The turn in a worker thread, its events handed over through a bounded queue."""

    def __init__(self, context: Any) -> None:
        self._queue: queue.Queue[dict[str, Any] | _Finished] = queue.Queue(QUEUE_EVENTS)
        self._gone = threading.Event()
        self._context = context
        self._thread: threading.Thread | None = None

    def start(self, event: dict[str, Any]) -> None:
        self._thread = threading.Thread(target=self._run, args=(event,), name="chat-turn", daemon=True)
        self._thread.start()

    def _run(self, event: dict[str, Any]) -> None:
        chat.turn_events.set(self._put)  # this thread's context: only this event's turn sees it
        try:
            result = chat.lambda_handler(event, self._context)
        except Exception:  # the resolver answers every error; this is the last guard
            result = _error_result(500, "internal_error", "something went wrong", _request_id(event))
        self._put(_Finished(result))

    def _put(self, item: dict[str, Any] | _Finished) -> None:
        while not self._gone.is_set():
            try:
                self._queue.put(item, timeout=0.25)
                return
            except queue.Full:
                continue  # a slow reader: the turn waits for it (or for it to go away)

    def _seconds_left(self) -> float:
        remaining = getattr(self._context, "get_remaining_time_in_millis", None)
        return remaining() / 1000 - DEADLINE_MARGIN_SECONDS if remaining else 900.0

    def next(self) -> dict[str, Any] | _Finished:
        """The next event or the end; the end (504) when the function's deadline comes first."""
        try:
            return self._queue.get(timeout=max(self._seconds_left(), 0.0))
        except queue.Empty:
            return _Finished(_error_result(504, "agent_timeout", "the answer did not finish in time", ""))

    def events(self, first: dict[str, Any] | _Finished, request_id: str) -> Iterator[bytes]:
        """The stream's body; when the reader goes away the turn goes on without it (and is waited for,
        so the environment takes its next event only once this one is done)."""
        item = first
        try:
            while not isinstance(item, _Finished):
                yield streaming.sse(item)
                item = self.next()
            yield from (streaming.sse(e) for e in _closing(item.result, request_id))
        finally:
            self._gone.set()
            if self._thread is not None:
                self._thread.join(timeout=max(self._seconds_left(), 0.0) + DEADLINE_MARGIN_SECONDS)


def _closing(result: dict[str, Any], request_id: str) -> list[dict[str, Any]]:
    """The last events: the reply (and the call waiting for approval), or the error the JSON route
    would have answered, with its status."""
    try:
        body = json.loads(result.get("body") or "{}")
    except ValueError:
        body = {}
    status = int(result.get("statusCode", 500))
    if not _ok(result) or not isinstance(body, dict):
        if not isinstance(body, dict) or "error" not in body:
            body = error_body("internal_error", "something went wrong", request_id)
        return [{"type": streaming.ERROR, "status": status, **body}]
    pending = body.get("pending_approval")
    closing = [{"type": streaming.PENDING_APPROVAL, "pending_approval": pending}] if pending else []
    return [*closing, {"type": streaming.DONE, "reply": body}]


def _ok(result: dict[str, Any]) -> bool:
    return 200 <= int(result.get("statusCode", 500)) < 300


def _whole(result: dict[str, Any]) -> StreamedResponse:
    """A proxy result as a response with one body chunk (the JSON answer)."""
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    return StreamedResponse(int(result.get("statusCode", 502)), headers, iter([str(body).encode("utf-8")]))


def _error_result(status: int, code: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(error_body(code, message, request_id)),
    }


def _request_id(event: dict[str, Any]) -> str:
    return str((event.get("requestContext") or {}).get("requestId") or "")


# ---- behind the Lambda Web Adapter (AWS) --------------------------------------------------------

# The adapter turns the API Gateway event into an HTTP request to this app and passes what is not
# HTTP in two headers: the request context (the authorizer's verified claims) and the Lambda context.
REQUEST_CONTEXT_HEADER = "x-amzn-request-context"
LAMBDA_CONTEXT_HEADER = "x-amzn-lambda-context"


class AdapterContext:
    """The Lambda context as the adapter passes it (`x-amzn-lambda-context`): what the handler reads."""

    def __init__(self, raw: str | None) -> None:
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        found = data.get("env_config")
        env: dict[str, Any] = found if isinstance(found, dict) else {}
        self.aws_request_id = str(data.get("request_id") or "")
        self.invoked_function_arn = str(data.get("invoked_function_arn") or "")
        self.function_name = str(env.get("function_name") or "chat")
        self.function_version = str(env.get("version") or "$LATEST")
        self.memory_limit_in_mb = int(env.get("memory") or 0)
        self.log_group_name = str(env.get("log_group") or "")
        self.log_stream_name = str(env.get("log_stream") or "")
        deadline = data.get("deadline")
        self._deadline_ms = (
            float(deadline) if isinstance(deadline, int | float) else time.time() * 1000 + 900_000
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_ms - time.time() * 1000), 0)


def event_from_adapter(scope: dict[str, Any], body: bytes) -> tuple[dict[str, Any], AdapterContext]:
    """The API Gateway proxy event back from the adapter's HTTP request, and the Lambda context."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    raw_context = lambda_context = None
    contexts = 0
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == REQUEST_CONTEXT_HEADER:
            raw_context, contexts = value, contexts + 1
            continue
        if name == LAMBDA_CONTEXT_HEADER:
            lambda_context = value
            continue
        single[name] = value
        multi.setdefault(name, []).append(value)
    if contexts > 1:
        # The adapter sets this header once, from the invocation; a second copy can only come from the
        # client. Fail closed: no request context, so no verified identity (401), whichever came last.
        raw_context = None
    try:
        request_context = json.loads(raw_context or "{}")
    except ValueError:
        request_context = {}
    query: dict[str, list[str]] = {}
    for pair in scope.get("query_string", b"").decode("latin-1").split("&"):
        if pair:
            key, _, value = pair.partition("=")
            query.setdefault(key, []).append(value)
    path = scope.get("path", "/")
    event = {
        "resource": (request_context or {}).get("resourcePath") or path,
        "path": path,
        "httpMethod": scope.get("method", "GET"),
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": request_context if isinstance(request_context, dict) else {},
        "body": body.decode("utf-8", errors="replace") if body else None,
        "isBase64Encoded": False,
    }
    return event, AdapterContext(lambda_context)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI app the Lambda Web Adapter serves (`run.sh`): every route of the chat function."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope.get("path") == "/healthz":  # the adapter's readiness check
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    event, context = event_from_adapter(scope, body)
    answer = await asyncio.to_thread(respond, event, context)
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()],
        }
    )
    try:
        while (chunk := await asyncio.to_thread(next, answer.body, None)) is not None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:  # a client gone away: the turn goes on without it, and is waited for
        close = getattr(answer.body, "close", None)
        if close is not None:
            await asyncio.to_thread(close)
