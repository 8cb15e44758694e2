"""The conversation index that `STORAGE_BACKEND` names: DynamoDB in AWS, SQLite in the local stack.

One module per port, so each artifact carries only the adapters of the ports it uses (the agent zip
has no index adapter at all). The SQLite backend is the local stack's alone: it is imported by name,
never statically, and the build refuses to ship it (`NEVER_DEPLOYED`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from agentarch.adapters import LOCAL_BACKEND
from agentarch.config import Env, StorageSettings, required_for_backend

if TYPE_CHECKING:
    from agentarch.services.conversations import ConversationIndex


def conversation_index(settings: StorageSettings) -> ConversationIndex:
    """The conversation index for this backend (DynamoDB table, or the local SQLite file)."""
    if settings.storage_backend == "sqlite":
        index: ConversationIndex = importlib.import_module(LOCAL_BACKEND).conversation_index(settings)
        return index
    table = required_for_backend(settings.conversations_table, Env.CONVERSATIONS_TABLE, "aws")
    from agentarch.adapters.aws_conversations import DynamoConversationIndex

    return DynamoConversationIndex(
        table, region=settings.aws_region, expiry_days=settings.conversation_expiry_days
    )
