"""The conversation's messages, stored as conversational events (AgentCore Memory on AWS).

One turn is **one event** carrying two conversational payloads, USER then ASSISTANT, so a turn can
never be half-written or split across pages, and the agent's storage path costs a constant two
Memory calls per turn however long the conversation grows: one `recent_messages` (a single
ListEvents) and one `append_turn` (a single CreateEvent).

Ordering, which every adapter reproduces:

- AgentCore Memory's ListEvents returns a session's events **newest first** and paginates
  backwards in time with `nextToken`; it has no sort parameter and its filter only selects by
  branch or event metadata. (The service reference does not state the order; the AgentCore SDK
  does: its Strands session manager reads the current agent state as `events[0]` of a
  `maxResults=1` listing, its converter walks `reversed(events)` to rebuild chronological order,
  and aws/bedrock-agentcore-sdk-python PRs #29, #97 and #552 fix `get_last_k_turns`, each stating
  that ListEvents returns events newest first.) Payloads inside one event keep the order they were
  written in. moto 5.2.5 differs (oldest first, never a `nextToken`): the contract tests patch it
  to behave like the service, see agentarch/dev/testing/aws.py.
- `eventTimestamp` has been observed at whole-second resolution (older botocore sent whole
  seconds; aws/bedrock-agentcore-sdk-python issue #63), so two events may tie; adapters carry the
  exact millisecond time in event metadata and order by it within a page.
- So `recent_messages(k)` asks for the newest `k` events in one call and reverses them, and
  `list_messages` pages the same way a chat window scrolls: the **first page holds the newest
  messages**, each `next_cursor` leads to the older ones, and the items *inside* every page are in
  chronological order. Reading pages until `next_cursor` is None and prepending each page yields
  the complete history, oldest first. Asking for the oldest page first would cost a walk over the
  whole session per page on AWS; this order costs one ListEvents call per page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, field_validator

from agentarch.core.contracts import ToolCall
from agentarch.core.pagination import Page
from agentarch.core.timestamps import to_utc_millis

Role = Literal["user", "assistant"]
MESSAGE_TEXT_MAX_CHARS = 100_000  # AgentCore Memory's limit per conversational payload


class InvalidMessage(ValueError):
    """A message that cannot be stored (empty, or longer than Memory accepts)."""


class DeleteIncomplete(TimeoutError):
    """Not every message was removed before the delete's deadline.

    What was removed stays removed; the conversation stays listed, and a retried delete continues
    with what is left.
    """


class Message(BaseModel):
    """One message of a conversation as the user saw it (an answer keeps the tools it used)."""

    model_config = ConfigDict(frozen=True)

    role: Role
    text: str
    created_at: datetime
    tool_calls: tuple[ToolCall, ...] = ()

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return to_utc_millis(value)


class MemoryEvents(Protocol):
    """Port: a session's messages. Callers have already checked that the actor owns the session."""

    def append_turn(
        self,
        actor_id: str,
        session_id: str,
        user_text: str,
        assistant_text: str,
        at: datetime,
        tool_calls: Sequence[ToolCall] = (),
    ) -> None:
        """Store one turn (the user's message, the tools used, the answer) atomically, as one event."""
        ...

    def recent_messages(self, actor_id: str, session_id: str, turns_k: int) -> list[Message]:
        """The last `turns_k` turns (2 * turns_k messages at most), oldest first, in one read."""
        ...

    def list_messages(self, actor_id: str, session_id: str, limit: int, cursor: str | None) -> Page[Message]:
        """A page of messages: newest page first, chronological inside the page.

        At most `limit` messages, except that an adapter storing whole turns (AgentCore) never splits
        one, so `limit=1` may give the two messages of a turn.

        Raises `InvalidCursor` for a cursor this listing did not issue, `InvalidLimit` for a bad limit.
        """
        ...

    def delete_session(self, actor_id: str, session_id: str) -> None:
        """Remove every message of the session; deleting an empty or unknown session is a no-op."""
        ...


def check_turn(user_text: str, assistant_text: str) -> None:
    """Both texts must be storable everywhere: non-empty and within Memory's size limit."""
    for text in (user_text, assistant_text):
        if not text or len(text) > MESSAGE_TEXT_MAX_CHARS:
            raise InvalidMessage(f"message text must be 1..{MESSAGE_TEXT_MAX_CHARS} characters")


def tool_call_text(call: ToolCall) -> str:
    """One tool call as stored text (a TOOL payload in Memory), cut to what a payload may hold."""
    text = call.model_dump_json()
    if len(text) <= MESSAGE_TEXT_MAX_CHARS:
        return text
    room = MESSAGE_TEXT_MAX_CHARS - len(call.model_copy(update={"output": ""}).model_dump_json()) - 16
    return call.model_copy(update={"output": call.output[: max(0, room)] + "…"}).model_dump_json()


def tool_call_from_text(text: str) -> ToolCall | None:
    """A stored tool call, or None for a payload that is not one (written by something else)."""
    try:
        return ToolCall.model_validate_json(text)
    except ValueError:
        return None


def newest_first_to_page(newest_first: list[Message], next_cursor: str | None) -> Page[Message]:
    """Turn a newest-first run of messages into a page whose items read oldest first."""
    return Page[Message](items=list(reversed(newest_first)), next_cursor=next_cursor)
