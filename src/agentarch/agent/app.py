# ruff: noqa: E402
"""The agent as an AgentCore Runtime service: `POST /invocations` and `GET /ping`.

Payload in: `{"prompt", "actor": {"id", "groups"}, "session_calls", "session_tokens", "session_seconds",
"approval"}`; the session is the one AgentCore names in the request
(`X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`, handed to the entrypoint as `context.session_id`),
never a second copy in the payload. Out: `{"response", "session_id", "tool_calls", "usage",
"pending_approval", "stopped", "seconds"}` — or, when the payload asks for `stream`,
Server-Sent Events (`agentarch.core.streaming`) as the model writes: AgentCore answers
`text/event-stream` when the entrypoint yields.

The actor, what the session spent so far (its call counts, tokens and seconds) and an approval are
trusted only with IAM inbound auth (the secure patterns), where the chat Lambda is the runtime's only
caller and has verified the user. With JWT inbound auth (patterns 0 and 1) a browser writes the
payload, so the agent ignores all of them: there the per-session caps cannot hold (only the per-turn
ones do). The runtime has validated the caller's access token and hands it on (its
`request_header_allowlist` holds `Authorization`): the agent verifies it again against the user
pool's keys and takes the user and groups from it. No valid token: no principal, and the tool policy
denies every call (fail closed). Even with one, consequential tools stay unavailable there: the
browser, not a trusted caller, writes the history and the approvals they would rely on.
"""

from __future__ import annotations

import gc

# A cold start makes long-lived objects only: no garbage collection while the module loads; they
# are frozen (never scanned again) and collection turns back on at the end of the module.
gc.disable()

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from bedrock_agentcore.runtime import BedrockAgentCoreApp, RequestContext
from bedrock_agentcore.runtime.context import BedrockAgentCoreContext
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import ValidationError
from starlette.responses import JSONResponse

from agentarch.adapters import wiring
from agentarch.adapters.cognito_tokens import (
    JWKS_SUFFIX,
    AccessTokenVerifier,
    TokenRejected,
    issuer_of_discovery_url,
)
from agentarch.agent import telemetry
from agentarch.agent.graph import (
    Caps,
    SessionCalls,
    TextDelta,
    Turn,
    TurnResult,
    build_graph,
    run_turn,
    stream_turn,
)
from agentarch.agent.models import select_model
from agentarch.agent.policy import load_tool_policy
from agentarch.agent.tools import TicketService, WeatherService, build_tools
from agentarch.config import AgentSettings, StorageSettings, cached
from agentarch.core import streaming
from agentarch.core.contracts import AgentInvocation, AgentReply, AuditHead, ToolCall
from agentarch.core.errors import error_body
from agentarch.core.identity import Actor, actor_from_claims
from agentarch.core.sessions import is_runtime_session_id
from agentarch.services.audit import AuditTrail
from agentarch.services.conversations import ConversationIndex
from agentarch.services.locks import LockGate, LockStore
from agentarch.services.memory import MemoryEvents
from agentarch.services.tickets import TicketStore

logger = logging.getLogger("agentarch.agent")

RUNTIME_PORT = 8080  # the AgentCore Runtime service contract


