"""Conversations: who owns which session, its title, and its activity; the index the Lambdas keep.

The chat Lambda owns this index (the agent never writes it). A session id is claimed by its first
message with a conditional write; from then on it belongs to that actor, and to everyone else it
does not exist: reading, continuing or deleting another actor's session raises
`ConversationNotFound`, exactly like a session id nobody ever used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentarch.core.contracts import PendingApproval
from agentarch.core.identity import check_actor_id
from agentarch.core.pagination import CursorState, Page, check_limit, decode_cursor, encode_cursor, scope_of
from agentarch.core.sessions import SESSION_ID_PATTERN, check_session_id
from agentarch.core.timestamps import ISO_MILLIS_PATTERN, format_iso_millis, to_utc_millis
from agentarch.services.memory import MemoryEvents, Message

TITLE_MAX_CHARS = 60
UNTITLED = "New conversation"
MESSAGES_PER_TURN = 2


class ConversationNotFound(LookupError):
    """No such conversation for this actor (it may not exist, belong to someone else, or be deleted)."""


class ConversationDeleted(ConversationNotFound):
    """The conversation was deleted while this turn ran: what the turn wrote is removed again.

    The turn still used the model: its tokens are charged (`tokens_used`), as a finished turn's are.
    """

    def __init__(self, session_id: str, tokens_used: int) -> None:
        super().__init__(session_id)
        self.tokens_used = tokens_used


class ApprovalNotPending(LookupError):
    """No call of this conversation waits for this approval (unknown, someone else's, decided, or stale)."""


class Conversation(BaseModel):
    """One conversation in an actor's list."""

    model_config = ConfigDict(frozen=True)

    actor_id: str
    session_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int = Field(ge=0)
    # Tool calls that ran in this conversation, per tool: what session-count policies read.
    tool_counts: dict[str, int] = Field(default_factory=dict)
    # What the session's recorded turns spent, for the per-session caps (SESSION_MAX_TOKENS,
    # SESSION_MAX_SECONDS): model tokens, and the agent's wall time, every turn together.
    token_total: int = Field(0, ge=0)
    agent_seconds: float = Field(0.0, ge=0)
    pending_approval: PendingApproval | None = None

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return to_utc_millis(value)


class ListingCursor(CursorState):
    """Where a conversation listing stopped: keyset (updated_at, session_id), newest first."""

    updated_at: str = Field(pattern=ISO_MILLIS_PATTERN.pattern)
    session_id: str = Field(pattern=SESSION_ID_PATTERN.pattern)


def listing_scope(actor_id: str) -> str:
    """The scope that ties a listing cursor to one actor's listing."""
    return scope_of("conversations", actor_id)


def decode_listing_cursor(cursor: str, actor_id: str) -> ListingCursor:
    """The keyset a cursor of this actor's listing carries, or `InvalidCursor`."""
    return decode_cursor(cursor, ListingCursor, listing_scope(actor_id))


def listing_page(
    actor_id: str, fetched: list[Conversation], limit: int, more: bool = False
) -> Page[Conversation]:
    """A page from up to `limit + 1` fetched conversations; the extra one (or `more`) means a next page."""
    items = fetched[:limit]
    if not items or not (more or len(fetched) > limit):
        return Page[Conversation](items=items, next_cursor=None)
    last = items[-1]
    cursor = ListingCursor(
        scope=listing_scope(actor_id),
        updated_at=format_iso_millis(last.updated_at),
        session_id=last.session_id,
    )
    return Page[Conversation](items=items, next_cursor=encode_cursor(cursor))


class ConversationIndex(Protocol):
    """Port: the per-actor conversation index (DynamoDB on AWS, SQLite locally)."""

    def create_if_absent(self, conversation: Conversation) -> Conversation:
        """Store `conversation` unless its session id exists; return what is stored now.

        Raises `ConversationNotFound` when the session id belongs to another actor (nothing changes).
        """
        ...

    def get(self, actor_id: str, session_id: str) -> Conversation:
        """The actor's conversation, or `ConversationNotFound`."""
        ...

    def record_turn(
        self,
        actor_id: str,
        session_id: str,
        messages_added: int,
        at: datetime,
        tools_run: Mapping[str, int] | None = None,
        pending: PendingApproval | None = None,
        *,
        tokens: int = 0,
        seconds: float = 0.0,
    ) -> Conversation:
        """Count the turn's messages, tool calls, model tokens and agent seconds, set `updated_at`, and
        replace the pending approval — all in one write, so nothing is half-recorded.

        `ConversationNotFound` if not the actor's. A turn that leaves no call waiting clears the one
        an earlier turn left: an approval is for the turn that asked for it.
        """
        ...

    def take_approval(
        self, actor_id: str, session_id: str, approval_id: str, not_before: datetime
    ) -> PendingApproval:
        """Atomically remove and return the pending approval with this id, requested at or after
        `not_before`; `ApprovalNotPending` otherwise — so an approval is used once, by its actor only.
        """
        ...

    def list_page(self, actor_id: str, limit: int, cursor: str | None) -> Page[Conversation]:
        """Newest activity first; follow `next_cursor` to reach every conversation exactly once.

        Raises `InvalidCursor` for a cursor this listing did not issue.
        """
        ...

    def delete(self, actor_id: str, session_id: str, *, only_if_empty: bool = False) -> None:
        """Forget a claim whose first turn failed: remove the item if it has no messages (else keep it,
        no error); `ConversationNotFound` if not the actor's. A tombstone is never removed."""
        ...

    def tombstone(self, actor_id: str, session_id: str, at: datetime) -> None:
        """Mark the conversation deleted, for its owner and for everyone: from now on it is not listed,
        read, continued, claimed or approved in, and a turn in flight cannot record itself. Its title,
        counts and pending approval are dropped; the session id stays owned, so nobody can take it.

        `ConversationNotFound` if not the actor's, or deleted and purged already. Marking a tombstone
        whose purge did not finish again is allowed: the delete goes on.
        """
        ...

    def count_call(self, actor_id: str, session_id: str, tool: str, seen: int) -> bool:
        """Count one call of `tool` that is about to run, if the session's count is still `seen`
        (compare and set): False, counting nothing, when another call was counted meanwhile — the
        caller reads the counts again and decides again. `ConversationNotFound` if deleted."""
        ...

    def mark_purged(self, actor_id: str, session_id: str) -> None:
        """Every message of a tombstoned conversation is gone: a later delete answers not found."""
        ...

    def tombstones_to_sweep(self, deleted_before: datetime, limit: int) -> list[tuple[str, str]]:
        """(actor, session) of tombstones made before the time and not swept yet, oldest first."""
        ...

    def mark_swept(self, actor_id: str, session_id: str) -> None:
        """The sweep went over this tombstone: nothing can be left behind it now."""
        ...


def derive_title(first_message: str) -> str:
    """A title from the first message, with no model call.

    The first non-blank line, whitespace collapsed, cut to at most 60 characters on a word boundary
    with a trailing ellipsis when it had to be cut. Deterministic: the same message, the same title.
    """
    line = next((" ".join(part.split()) for part in first_message.splitlines() if part.strip()), "")
    if not line:
        return UNTITLED
    if len(line) <= TITLE_MAX_CHARS:
        return line
    room = TITLE_MAX_CHARS - 1  # keep one character for the ellipsis
    cut = line[:room]
    if line[room] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    cut = cut.rstrip(" ,;:.-")
    return (cut or line[:room]) + "…"


def start_or_resume(
    index: ConversationIndex, actor_id: str, session_id: str, first_message: str, now: datetime
) -> Conversation:
    """Claim the session for the actor on its first message, or return the actor's existing one.

    A session id held by another actor raises `ConversationNotFound`, with no hint that it exists.
    A new conversation has `message_count == 0` until `record_turn` runs after a successful turn.
    """
    conversation = Conversation(
        actor_id=check_actor_id(actor_id),
        session_id=check_session_id(session_id),
        title=derive_title(first_message),
        created_at=now,
        updated_at=now,
        message_count=0,
    )
    return index.create_if_absent(conversation)


def record_turn(
    index: ConversationIndex,
    actor_id: str,
    session_id: str,
    now: datetime,
    tools_run: Mapping[str, int] | None = None,
    pending: PendingApproval | None = None,
    *,
    tokens: int = 0,
    seconds: float = 0.0,
) -> Conversation:
    """After a successful turn: two more messages, the tools that ran, the model tokens and agent
    seconds it spent, newer activity, the pending call."""
    return index.record_turn(
        check_actor_id(actor_id),
        check_session_id(session_id),
        MESSAGES_PER_TURN,
        now,
        tools_run,
        pending,
        tokens=max(tokens, 0),
        seconds=max(seconds, 0.0),
    )


def forget_unused(index: ConversationIndex, actor_id: str, session_id: str) -> None:
    """After a failed first turn: drop the claim if no turn was ever recorded (else leave it be)."""
    with contextlib.suppress(ConversationNotFound):
        index.delete(check_actor_id(actor_id), check_session_id(session_id), only_if_empty=True)


def get_conversation(index: ConversationIndex, actor_id: str, session_id: str) -> Conversation:
    """The actor's conversation or `ConversationNotFound` (the ownership check before any read)."""
    return index.get(check_actor_id(actor_id), check_session_id(session_id))


def list_conversations(
    index: ConversationIndex, actor_id: str, limit: int, cursor: str | None
) -> Page[Conversation]:
    """One page of the actor's conversations, newest activity first."""
    return index.list_page(check_actor_id(actor_id), check_limit(limit), cursor)


def conversation_history(
    index: ConversationIndex,
    memory: MemoryEvents,
    actor_id: str,
    session_id: str,
    limit: int,
    cursor: str | None,
) -> tuple[Conversation, Page[Message]]:
    """The actor's conversation and a page of it: newest page first, oldest first inside the page."""
    conversation = get_conversation(index, actor_id, session_id)
    page = memory.list_messages(conversation.actor_id, conversation.session_id, check_limit(limit), cursor)
    return conversation, page


# A chat turn cannot write after its Lambda's timeout (API Gateway's 29 s bounds it): once a tombstone
# is this old, a sweep that removes the session's events once more leaves nothing behind it for good.
SWEEP_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 50


def sweep_deleted(index: ConversationIndex, memory: MemoryEvents, now: datetime) -> int:
    """Remove, once more, the Memory events of conversations deleted more than `SWEEP_AFTER` ago.

    A turn in flight when its conversation was deleted removes what it wrote itself; only a chat
    Lambda that died between its Memory write and its index update could leave an event behind the
    tombstone. This closes that window (a schedule runs it: EventBridge in AWS, the local stack's
    supervisor locally). Answers how many conversations it swept.
    """
    swept = 0
    for actor_id, session_id in index.tombstones_to_sweep(now - SWEEP_AFTER, SWEEP_BATCH):
        memory.delete_session(actor_id, session_id)
        index.mark_swept(actor_id, session_id)
        swept += 1
    return swept


def delete_conversation(
    index: ConversationIndex, memory: MemoryEvents, actor_id: str, session_id: str, now: datetime
) -> None:
    """Tombstone the index item, then delete the Memory events, then mark the purge done.

    The tombstone comes first so nothing can add to the conversation while its events go: a new turn
    is refused, and a turn already in flight finds it when it records itself and removes what it
    wrote (`send_message`). On AWS the events go in parallel before a deadline inside the Lambda
    timeout (a 1,000-turn conversation takes seconds); past it `DeleteIncomplete` is raised and the
    next delete continues with what is left. The audit trail is not touched: it is evidence, and
    holds digests, not the conversation's text.
    """
    actor_id, session_id = check_actor_id(actor_id), check_session_id(session_id)
    index.tombstone(actor_id, session_id, now)
    memory.delete_session(actor_id, session_id)
    index.mark_purged(actor_id, session_id)
