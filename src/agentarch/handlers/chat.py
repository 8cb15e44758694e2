# ruff: noqa: E402
"""Chat Lambda: `POST /api/chat` — validate, establish the actor, check the caller's quota, call the
agent with IAM auth (once per `Idempotency-Key`); `GET /api/usage` — the caller's quota."""

from __future__ import annotations

import gc

# A cold start makes long-lived objects only: no garbage collection while the module loads; they
# are frozen (never scanned again) and collection turns back on at the end of the module.
gc.disable()

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentarch.adapters import wiring
from agentarch.adapters.agent_runtime import AgentRuntimeClient, RuntimeTarget
from agentarch.config import (
    MESSAGE_MAX_CHARS,
    ChatSettings,
    GovernanceSettings,
    HttpSettings,
    SettingsError,
    StorageSettings,
    cached,
    load,
)
from agentarch.core.contracts import ApprovalAnswer
from agentarch.core.sessions import SESSION_ID_PATTERN, new_session_id
from agentarch.core.timestamps import utc_now

if TYPE_CHECKING:  # imported when the trail is first used, not at cold start
    from agentarch.services.audit import AuditTrail
from agentarch.handlers.http import (
    Misconfigured,
    build_resolver,
    configured,
    current_actor,
    documented,
    guarded_resolve,
)
from agentarch.handlers.observability import logger, metrics, tracer
from agentarch.services import chat, quotas
from agentarch.services.chat import ChatReply, ConversationStore, Next, Step, TurnRequest
from agentarch.services.locks import LockGate
from agentarch.services.quotas import QuotaPolicy, QuotaStore, UsageReport

http_settings = load(HttpSettings)
app = build_resolver(http_settings)


class ChatRequest(BaseModel):
    """A user's message, optionally continuing a session — or the user's answer to a waiting tool call."""

    # What `_message_or_approval` enforces, said in the document too: exactly one of the two shapes.
    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["message"]}, {"required": ["approval", "session_id"]}]}
    )

    message: str | None = Field(
        default=None,
        min_length=1,
        max_length=MESSAGE_MAX_CHARS,
        pattern=r"\S",
        description="not only white space",
    )
    session_id: str | None = Field(default=None, pattern=SESSION_ID_PATTERN.pattern)
    approval: ApprovalAnswer | None = Field(
        default=None, description="approve or reject the call waiting in `session_id` (instead of a message)"
    )

    @model_validator(mode="after")
    def _message_or_approval(self) -> ChatRequest:
        if (self.message is None) == (self.approval is None):
            raise ValueError("send either a message or an approval")
        if self.approval is not None and self.session_id is None:
            raise ValueError("an approval needs the session_id of the conversation it belongs to")
        return self


@lru_cache(maxsize=1)
def agent_client() -> AgentRuntimeClient:
    """The runtime client, built once per execution environment."""
    with configured("chat"):
        settings = cached(ChatSettings)
    return AgentRuntimeClient(
        RuntimeTarget(
            runtime_arn=settings.agent_runtime_arn,
            qualifier=settings.agent_runtime_qualifier,
            region=settings.aws_region,
            endpoint_url=settings.agentcore_endpoint_url,
            connect_timeout_seconds=settings.agent_connect_timeout_seconds,
            read_timeout_seconds=settings.agent_read_timeout_seconds,
            max_attempts=settings.agent_max_attempts,
            total_timeout_seconds=settings.agent_total_timeout_seconds,
        )
    )


@lru_cache(maxsize=1)
def conversation_store() -> ConversationStore | None:
    """The conversation index and Memory when storage is configured (pattern 3), else None (pattern 2)."""
    with configured("chat"):
        settings = cached(StorageSettings)
        if not settings.storage_backend:
            return None
        return ConversationStore(wiring.conversation_index(settings), wiring.memory_events(settings))


# Where a streamed turn's events go: set by `agentarch.handlers.chat_stream` for an event whose client
# asked for `text/event-stream`, None otherwise (the JSON answer). One event at a time per environment.
turn_events: ContextVar[Callable[[dict[str, Any]], None] | None] = ContextVar("turn_events", default=None)

# Letters, digits and `-_.:` (a UUID, a ULID, a hash), 8 to 128 of them.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"
# Same key, same body: the first answer for this long; Powertools keys the record by function and
# by the data `event_key_jmespath` picks, the actor included, so one user's key never answers another.
idempotency_config = IdempotencyConfig(
    event_key_jmespath="[actor, key]",
    payload_validation_jmespath="request",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)


@dataclass(frozen=True)
class Governance:
    """The quota counters, the limits per group, and where idempotency records live."""

    quotas: QuotaStore
    policy: QuotaPolicy
    idempotency: BasePersistenceLayer
    turn_token_budget: int
    turn_output_max_chars: int = 20_000


@lru_cache(maxsize=1)
def governance() -> Governance | None:
    """Quotas and idempotency when `GOVERNANCE_BACKEND` is set (always, in Terraform and locally)."""
    with configured("chat"):
        settings = cached(GovernanceSettings)
        if not settings.governance_backend:
            return None
        return Governance(
            wiring.quota_store(settings),
            settings.chat_quotas,
            wiring.idempotency_store(settings),
            settings.turn_token_budget,
            settings.turn_output_max_chars,
        )


