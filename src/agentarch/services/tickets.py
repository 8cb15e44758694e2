"""Tickets: the sample consequential tool's store. A ticket is created once per approval.

The ticket's id is the approval's id, and the store creates a ticket only if that id is new, so an
approval replayed (a retried request, a resumed turn run twice) finds the ticket made the first
time instead of making a second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, get_args

from pydantic import BaseModel, Field

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)


class Ticket(BaseModel):
    """One ticket, as the tool created it for an actor in a session."""

    ticket_id: str = Field(min_length=1, max_length=128)
    actor_id: str
    session_id: str
    title: str = Field(min_length=1, max_length=200)
    severity: Severity
    body: str = Field(max_length=4000)
    created_at: datetime


class TicketStore(Protocol):
    """Where tickets are kept (DynamoDB in AWS, SQLite locally)."""

    def create_once(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """Store the ticket unless its id exists; return the stored ticket and whether it is new."""
        ...
