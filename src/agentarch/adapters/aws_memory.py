"""`MemoryEvents` on AgentCore Memory (boto3 `bedrock-agentcore`: CreateEvent, ListEvents, DeleteEvent).

One turn is one event with two conversational payloads (USER, then ASSISTANT). The order this
adapter relies on is explained in `agentarch.services.memory`: ListEvents returns events newest
first and pages backwards in time, so the newest K turns are a single call (`maxResults=K`) and a
history page is a single call too. Within a page events are re-sorted by their exact creation time
(kept in event metadata, because `eventTimestamp` may come back at whole-second resolution), so the
result does not depend on how the service breaks ties.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field

from agentarch.adapters.aws_clients import LazyClient
from agentarch.core.contracts import ToolCall
from agentarch.core.pagination import (
    CursorState,
    InvalidCursor,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    scope_of,
)
from agentarch.core.timestamps import ISO_MILLIS_PATTERN, format_iso_millis, parse_iso_millis, to_utc_millis
from agentarch.services.memory import (
    DeleteIncomplete,
    Message,
    check_turn,
    newest_first_to_page,
    tool_call_from_text,
    tool_call_text,
)

MAX_EVENTS_PER_CALL = 100  # ListEvents' maxResults ceiling
# Memory has no batch DeleteEvent: a long conversation is deleted with this many calls in flight, so
# 1,000 turns (1,000 events) take about 1,000 / 16 round trips, a few seconds.
DELETE_WORKERS = 16
AT_METADATA_KEY = "agentarch.at"  # the exact (millisecond) time of the turn
_ROLES = {"USER": "user", "ASSISTANT": "assistant"}


class _MessageCursor(CursorState):
    token: str = Field(min_length=1, max_length=2800)
    events: int = Field(ge=1, le=MAX_EVENTS_PER_CALL)


class AgentCoreMemoryEvents:
    """`MemoryEvents` backed by one AgentCore Memory resource."""

    def __init__(
        self,
        memory_id: str,
        *,
        region: str | None = None,
        client: Any | None = None,
        delete_deadline_seconds: float | None = None,
        delete_workers: int = DELETE_WORKERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._memory_id = memory_id
        self._clients = LazyClient("bedrock-agentcore", region, client)
        self._delete_deadline_seconds = delete_deadline_seconds
        self._delete_workers = max(1, delete_workers)
        self._clock = clock

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def append_turn(
        self,
        actor_id: str,
        session_id: str,
        user_text: str,
        assistant_text: str,
        at: datetime,
        tool_calls: Sequence[ToolCall] = (),
    ) -> None:
        check_turn(user_text, assistant_text)
        # botocore fills `clientToken` (an idempotency token), so its retries cannot duplicate a turn.
        self._client.create_event(
            memoryId=self._memory_id,
            actorId=actor_id,
            sessionId=session_id,
            eventTimestamp=to_utc_millis(at),
            payload=[
                {"conversational": {"role": "USER", "content": {"text": user_text}}},
                *(
                    {"conversational": {"role": "TOOL", "content": {"text": tool_call_text(call)}}}
                    for call in tool_calls
                ),
                {"conversational": {"role": "ASSISTANT", "content": {"text": assistant_text}}},
            ],
            metadata={AT_METADATA_KEY: {"stringValue": format_iso_millis(at)}},
        )

    def recent_messages(self, actor_id: str, session_id: str, turns_k: int) -> list[Message]:
        check_limit(turns_k, MAX_EVENTS_PER_CALL)
        events, _ = self._list_events(actor_id, session_id, turns_k, token=None, payloads=True)
        return list(reversed(_newest_first_messages(events)))

    def list_messages(self, actor_id: str, session_id: str, limit: int, cursor: str | None) -> Page[Message]:
        check_limit(limit)
        scope = scope_of("messages", actor_id, session_id)
        if cursor is None:
            token, events_per_call = None, max(1, limit // 2)  # whole turns: never split an event
        else:
            state = decode_cursor(cursor, _MessageCursor, scope)
            token, events_per_call = state.token, state.events
        events, next_token = self._list_events(
            actor_id, session_id, events_per_call, token=token, payloads=True
        )
        next_cursor = None
        if next_token:
            next_cursor = encode_cursor(_MessageCursor(scope=scope, token=next_token, events=events_per_call))
        return newest_first_to_page(_newest_first_messages(events), next_cursor)

    def delete_session(self, actor_id: str, session_id: str) -> None:
        """Every event of the session, in parallel, before the deadline (`DeleteIncomplete` after it)."""
        deadline = None
        if self._delete_deadline_seconds is not None:
            deadline = self._clock() + self._delete_deadline_seconds
        # Collect first, then delete: deleting while paging could invalidate the page token.
        event_ids: list[str] = []
        token: str | None = None
        while True:
            self._check_deadline(deadline)
            events, token = self._list_events(
                actor_id, session_id, MAX_EVENTS_PER_CALL, token=token, payloads=False
            )
            event_ids.extend(event["eventId"] for event in events)
            if not token:
                break
        if not event_ids:
            return
        # the client is made here, once, before the threads share it (boto3 clients are thread-safe)
        assert self._client is not None
        with ThreadPoolExecutor(max_workers=min(self._delete_workers, len(event_ids))) as pool:
            futures = [
                pool.submit(self._delete_event, actor_id, session_id, event_id, deadline)
                for event_id in event_ids
            ]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in done:
                future.result()  # the first failure, if any, is raised here

    def _check_deadline(self, deadline: float | None) -> None:
        if deadline is not None and self._clock() >= deadline:
            raise DeleteIncomplete("the conversation's history is being deleted; try again")

    def _delete_event(self, actor_id: str, session_id: str, event_id: str, deadline: float | None) -> None:
        self._check_deadline(deadline)
        try:
            self._client.delete_event(
                memoryId=self._memory_id, actorId=actor_id, sessionId=session_id, eventId=event_id
            )
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":  # already gone: a retried delete
                raise

    def _list_events(
        self, actor_id: str, session_id: str, max_results: int, *, token: str | None, payloads: bool
    ) -> tuple[list[dict[str, Any]], str | None]:
        request: dict[str, Any] = {
            "memoryId": self._memory_id,
            "actorId": actor_id,
            "sessionId": session_id,
            "includePayloads": payloads,
            "maxResults": max_results,
        }
        if token is not None:
            request["nextToken"] = token
        try:
            answer = self._client.list_events(**request)
        except ClientError as exc:
            if token is not None and _error_code(exc) in {"ValidationException", "InvalidInputException"}:
                raise InvalidCursor("cursor is no longer valid") from None
            raise
        return list(answer.get("events", [])), answer.get("nextToken") or None


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _event_time(event: dict[str, Any]) -> str:
    """The exact time we wrote (metadata), else the service's whole-second timestamp."""
    exact = event.get("metadata", {}).get(AT_METADATA_KEY, {}).get("stringValue")
    if isinstance(exact, str) and ISO_MILLIS_PATTERN.fullmatch(exact):
        return exact
    stamp = event.get("eventTimestamp")
    return format_iso_millis(stamp) if isinstance(stamp, datetime) else ""