@lru_cache(maxsize=1)
def audit_trail() -> AuditTrail | None:
    """The audit trail the turn records go to (patterns 2 and 3)."""
    with configured("chat"):
        return wiring.audit_trail(cached(StorageSettings))


@app.post(
    "/api/chat",
    summary="Send a message to the agent",
    operation_id="sendMessage",
    responses=documented(
        200,
        "the agent's answer, in the session it belongs to",
        *(400, 403, 404, 409, 415, 422, 429, 503),
        links={op: "$response.body#/session_id" for op in ("getConversation", "deleteConversation")},
    ),
)
def post_chat(
    request: Annotated[ChatRequest, Body()],
    idempotency_key: Annotated[  # a string, not nullable: a header is absent or has a value
        str,
        Header(
            alias="idempotency-key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="one per message, kept across retries of it: a retry answers the first answer "
            "without running the agent again (8-128 letters, digits or -_.:)",
        ),
    ] = "",
) -> ChatReply:
    """Answer one message; a new session is made when none is given.

    Within the caller's daily quota only (429 `quota_exceeded` otherwise, before the agent runs), and
    only while no administrator's lock covers the caller or the session (403 `locked`).
    With `Accept: text/event-stream` the answer streams as Server-Sent Events (`agentarch.handlers.
    chat_stream`): text as the model writes it, each tool call, then the same reply in a `done` event.
    """
    context = app.lambda_context
    events, guard = turn_events.get(), governance()
    turn = TurnRequest(
        actor=current_actor(app),
        session_id=request.session_id or new_session_id(),
        message=request.message or "",
        approval=request.approval,
        request_id=app.current_event.request_context.request_id,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        events=events,
        output_cap=guard.turn_output_max_chars if events is not None and guard is not None else None,
    )
    answer = chat.pipeline(
        *steps(request, idempotency_key), turn=chat.Answer(agent_client(), conversation_store())
    )
    reply = answer(turn)
    metrics.add_metric(name="ChatTurns", unit=MetricUnit.Count, value=1)
    logger.info("chat turn answered", extra={"session_id": reply.session_id, "tools": len(reply.tool_calls)})
    return reply


def steps(request: ChatRequest, idempotency_key: str) -> list[Step]:
    """The chat route's steps, in order: idempotency → quota → audit (the turn runs inside them)."""
    found: list[Step] = []
    guard = governance()
    if guard is not None:
        if idempotency_key:  # absent: no idempotency (a present one is validated: 8-128 characters)
            found.append(Once(guard.idempotency, idempotency_key, request))
        found.append(chat.Metered(guard.quotas, guard.policy, guard.turn_token_budget, uncharged=_uncharged))
    trail = audit_trail()
    if trail is not None:
        found.append(chat.Audited(trail))
    gate = lock_gate()
    if gate is not None:  # after the audit step: a refused turn is recorded (`locked`)
        found.append(chat.Unlocked(gate))
    return found


@lru_cache(maxsize=1)
def lock_gate() -> LockGate | None:
    """The kill switch's gate: read before a new turn (beside the audit trail, patterns 2 and 3)."""
    with configured("chat"):
        store = wiring.lock_store(cached(StorageSettings))
    return LockGate(store) if store is not None else None


def _uncharged(tokens: int) -> None:
    logger.warning("turn answered but its tokens not charged", extra={"tokens": tokens})
    metrics.add_metric(name="QuotaChargeFailures", unit=MetricUnit.Count, value=1)


@dataclass(frozen=True)
class Once:
    """The idempotency step: with the same key and body, the first answer, without running anything again.

    Powertools keys the record by function and by what `event_key_jmespath` picks, the actor
    included, so one user's key never answers another's request.
    """

    store: BasePersistenceLayer
    key: str
    body: ChatRequest

    def __call__(self, request: TurnRequest, inner: Next) -> ChatReply:
        idempotency_config.register_lambda_context(app.lambda_context)
        scope = {"actor": request.actor.id, "key": self.key, "request": self.body.model_dump(mode="json")}
        return ChatReply.model_validate(_once(self.store)(scope=scope, turn=lambda: inner(request)))


@lru_cache(maxsize=1)
def _once(store: BasePersistenceLayer) -> Callable[..., dict[str, Any]]:
    @idempotent_function(data_keyword_argument="scope", persistence_store=store, config=idempotency_config)
    def run_once(*, scope: dict[str, Any], turn: Callable[[], ChatReply]) -> dict[str, Any]:
        return turn().model_dump(mode="json")

    once: Callable[..., dict[str, Any]] = run_once
    return once


@app.get(
    "/api/usage",
    summary="The caller's daily quota: limits, usage, and when it resets",
    operation_id="getUsage",
    responses=documented(200, "the caller's limits, what is used and left today, and the reset time", 503),
)
def get_usage() -> UsageReport:
    """What the caller may still spend today (UTC) and when the counters reset."""
    actor = current_actor(app)
    guard = governance()
    if guard is None:
        raise Misconfigured("quotas are not configured")
    return quotas.report(guard.quotas, guard.policy, actor.id, actor.groups, utc_now())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return guarded_resolve(app, http_settings, event, context)


def _warm() -> None:
    """Lambda's init phase: build the runtime client (most of a first request's work) while the module
    loads, with nothing collected. Unconfigured, the first request answers 500 `misconfigured` instead."""
    try:
        cached(ChatSettings)
    except SettingsError:
        return
    agent_client()


_warm()
gc.freeze()
gc.enable()
