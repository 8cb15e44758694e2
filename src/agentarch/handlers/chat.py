"""Chat Lambda: `POST /api/chat` — validate, establish the actor, check the caller's quota, call the
agent with IAM auth (once per `Idempotency-Key`); `GET /api/usage` — the caller's quota."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, model_validator

from agentarch.adapters import audit_backend, governance_backend, index_backend, memory_backend
from agentarch.adapters.agent_runtime import AgentRuntimeClient, RuntimeTarget
from agentarch.config import (
    MESSAGE_MAX_CHARS,
    ChatSettings,
    GovernanceSettings,
    HttpSettings,
    StorageSettings,
    cached,
    load,
)
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
from agentarch.services.audit import AuditTrail
from agentarch.services.chat import SESSION_ID_PATTERN, ApprovalAnswer, ChatReply, ConversationStore
from agentarch.services.quotas import QuotaPolicy, QuotaStore, UsageReport
from agentarch.services.timestamps import utc_now

http_settings = load(HttpSettings)
app = build_resolver(http_settings)


class ChatRequest(BaseModel):
    """A user's message, optionally continuing a session — or the user's answer to a waiting tool call."""

    message: str | None = Field(
        default=None,
        min_length=1,
        max_length=MESSAGE_MAX_CHARS,
        pattern=r"\S",
        description="not only white space",
    )
    session_id: str | None = Field(default=None, pattern=SESSION_ID_PATTERN)
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
        return ConversationStore(
            index_backend.conversation_index(settings), memory_backend.memory_events(settings)
        )


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


@lru_cache(maxsize=1)
def governance() -> Governance | None:
    """Quotas and idempotency when `GOVERNANCE_BACKEND` is set (always, in Terraform and locally)."""
    with configured("chat"):
        settings = cached(GovernanceSettings)
        if not settings.governance_backend:
            return None
        return Governance(
            governance_backend.quota_store(settings),
            settings.chat_quotas,
            governance_backend.idempotency_store(settings),
        )


@lru_cache(maxsize=1)
def _once(store: BasePersistenceLayer) -> Callable[..., dict[str, Any]]:
    @idempotent_function(data_keyword_argument="scope", persistence_store=store, config=idempotency_config)
    def run_once(*, scope: dict[str, Any], turn: Callable[[], ChatReply]) -> dict[str, Any]:
        return turn().model_dump(mode="json")

    once: Callable[..., dict[str, Any]] = run_once
    return once


@lru_cache(maxsize=1)
def audit_trail() -> AuditTrail | None:
    """The audit trail the turn records go to, when the pattern has storage (pattern 3)."""
    with configured("chat"):
        return audit_backend.audit_trail(cached(StorageSettings))


@app.post(
    "/api/chat",
    summary="Send a message to the agent",
    operation_id="sendMessage",
    responses=documented(
        200,
        "the agent's answer, in the session it belongs to",
        *(400, 404, 409, 415, 422, 429, 503),
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

    Within the caller's daily quota only (429 `quota_exceeded` otherwise, before the agent runs).
    """
    actor = current_actor(app)
    context = app.lambda_context
    guard = governance()

    def answer() -> ChatReply:
        return chat.send_message(
            agent_client(),
            actor.id,
            request.session_id,
            request.message or "",
            conversation_store(),
            seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
            groups=actor.groups,
            approval=request.approval,
            audit=audit_trail(),
            request_id=app.current_event.request_context.request_id,
        )

    if guard is None:
        reply = answer()
    else:

        def counted() -> tuple[ChatReply, int]:
            turn = answer()
            return turn, turn.usage.input_tokens + turn.usage.output_tokens

        def uncharged(tokens: int) -> None:
            logger.warning("turn answered but its tokens not charged", extra={"tokens": tokens})
            metrics.add_metric(name="QuotaChargeFailures", unit=MetricUnit.Count, value=1)

        def metered() -> ChatReply:
            return quotas.metered(
                guard.quotas, guard.policy, actor.id, actor.groups, utc_now, counted, uncharged
            )

        if not idempotency_key:  # absent (a present one is validated: 8-128 characters)
            reply = metered()
        else:
            idempotency_config.register_lambda_context(context)
            scope = {"actor": actor.id, "key": idempotency_key, "request": request.model_dump(mode="json")}
            reply = ChatReply.model_validate(_once(guard.idempotency)(scope=scope, turn=metered))
    metrics.add_metric(name="ChatTurns", unit=MetricUnit.Count, value=1)
    logger.info("chat turn answered", extra={"session_id": reply.session_id, "tools": len(reply.tool_calls)})
    return reply


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