def _newest_first_messages(events: list[dict[str, Any]]) -> list[Message]:
    """Conversational USER/ASSISTANT payloads of a page, newest message first; the TOOL payloads of a
    turn ride on its answer.

    Events are ordered by (exact time, eventId) here rather than trusted as received, so ties
    inside one second come out in the order they were written; other payloads (blob) are skipped.
    """
    messages: list[Message] = []
    timed = [(_event_time(event), str(event.get("eventId", "")), event) for event in events]
    for stamp, _, event in sorted(timed, key=lambda entry: entry[:2], reverse=True):
        if not stamp:
            continue
        created_at = parse_iso_millis(stamp)
        in_order: list[Message] = []
        tools: list[ToolCall] = []
        for item in event.get("payload", []):
            conversational = item.get("conversational") or {}
            role, text = conversational.get("role"), conversational.get("content", {}).get("text", "")
            if role == "TOOL" and (call := tool_call_from_text(text)) is not None:
                tools.append(call)
            elif role in _ROLES:
                calls = tuple(tools) if role == "ASSISTANT" else ()
                tools = [] if role == "ASSISTANT" else tools
                in_order.append(
                    Message(role=_ROLES[role], text=text, created_at=created_at, tool_calls=calls)
                )
        messages.extend(reversed(in_order))
    return messages
