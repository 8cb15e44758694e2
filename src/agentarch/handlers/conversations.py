# ruff: noqa: E402
"""Conversations Lambda: list, read and delete the caller's conversations (pattern 3).

Another actor's session answers 404 exactly like a session that does not exist.
"""

from __future__ import annotations

import gc

# A cold start makes long-lived objects only: no garbage collection while the module loads; they
# are frozen (never scanned again) and collection turns back on at the end of the module.
gc.disable()

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from agentarch.adapters import wiring
from agentarch.config import HttpSettings, StorageSettings, cached, load
from agentarch.core.contracts import PendingApproval, ToolCall
from agentarch.core.pagination import MAX_CURSOR_CHARS, MAX_PAGE_SIZE
from agentarch.core.sessions import SESSION_ID_PATTERN
from agentarch.core.timestamps import utc_now
from agentarch.handlers.http import build_resolver, configured, current_actor, documented, guarded_resolve
from agentarch.handlers.observability import logger, metrics, tracer
from agentarch.services import conversations
from agentarch.services.conversations import Conversation, ConversationIndex
from agentarch.services.memory import MemoryEvents, Message

SCHEDULE_SOURCE = "aws.events"  # EventBridge's scheduled events: the sweep of deleted conversations
http_settings = load(HttpSettings)
app = build_resolver(http_settings)


class ConversationSummary(BaseModel):
    """A conversation as the sidebar shows it."""

    session_id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int


class ConversationPage(BaseModel):
    """A page of conversations, newest activity first; `next_cursor` is null on the last page."""

    items: list[ConversationSummary]
    next_cursor: str | None


class MessageOut(BaseModel):
    """One message of a conversation; an answer lists the tools it used, as the chat reply did."""

    role: str
    text: str
    created_at: str
    tool_calls: list[ToolCall] = []


class HistoryPage(BaseModel):
    """A page of one conversation: the newest page first, oldest message first inside a page."""

    session_id: str
    title: str
    messages: list[MessageOut]
    next_cursor: str | None
    pending_approval: PendingApproval | None = Field(
        None, description="a tool call that still waits for the user's approve or reject"
    )


@lru_cache(maxsize=1)
def storage() -> tuple[ConversationIndex, MemoryEvents]:
    """The conversation index and the message store, built once per execution environment."""
    with configured("conversations"):
        settings = cached(StorageSettings)
        return wiring.conversation_index(settings), wiring.memory_events(settings)


def _summary(conversation: Conversation) -> ConversationSummary:
    return ConversationSummary(
        session_id=conversation.session_id,
        title=conversation.title,
        created_at=conversation.created_at.isoformat(),
        updated_at=conversation.updated_at.isoformat(),
        message_count=conversation.message_count,
    )


def _message(message: Message) -> MessageOut:
    return MessageOut(
        role=message.role,
        text=message.text,
        created_at=message.created_at.isoformat(),
        tool_calls=list(message.tool_calls),
    )


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_CHARS,
        description="opaque: only the `next_cursor` of the previous page of the same listing, unchanged",
    ),
]
SessionId = Annotated[
    str,
    Path(pattern=SESSION_ID_PATTERN.pattern, description="the conversation's session id (33–100 characters)"),
]


@app.get(
    "/api/conversations",
    summary="List my conversations, newest activity first",
    operation_id="listConversations",
    responses=documented(200, "a page of your conversations", 422, 503),
)
def list_conversations(limit: Limit = 20, cursor: Cursor = None) -> ConversationPage:
    """A page of the caller's conversations and the cursor of the next one."""
    actor = current_actor(app)
    index, _ = storage()
    page = conversations.list_conversations(index, actor.id, limit, cursor)
    return ConversationPage(items=[_summary(c) for c in page.items], next_cursor=page.next_cursor)


@app.get(
    "/api/conversations/<session_id>",
    summary="Read one of my conversations",
    operation_id="getConversation",
    responses=documented(200, "a page of the conversation's messages", 404, 422, 503),
)
def get_conversation(session_id: SessionId, limit: Limit = 50, cursor: Cursor = None) -> HistoryPage:
    """A page of the conversation's messages (newest page first, chronological inside a page)."""
    actor = current_actor(app)
    index, memory = storage()
    conversation, page = conversations.conversation_history(
        index, memory, actor.id, session_id, limit, cursor
    )
    return HistoryPage(
        session_id=conversation.session_id,
        title=conversation.title,
        messages=[_message(m) for m in page.items],
        next_cursor=page.next_cursor,
        pending_approval=conversation.pending_approval,
    )


@app.delete(
    "/api/conversations/<session_id>",
    summary="Delete one of my conversations and its history",
    operation_id="deleteConversation",
    status_code=204,
    responses=documented(204, "deleted, with its history", 404, 422, 503),
)
def delete_conversation(session_id: SessionId) -> Response[Any]:
    """Remove the Memory events, then the index item."""
    actor = current_actor(app)
    index, memory = storage()
    conversations.delete_conversation(index, memory, actor.id, session_id, utc_now())
    logger.info("conversation deleted", extra={"session_id": session_id})
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point: API Gateway's requests, and EventBridge's schedule for the sweep."""
    # Only EventBridge invokes with this source; an API Gateway event never carries it.
    if event.get("source") == SCHEDULE_SOURCE:
        index, memory = storage()
        swept = conversations.sweep_deleted(index, memory, utc_now())
        logger.info("deleted conversations swept", extra={"swept": swept})
        return {"swept": swept}
    return guarded_resolve(app, http_settings, event, context)


gc.freeze()
gc.enable()
