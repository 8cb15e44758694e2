"""Tickets: the store behind the ticket tools. A ticket is created once per approval.

The ticket's id is the approval's id, and the store creates a ticket only if that id is new, so an
approval replayed (a retried request, a resumed turn run twice) finds the ticket made the first
time instead of making a second. Tickets can be searched (who may read which is the tool policy's
decision, not the store's) and commented on; a comment is read by the ticket's author.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, get_args

from pydantic import BaseModel, Field

from agentarch.core.identity import USER_NAME_MAX_CHARS

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
SEARCH_LIMIT = 200  # matches a search reads at most, before the policy decides which may be shown


class TicketComment(BaseModel):
    """One comment on a ticket, by an actor."""

    author_id: str
    text: str = Field(min_length=1, max_length=4000)
    created_at: datetime


class Ticket(BaseModel):
    """One ticket, as the tool created it for an actor in a session."""

    ticket_id: str = Field(min_length=1, max_length=128)
    actor_id: str
    # The author's user name when the ticket was made (`Actor.name`), for people to read: "written by
    # bob". Data a user typed: shown as text only, never deciding whose words a ticket is (`actor_id` does).
    author_name: str | None = Field(None, max_length=USER_NAME_MAX_CHARS)
    session_id: str
    title: str = Field(min_length=1, max_length=200)
    severity: Severity
    body: str = Field(max_length=4000)
    created_at: datetime
    comments: list[TicketComment] = Field(default_factory=list)


class TicketStore(Protocol):
    """Where tickets are kept (DynamoDB in AWS, SQLite locally)."""

    def create_once(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """Store the ticket unless its id exists; return the stored ticket and whether it is new."""
        ...

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[Ticket]:
        """Tickets whose title or body contains the query (case-insensitive; all when empty)."""
        ...

    def add_comment(self, ticket_id: str, comment: TicketComment) -> Ticket | None:
        """Append a comment to a ticket; the ticket as stored after it, None when there is no such ticket."""
        ...


def matches(ticket: Ticket, query: str) -> bool:
    """The search rule both stores apply: the query, case-folded, in the title or the body."""
    needle = query.strip().casefold()
    return not needle or needle in ticket.title.casefold() or needle in ticket.body.casefold()
