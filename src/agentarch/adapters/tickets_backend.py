"""The ticket store `STORAGE_BACKEND` names: DynamoDB in AWS, SQLite in the local stack (see index_backend)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from agentarch.adapters import LOCAL_BACKEND
from agentarch.config import Env, StorageSettings, required_for_backend

if TYPE_CHECKING:
    from agentarch.services.tickets import TicketStore


def ticket_store(settings: StorageSettings) -> TicketStore:
    """The tickets table for this backend (or the local SQLite file)."""
    if settings.storage_backend == "sqlite":
        store: TicketStore = importlib.import_module(LOCAL_BACKEND).ticket_store(settings)
        return store
    table = required_for_backend(settings.tickets_table, Env.TICKETS_TABLE, "aws")
    from agentarch.adapters.aws_tickets import DynamoTicketStore

    return DynamoTicketStore(table, region=settings.aws_region)