class AgentService:
    """Runs turns of the compiled graph for the runtime's entrypoint.

    With a message store (pattern 3) the agent **reads** the session's last K turns (one Memory
    call) and never writes: the chat Lambda stores the turn once it has the answer, so a turn whose
    caller gave up (timeout, crash) is never stored, and the agent holds no business data.
    Nothing is shared between turns but the compiled graph, which keeps no per-turn state.
    """

    def __init__(
        self,
        settings: AgentSettings,
        memory: MemoryEvents | None = None,
        history_turns: int = 10,
        tickets: TicketStore | None = None,
        audit: AuditTrail | None = None,
        index: ConversationIndex | None = None,
        model: BaseChatModel | None = None,
        locks: LockStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._telemetry = settings.telemetry == "on"
        if self._telemetry:
            telemetry.instrument()  # before the graph is built: its model and tools are traced
        weather = WeatherService(settings.weather_api_url, settings.weather_timeout_seconds)
        self.policy = load_tool_policy(settings.policy_dir)  # PolicyError: the agent does not start
        tools = build_tools(weather, TicketService(tickets))
        self._graph = build_graph(model or select_model(settings), tools, self.policy)
        self._memory = memory
        self._history_turns = history_turns
        self._mode = settings.policy_mode
        self._trust_payload_identity = settings.inbound_auth == "IAM"
        self._tokens = _token_verifier(settings)
        self._turn_token_budget = settings.turn_token_budget
        # Approvals are held by the chat Lambda next to the conversation: only with storage.
        self._approvals_possible = memory is not None
        self._audit = audit
        self._index = index  # where the session's call counts live: counted as calls run
        self._gate = LockGate(locks) if locks is not None else None  # the kill switch
        self._caps = Caps(
            turn_tool_calls=settings.turn_max_tool_calls,
            session_tool_calls=settings.session_max_tool_calls,
            seconds=settings.turn_max_seconds,
            session_tokens=settings.session_max_tokens,
            session_seconds=settings.session_max_seconds,
        )
        self._clock = clock  # the time caps' clock

    def invoke(
        self, request: AgentInvocation, session_id: str, authorization: str | None = None
    ) -> AgentReply:
        """Answer one prompt, in the context of the session's recent turns when there is a store.
        `authorization` is the header the runtime handed on (JWT inbound auth only)."""
        history, turn = self._prepare(request, session_id, authorization)
        with telemetry.turn_attributes(
            session_id, turn.principal.id if turn.principal else None, self._telemetry
        ):
            result = run_turn(self._graph, history, request.prompt, turn)
        return self._reply(result, turn)

    def stream(
        self, request: AgentInvocation, session_id: str, authorization: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The same turn as `invoke`, told as events (`agentarch.core.streaming`) as it happens."""
        history, turn = self._prepare(request, session_id, authorization)
        with telemetry.turn_attributes(
            session_id, turn.principal.id if turn.principal else None, self._telemetry
        ):
            for item in stream_turn(self._graph, history, request.prompt, turn):
                if isinstance(item, TextDelta):
                    yield {"type": streaming.TEXT, "text": item.text}
                elif isinstance(item, ToolCall):
                    yield {
                        "type": streaming.TOOL_CALL,
                        "call": item.model_dump(mode="json", exclude={"output"}),
                    }
                else:
                    yield {"type": streaming.REPLY, "reply": self._reply(item, turn).model_dump(mode="json")}

    def _prepare(
        self, request: AgentInvocation, session_id: str, authorization: str | None
    ) -> tuple[list[BaseMessage], Turn]:
        trusted = self._trust_payload_identity
        actor = request.actor if trusted else self.token_user(authorization)
        caller = actor if trusted else None  # what only a trusted caller's payload may say
        history: list[BaseMessage] = []
        earlier: list[str] = []  # others' words earlier turns read, as their calls recorded them
        if self._memory is not None and caller is not None:
            recent = self._memory.recent_messages(caller.id, session_id, self._history_turns)
            history = [HumanMessage(m.text) if m.role == "user" else AIMessage(m.text) for m in recent]
            earlier = [label for m in recent for call in m.tool_calls for label in call.read]
        turn = Turn(
            principal=actor,
            session_id=session_id,
            session_calls=request.session_calls if caller else {},
            # What the session spent so far is known only from a trusted caller (the chat Lambda, from
            # the conversation index); a browser's payload is not believed (patterns 0 and 1).
            session_tokens=request.session_tokens if caller else 0,
            session_seconds=request.session_seconds if caller else 0.0,
            approval=request.approval if caller else None,
            approvals_possible=self._approvals_possible and trusted,
            consequential_allowed=trusted,
            mode=self._mode,
            audit=self._audit if trusted else None,
            request_id=request.request_id if caller else None,
            token_budget=(request.token_budget if caller else None) or self._turn_token_budget,
            calls=SessionCalls(self._index, caller.id, session_id) if self._index and caller else None,
            gate=self._gate,
            caps=self._caps,
            clock=self._clock,
        )
        turn.provenance.recall(earlier)
        if self._audit is not None and caller is not None:
            self._audit.hand_over(session_id, request.audit_head)  # no Query for the head per record
        return history, turn

    def token_user(self, authorization: str | None) -> Actor | None:
        """The user of a forwarded access token verified against the pool's keys; None when there is
        no verifier, no token, or a token that does not verify (the turn then has no principal)."""
        if self._tokens is None or not authorization:
            return None
        try:
            claims = self._tokens.verify(authorization)
        except TokenRejected as exc:
            logger.warning("forwarded token refused: %s", exc)  # the reason only, never the token
            return None
        return actor_from_claims(claims, authorization)

    def _reply(self, result: TurnResult, turn: Turn) -> AgentReply:
        """The turn's answer, with the session's audit chain head handed back to the chat Lambda."""
        audited = turn.audit is not None and turn.principal is not None
        head = self._audit.known_head(turn.session_id) if self._audit is not None and audited else None
        return AgentReply(
            response=result.response,
            session_id=turn.session_id,
            tool_calls=result.tool_calls,
            usage=result.usage,
            pending_approval=result.pending_approval,
            audit_head=AuditHead(seq=head.seq, hash=head.hash, expires_at=head.expires_at) if head else None,
            stopped=result.stopped,
            seconds=result.seconds,
        )


def _token_verifier(settings: AgentSettings) -> AccessTokenVerifier | None:
    """With JWT inbound auth and the runtime's authorizer configured, a verifier for its tokens."""
    if settings.inbound_auth != "JWT" or not settings.jwt_discovery_url or not settings.jwt_allowed_clients:
        return None
    issuer = issuer_of_discovery_url(settings.jwt_discovery_url)
    return AccessTokenVerifier(
        f"{issuer}{JWKS_SUFFIX}", issuer, settings.jwt_allowed_clients, required_scope=None
    )


def _forwarded_authorization(context: RequestContext) -> str | None:
    """The Authorization header the runtime handed on (its request header allowlist), if any."""
    headers = context.request_headers or {}
    return next((v for k, v in headers.items() if k.lower() == "authorization"), None)


_built: list[AgentService] = []  # the process's one agent, once built


def agent_service() -> AgentService:
    """The process-wide agent, built on first use (settings are read then)."""
    if not _built:
        _built.append(_new_agent_service())
    return _built[0]


def _new_agent_service(model: BaseChatModel | None = None) -> AgentService:
    storage = cached(StorageSettings)
    if not storage.storage_backend:  # pattern 2: no conversations, but a trail when AUDIT_BACKEND names one
        return AgentService(
            cached(AgentSettings),
            audit=wiring.audit_trail(storage),
            model=model,
            locks=wiring.lock_store(storage),
        )
    return AgentService(
        cached(AgentSettings),
        wiring.memory_events(storage),
        storage.history_turns,
        wiring.ticket_store(storage),
        wiring.audit_trail(storage),
        wiring.conversation_index(storage),
        model=model,
        locks=wiring.lock_store(storage),
    )


app = BedrockAgentCoreApp()


@app.entrypoint
def invoke(
    payload: dict[str, Any], context: RequestContext
) -> dict[str, Any] | JSONResponse | Iterator[dict[str, Any]]:
    """AgentCore entrypoint: validate the payload, run one turn in the runtime's session, answer JSON."""
    try:
        request = AgentInvocation.model_validate(payload)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors())
        return _error(400, "invalid_payload", f"invalid invocation payload: {fields}")
    session_id = context.session_id or ""
    if not is_runtime_session_id(session_id):
        return _error(400, "invalid_session", "the runtime session id (33-256 characters) is missing")
    authorization = _forwarded_authorization(context)
    if request.stream:
        return _streamed(request, session_id, authorization)
    try:
        return agent_service().invoke(request, session_id, authorization).model_dump()
    except Exception:
        logger.exception("agent turn failed")
        return _error(500, "agent_error", "the agent failed to answer")


def _streamed(
    request: AgentInvocation, session_id: str, authorization: str | None
) -> Iterator[dict[str, Any]]:
    """The turn's events; a failure mid-stream ends it with an error event (the status is sent already)."""
    try:
        yield from agent_service().stream(request, session_id, authorization)
    except Exception:
        logger.exception("agent turn failed")
        request_id = BedrockAgentCoreContext.get_request_id() or ""
        yield {
            "type": streaming.ERROR,
            "status": 500,
            **error_body("agent_error", "the agent failed to answer", request_id),
        }


def _error(status: int, code: str, message: str) -> JSONResponse:
    """The project's error shape, with the runtime's request id (its header, or one it made)."""
    request_id = BedrockAgentCoreContext.get_request_id() or ""
    return JSONResponse(error_body(code, message, request_id), status_code=status)


def build_agent(model: BaseChatModel | None = None) -> AgentService:
    """Build the process's agent before the first request: settings, tool policy, model, graph.

    `model` replaces the configured one (the local stack's dev-only offline models; in AWS nothing
    passes one). An invalid policy folder stops the agent here, with the file and line. Like the
    module's import, a cold start's work: no garbage collection while its long-lived objects are
    made, then frozen.
    """
    gc.disable()
    try:
        if model is not None and not _built:
            _built.append(_new_agent_service(model))
        return agent_service()
    finally:
        gc.freeze()
        gc.enable()


def serve(host: str, port: int = RUNTIME_PORT) -> None:
    """Serve the agent on an explicit host (127.0.0.1 locally), once it is built."""
    build_agent()
    app.run(port=port, host=host)


def main() -> None:
    """Entry point inside AgentCore Runtime: the service contract is 0.0.0.0:8080."""
    serve(host="0.0.0.0", port=RUNTIME_PORT)  # noqa: S104 - the runtime's microVM routes to this port


gc.freeze()
gc.enable()
