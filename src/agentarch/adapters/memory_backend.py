"""The message store that `STORAGE_BACKEND` names: AgentCore Memory in AWS, SQLite in the local stack.

One module per port, so each artifact carries only the adapters of the ports it uses. The SQLite
backend is the local stack's alone: it is imported by name, never statically, and the build refuses
to ship it (`NEVER_DEPLOYED`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from agentarch.adapters import LOCAL_BACKEND
from agentarch.config import Env, StorageSettings, required_for_backend

if TYPE_CHECKING:
    from agentarch.services.memory import MemoryEvents


def memory_events(settings: StorageSettings) -> MemoryEvents:
    """The message store for this backend (AgentCore Memory, or the local SQLite file)."""
    if settings.storage_backend == "sqlite":
        memory: MemoryEvents = importlib.import_module(LOCAL_BACKEND).memory_events(settings)
        return memory
    memory_id = required_for_backend(settings.memory_id, Env.MEMORY_ID, "aws")
    from agentarch.adapters.aws_memory import AgentCoreMemoryEvents

    return AgentCoreMemoryEvents(
        memory_id, region=settings.aws_region, delete_deadline_seconds=settings.delete_deadline_seconds
    )
