"""Streaming pieces in process: the agent tells a turn before the model has finished, the runtime
client hands events over as they come, the Accept header decides, and the Web Adapter's request
becomes the same API Gateway event the buffered handler reads."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar, cast

import pytest

from agentarch.adapters.agent_runtime import AgentRuntimeClient, AgentUnavailable, RuntimeTarget
from agentarch.agent.app import AgentService
from agentarch.agent.offline_model import OfflineChatModel
from agentarch.config import AgentSettings
from agentarch.core.contracts import AgentInvocation
from agentarch.core.identity import Actor
from agentarch.core.streaming import parse_sse, sse, wants_stream

SESSION = "s" * 40


class GatedModel(OfflineChatModel):
    """The offline model, held after its first word until the test lets it go on."""

    gate: Any = None

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        for number, chunk in enumerate(super()._stream(messages, stop, run_manager, **kwargs)):
            if number == 1:
                assert self.gate.wait(10), "the test never let the model go on"
            yield chunk


T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on its own event loop in its own thread: a browser test's sync Playwright
    may have left a loop running in this worker's main thread, where `asyncio.run` refuses."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed back to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["result"])


def test_the_first_text_leaves_the_agent_before_the_model_has_finished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENT_TELEMETRY", "off")
    gate = threading.Event()
    agent = AgentService(AgentSettings(), model=GatedModel(gate=gate))
    events = agent.stream(AgentInvocation(prompt="help", actor=Actor(id="u1", groups=["users"])), SESSION)

    first = next(events)  # the model is still held after its first word

    assert first == {"type": "text", "text": "[offline "}
    gate.set()
    rest = list(events)
    assert rest[-1]["type"] == "reply" and "I am the offline model" in rest[-1]["reply"]["response"]
    assert "".join(e["text"] for e in [first, *rest] if e["type"] == "text") == rest[-1]["reply"]["response"]


def test_tool_calls_are_told_with_their_decision_before_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TELEMETRY", "off")
    agent = AgentService(AgentSettings(), model=OfflineChatModel())
    anonymous = list(agent.stream(AgentInvocation(prompt="what is 6 * 7?"), SESSION))

    assert anonymous[0]["type"] == "tool_call" and anonymous[0]["call"]["decision"] == "deny"
    assert anonymous[-1]["reply"]["tool_calls"][0]["decision"] == "deny"


@pytest.mark.parametrize(
    ("accept", "streams"),
    [
        ("text/event-stream", True),
        ("application/json, text/event-stream;q=0.5", True),
        ("TEXT/EVENT-STREAM; charset=utf-8", True),
        ("text/event-stream;q=0", False),
        ("application/json", False),
        ("*/*", False),
        (None, False),
        ("", False),
    ],
)
def test_only_a_client_that_asks_for_an_event_stream_gets_one(accept: str | None, streams: bool) -> None:
    assert wants_stream(accept) is streams


def test_sse_round_trips_multiline_and_unicode() -> None:
    events = [{"type": "text", "text": "line one\nline two ✓"}, {"type": "done", "reply": {}}]
    raw = b"".join(sse(e) for e in events)
    assert list(parse_sse(io.BytesIO(raw).readlines())) == events


class StreamingRuntime:
    """`invoke_agent_runtime` answering an event stream."""

    def __init__(self, body: bytes, content_type: str = "text/event-stream") -> None:
        self.body, self.content_type = body, content_type
        self.asked: dict[str, Any] = {}

    def invoke_agent_runtime(self, **kwargs: Any) -> dict[str, Any]:
        self.asked = kwargs
        return {"response": io.BytesIO(self.body), "contentType": self.content_type}


def client(runtime: StreamingRuntime) -> AgentRuntimeClient:
    target = RuntimeTarget(
        "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a-abcdefghij",
        "DEFAULT",
        "us-east-1",
        None,
        1,
        5,
        1,
    )
    return AgentRuntimeClient(target, runtime)


def test_the_runtime_client_hands_over_each_event_and_returns_the_reply() -> None:
    reply = {"response": "hi", "session_id": SESSION}
    runtime = StreamingRuntime(
        sse({"type": "text", "text": "h"})
        + sse({"type": "text", "text": "i"})
        + sse({"type": "reply", "reply": reply})
    )
    seen: list[dict[str, Any]] = []

    answer = client(runtime).stream({"prompt": "x"}, SESSION, seen.append, lambda: 10.0)

    assert answer == reply and [e["text"] for e in seen] == ["h", "i"]
    assert runtime.asked["accept"] == "text/event-stream"
    assert json.loads(runtime.asked["payload"])["stream"] is True


@pytest.mark.parametrize(
    "body",
    [
        sse({"type": "text", "text": "cut"}),
        sse({"type": "error", "status": 500, "error": {"code": "agent_error"}}),
    ],
    ids=["ends-without-reply", "error-event"],
)
def test_a_stream_without_a_reply_is_an_agent_failure(body: bytes) -> None:
    with pytest.raises(AgentUnavailable):
        client(StreamingRuntime(body)).stream({"prompt": "x"}, SESSION, lambda e: None, lambda: 10.0)


def test_the_web_adapters_request_becomes_the_api_gateway_event() -> None:
    from agentarch.handlers.chat_stream import AdapterContext, event_from_adapter

    context = {"requestId": "r-1", "resourcePath": "/api/chat", "authorizer": {"claims": {"sub": "u-1"}}}
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/chat",
        "query_string": b"a=1&a=2",
        "headers": [
            (b"accept", b"text/event-stream"),
            (b"x-amzn-request-context", json.dumps(context).encode()),
            (b"x-amzn-lambda-context", json.dumps({"request_id": "l-1", "deadline": 4102444800000}).encode()),
        ],
    }

    event, lambda_context = event_from_adapter(scope, b'{"message": "hi"}')

    assert event["resource"] == "/api/chat" and event["httpMethod"] == "POST"
    assert event["requestContext"]["authorizer"]["claims"]["sub"] == "u-1"
    assert "x-amzn-request-context" not in event["headers"]  # the context travels once, verified
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["body"] == '{"message": "hi"}'
    assert isinstance(lambda_context, AdapterContext) and lambda_context.get_remaining_time_in_millis() > 0


def test_a_second_request_context_header_leaves_the_request_without_identity() -> None:
    from agentarch.handlers.chat_stream import event_from_adapter

    # Given the adapter's request context and a second copy a client sent with forged claims
    real = {"requestId": "r-1", "resourcePath": "/api/chat", "authorizer": {"claims": {"sub": "u-1"}}}
    forged = {"requestId": "r-1", "resourcePath": "/api/chat", "authorizer": {"claims": {"sub": "admin"}}}
    for order in ((real, forged), (forged, real)):
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/chat",
            "headers": [(b"x-amzn-request-context", json.dumps(c).encode()) for c in order],
        }

        event, _ = event_from_adapter(scope, b"{}")

        # Then neither is believed: the handler sees no authorizer claims (its 401), whatever the order
        assert event["requestContext"] == {}


def test_the_web_adapters_app_streams_the_same_route_as_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentarch.handlers import chat_stream
    from agentarch.handlers.chat_stream import StreamedResponse

    def respond(event: dict[str, Any], context: Any) -> StreamedResponse:
        assert event["requestContext"]["authorizer"]["claims"]["sub"] == "u-1"
        return StreamedResponse(
            200, {"Content-Type": "text/event-stream"}, iter([b"data: 1\n\n", b"data: 2\n\n"])
        )

    monkeypatch.setattr(chat_stream, "respond", respond)
    sent: list[dict[str, Any]] = []
    context = json.dumps({"resourcePath": "/api/chat", "authorizer": {"claims": {"sub": "u-1"}}}).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/chat",
        "headers": [(b"x-amzn-request-context", context)],
    }
    inbox = [{"type": "http.request", "body": b"{}", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_coroutine(chat_stream.app(scope, receive, send))

    assert sent[0]["status"] == 200
    assert [m.get("body") for m in sent[1:]] == [b"data: 1\n\n", b"data: 2\n\n", b""]


# ---- the front door's STREAM integration is bounded by its own timeout --------------------------


async def _front_door_over(tmp_path: Any, server: Any, stream_timeout: float) -> tuple[Any, Any]:
    """A front door whose STREAM route reaches a Unix socket served by `server` (or by nothing that
    ever answers, when `server` is None: connections are queued and never read, as a frozen Lambda)."""
    import socket

    from agentarch.dev.local.frontdoor import FrontDoor, FrontDoorSpec, LambdaRoute
    from agentarch.dev.local.identity import LocalIdentity

    path = str(tmp_path / "lambda.sock")
    if server is None:
        frozen = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        frozen.bind(path)
        frozen.listen(8)
        keep: Any = frozen
    else:
        keep = await asyncio.start_unix_server(server, path)
    route = LambdaRoute("POST", "/api/chat", "chat", path, stream=True)
    spec = FrontDoorSpec(
        pattern=3,
        public_url="http://127.0.0.1:1",
        runtime_url="http://127.0.0.1:2",
        runtime_arn="arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local",
        routes=(route,),
        api_scope="agentarch/api",
        rate_limit=10,
        rate_window_seconds=60,
        max_body_bytes=1024,
        allowed_origins=(),
        web_dir=tmp_path,
        integration_timeout_seconds=29.0,
        stream_timeout_seconds=stream_timeout,
    )
    front = FrontDoor(spec, LocalIdentity(tmp_path / "identity", issuer="http://127.0.0.1:1/local-auth"))
    return front, keep


def _request() -> Any:
    from starlette.requests import Request

    return Request(
        {"type": "http", "method": "POST", "path": "/api/chat", "headers": [], "query_string": b""}
    )


def test_a_stream_route_whose_function_never_answers_is_a_504_at_the_stream_timeout(tmp_path: Any) -> None:
    """A frozen function (connections accepted by the kernel, never answered) must not hold the
    client for the 5 idle minutes: the route's stream timeout ends the wait with a 504."""

    async def scenario() -> Any:
        front, frozen = await _front_door_over(tmp_path, None, stream_timeout=0.3)
        try:
            return await asyncio.wait_for(
                front.to_streaming_lambda(_request(), front.spec.routes[0], {}), timeout=10
            )
        finally:
            frozen.close()

    answer = run_coroutine(scenario())
    assert answer.status_code == 504
    assert json.loads(answer.body)["error"]["code"] == "integration_timeout"


def test_a_stream_still_running_at_the_stream_timeout_is_cut_there(tmp_path: Any) -> None:
    from agentarch.core.streaming import PRELUDE_DELIMITER

    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        first = json.dumps({"statusCode": 200}).encode() + PRELUDE_DELIMITER + b"data: one\n\n"
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(f"{len(first):x}\r\n".encode() + first + b"\r\n")
        await writer.drain()
        await asyncio.sleep(30)  # then nothing: the function is still working

    async def scenario() -> tuple[int, bytes]:
        front, server = await _front_door_over(tmp_path, stalls, stream_timeout=0.5)
        try:
            answer = await front.to_streaming_lambda(_request(), front.spec.routes[0], {})
            received = b""
            async with asyncio.timeout(10):
                async for chunk in answer.body_iterator:
                    received += chunk
            return answer.status_code, received
        finally:
            server.close()

    status, received = run_coroutine(scenario())
    assert (status, received) == (200, b"data: one\n\n")
