"""The audit trail that `STORAGE_BACKEND` names: DynamoDB (+ a KMS HMAC key) in AWS, SQLite locally.

Mirrors `index_backend.py`: the SQLite backend is imported by name, never statically, and the build
refuses to ship it. The argument key is deliberate on each side:
- AWS: a KMS HMAC key (`HMAC_256`, GenerateMac). The key never leaves KMS, is in no Terraform state,
  environment or log, and the runtime role may only GenerateMac with it; one call per digest.
- local: 32 random bytes in a 0600 file under the state directory (`AUDIT_KEY_FILE`), made on first use.
"""

from __future__ import annotations

import importlib

from agentarch.adapters import LOCAL_BACKEND
from agentarch.config import Env, StorageSettings, required_for_backend
from agentarch.services.audit import ArgumentKey, AuditStore, AuditTrail


def audit_store(settings: StorageSettings) -> AuditStore | None:
    """Where records live; None when the pattern has no storage (patterns 0-2)."""
    if settings.storage_backend is None:
        return None
    if settings.storage_backend == "sqlite":
        store: AuditStore = importlib.import_module(LOCAL_BACKEND).audit_store(settings)
        return store
    table = required_for_backend(settings.audit_table, Env.AUDIT_TABLE, "aws")
    from agentarch.adapters.aws_audit import DynamoAuditStore

    return DynamoAuditStore(table, region=settings.aws_region)


def argument_key(settings: StorageSettings) -> ArgumentKey | None:
    """The HMAC key of argument and result digests; None for a writer that digests nothing (the chat
    Lambda writes turn records only)."""
    if settings.storage_backend == "sqlite" and settings.audit_key_file is not None:
        key: ArgumentKey = importlib.import_module(LOCAL_BACKEND).argument_key(settings)
        return key
    if settings.storage_backend == "aws" and settings.audit_key_id:
        from agentarch.adapters.aws_audit import KmsArgumentKey

        return KmsArgumentKey(settings.audit_key_id, region=settings.aws_region)
    return None


def audit_trail(settings: StorageSettings) -> AuditTrail | None:
    """The trail a writer appends to (the agent: tool calls; the chat Lambda: turns), or None."""
    store = audit_store(settings)
    if store is None:
        return None
    return AuditTrail(store, argument_key(settings), retention_days=settings.audit_retention_days)
