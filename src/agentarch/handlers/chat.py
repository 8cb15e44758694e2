"""Chat Lambda: `POST /api/chat` — validate, establish the actor, call the agent with IAM auth."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from agentarch.adapters import audit_backend, index_backend, memory_backend
from agentarch.adapters.agent_runtime import AgentRuntimeClient, RuntimeTarget
from agentarch.config import (
    MESSAGE_MAX_CHARS,
    ChatSettings,
    HttpSettings,
    StorageSettings,
    cached,
    load,
)
from agentarch.handlers.http import (
    build_resolver,
    configured,
    current_actor,
    documented,
    guarded_resolve,
)
from agentarch.handlers.observability import logger, metrics, tracer
from agentarch.services import chat
from agentarch.services.audit import AuditTrail
from agentarch.services.chat import SESSION_ID_PATTERN, ChatReply, ConversationStore

http_settings = load(HttpSettings)
app = build_resolver(http_settings)


class ChatRequest(BaseModel):
    """A user's message, optionally continuing a session."""

    message: str = Field(
        min_length=1, max_length=MESSAGE_MAX_CHARS, pattern=r"\S", description="not only white space"
    )
    session_id: str | None = Field(default=None, pattern=SESSION_ID_PATTERN)


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
        *(400, 404, 415, 422, 503),
        links={op: "$response.body#/session_id" for op in ("getConversation", "deleteConversation")},
    ),
)
def post_chat(request: Annotated[ChatRequest, Body()]) -> ChatReply:
    """Answer one message; a new session is made when none is given."""
    actor = current_actor(app)
    context = app.lambda_context
    reply = chat.send_message(
        agent_client(),
        actor.id,
        request.session_id,
        request.message,
        conversation_store(),
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        groups=actor.groups,
        audit=audit_trail(),
        request_id=app.current_event.request_context.request_id,
    )
    metrics.add_metric(name="ChatTurns", unit=MetricUnit.Count, value=1)
    logger.info("chat turn answered", extra={"session_id": reply.session_id, "tools": len(reply.tool_calls)})
    return reply


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return guarded_resolve(app, http_settings, event, context)
