"""The quota and idempotency stores that `GOVERNANCE_BACKEND` names: DynamoDB in AWS, SQLite locally.

As with the other ports, the SQLite backend is the local stack's alone: imported by name, never
statically, and refused by the build (`NEVER_DEPLOYED`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from agentarch.adapters import LOCAL_BACKEND
from agentarch.config import Env, GovernanceSettings, required_for_backend

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from agentarch.services.quotas import QuotaStore


def quota_store(settings: GovernanceSettings) -> QuotaStore:
    """Daily quota counters for this backend."""
    if settings.governance_backend == "sqlite":
        store: QuotaStore = importlib.import_module(LOCAL_BACKEND).quota_store(settings)
        return store
    table = required_for_backend(settings.quotas_table, Env.QUOTAS_TABLE, "aws")
    from agentarch.adapters.aws_quotas import DynamoQuotaStore

    return DynamoQuotaStore(table, region=settings.aws_region)


def idempotency_store(settings: GovernanceSettings) -> BasePersistenceLayer:
    """Powertools' idempotency persistence: its DynamoDB layer in AWS, the SQLite one locally.

    The table wants partition key `id` (S) and TTL on `expiration`, Powertools' defaults.
    """
    if settings.governance_backend == "sqlite":
        layer: BasePersistenceLayer = importlib.import_module(LOCAL_BACKEND).idempotency_store(settings)
        return layer
    table = required_for_backend(settings.idempotency_table, Env.IDEMPOTENCY_TABLE, "aws")
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table)
