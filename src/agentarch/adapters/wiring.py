"""The one wiring point: which store serves each port, chosen by `STORAGE_BACKEND` / `GOVERNANCE_BACKEND`.

`aws` is built in: DynamoDB tables, AgentCore Memory, a KMS HMAC key, Powertools' DynamoDB
idempotency layer; each adapter is imported when a port is first asked for, so a function pays
only for what it uses. Any other backend is registered by name by the process that hosts the code:
the local stack registers its SQLite backend (`agentarch.dev.sqlite`) before it imports a handler
or the agent. No zip carries the dev package, so no setting in AWS can switch a function onto it:
an unknown name is a `SettingsError`, which the handlers answer as 500 `misconfigured`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from agentarch.config import AuditApiSettings, Env, GovernanceSettings, SettingsError, StorageSettings

if TYPE_CHECKING:  # each port's types; the modules themselves load when a port is asked for
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from agentarch.services.audit import ArgumentKey, AuditStore, AuditTrail
    from agentarch.services.conversations import ConversationIndex
    from agentarch.services.locks import LockStore, SessionStopper
    from agentarch.services.memory import MemoryEvents
    from agentarch.services.notary import CheckpointStore, SessionVerifier, SignatureCheck
    from agentarch.services.quotas import QuotaStore
    from agentarch.services.tickets import TicketStore


# The notary's checkpoints (read-only) and what checks their signatures, made on first use.
NotaryReading = tuple["CheckpointStore", "Callable[[], SignatureCheck]"]


class Backend(Protocol):
    """A family of adapters, one per port, configured from the settings."""

    def conversation_index(self, settings: StorageSettings) -> ConversationIndex:
        """Who owns which session (the conversation index)."""
        ...

    def memory_events(self, settings: StorageSettings) -> MemoryEvents:
        """A session's messages."""
        ...

    def ticket_store(self, settings: StorageSettings) -> TicketStore:
        """The tickets the `create_ticket` tool writes."""
        ...

    def audit_store(self, settings: StorageSettings) -> AuditStore:
        """The audit trail's records."""
        ...

    def argument_key(self, settings: StorageSettings) -> ArgumentKey | None:
        """The HMAC key of argument digests; None for a writer that digests nothing."""
        ...

    def notary_checkpoints(self, settings: AuditApiSettings) -> NotaryReading | None:
        """The notary's checkpoints, read-only, and what checks their signatures; None without a notary."""
        ...

    def quota_store(self, settings: GovernanceSettings) -> QuotaStore:
        """Each user's daily quota counters."""
        ...

    def lock_store(self, settings: StorageSettings) -> LockStore | None:
        """The kill switch's locks; None where the backend keeps none."""
        ...

    def idempotency_store(self, settings: GovernanceSettings) -> BasePersistenceLayer:
        """Powertools' idempotency records."""
        ...


def required(value: str | None, name: Env, chooser: Env, backend: str) -> str:
    """A setting the chosen backend cannot work without; the error names both variables."""
    if not value:
        raise SettingsError(f"{name} is required when {chooser}={backend}")
    return value


class AwsBackend:
    """DynamoDB, AgentCore Memory and KMS, as Terraform creates them."""

    def conversation_index(self, settings: StorageSettings) -> ConversationIndex:
        from agentarch.adapters.aws_conversations import DynamoConversationIndex

        table = required(settings.conversations_table, Env.CONVERSATIONS_TABLE, Env.STORAGE_BACKEND, "aws")
        return DynamoConversationIndex(
            table, region=settings.aws_region, expiry_days=settings.conversation_expiry_days
        )

    def memory_events(self, settings: StorageSettings) -> MemoryEvents:
        from agentarch.adapters.aws_memory import AgentCoreMemoryEvents

        memory_id = required(settings.memory_id, Env.MEMORY_ID, Env.STORAGE_BACKEND, "aws")
        return AgentCoreMemoryEvents(
            memory_id, region=settings.aws_region, delete_deadline_seconds=settings.delete_deadline_seconds
        )

    def ticket_store(self, settings: StorageSettings) -> TicketStore:
        from agentarch.adapters.aws_tickets import DynamoTicketStore

        table = required(settings.tickets_table, Env.TICKETS_TABLE, Env.STORAGE_BACKEND, "aws")
        return DynamoTicketStore(table, region=settings.aws_region)

    def audit_store(self, settings: StorageSettings) -> AuditStore:
        from agentarch.adapters.aws_audit import DynamoAuditStore

        table = required(settings.audit_table, Env.AUDIT_TABLE, Env.STORAGE_BACKEND, "aws")
        return DynamoAuditStore(table, region=settings.aws_region)

    def argument_key(self, settings: StorageSettings) -> ArgumentKey | None:
        """A KMS HMAC key (`HMAC_256`, GenerateMac): it never leaves KMS, and the runtime role may
        only GenerateMac with it; None for the chat Lambda, which writes turn records only."""
        if not settings.audit_key_id:
            return None
        from agentarch.adapters.aws_audit import KmsArgumentKey

        return KmsArgumentKey(settings.audit_key_id, region=settings.aws_region)

    def lock_store(self, settings: StorageSettings) -> LockStore | None:
        """The locks table `LOCKS_TABLE` names; None without one (a stack deployed before the kill
        switch existed keeps running, with no kill switch)."""
        if not settings.locks_table:
            return None
        from agentarch.adapters.aws_locks import DynamoLockStore

        return DynamoLockStore(settings.locks_table, region=settings.aws_region)

    def notary_checkpoints(self, settings: AuditApiSettings) -> NotaryReading | None:
        """The Object Lock bucket (s3:ListBucket, s3:GetObject) and KMS `Verify` with the notary key
        (kms:Verify): nothing that signs or writes, and no crypto library in the zip."""
        if not settings.notary_bucket:
            return None
        from agentarch.adapters.aws_notary import KmsSignatureCheck, S3Checkpoints

        key_id = required(
            settings.notary_key_id, Env.NOTARY_KEY_ID, Env.NOTARY_BUCKET, settings.notary_bucket
        )
        checkpoints = S3Checkpoints(settings.notary_bucket, region=settings.aws_region)
        return checkpoints, lambda: KmsSignatureCheck(key_id, region=settings.aws_region)

    def quota_store(self, settings: GovernanceSettings) -> QuotaStore:
        from agentarch.adapters.aws_quotas import DynamoQuotaStore

        table = required(settings.quotas_table, Env.QUOTAS_TABLE, Env.GOVERNANCE_BACKEND, "aws")
        return DynamoQuotaStore(table, region=settings.aws_region)

    def idempotency_store(self, settings: GovernanceSettings) -> BasePersistenceLayer:
        """Powertools' layer: the table wants partition key `id` (S) and TTL on `expiration`."""
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        table = required(settings.idempotency_table, Env.IDEMPOTENCY_TABLE, Env.GOVERNANCE_BACKEND, "aws")
        return DynamoDBPersistenceLayer(table_name=table)


_BACKENDS: dict[str, Backend] = {"aws": AwsBackend()}


def register_backend(name: str, backend: Backend) -> None:
    """Make a backend available under `name` in this process (the local stack's SQLite, a test's)."""
    _BACKENDS[name] = backend


def _named(name: str, chooser: Env) -> Backend:
    backend = _BACKENDS.get(name)
    if backend is None:
        raise SettingsError(f"{chooser}={name}: no such backend in this process (deployed code has only aws)")
    return backend


def storage(settings: StorageSettings) -> Backend | None:
    """The backend of conversations, messages, tickets and the audit trail; None without storage."""
    return _named(settings.storage_backend, Env.STORAGE_BACKEND) if settings.storage_backend else None


def governance(settings: GovernanceSettings) -> Backend | None:
    """The backend of quotas and idempotency records; None when neither is configured."""
    return (
        _named(settings.governance_backend, Env.GOVERNANCE_BACKEND) if settings.governance_backend else None
    )


def _storage_required(settings: StorageSettings) -> Backend:
    backend = storage(settings)
    if backend is None:
        raise SettingsError(f"{Env.STORAGE_BACKEND} is required here")
    return backend


def conversation_index(settings: StorageSettings) -> ConversationIndex:
    """The conversation index of the configured storage."""
    return _storage_required(settings).conversation_index(settings)


def memory_events(settings: StorageSettings) -> MemoryEvents:
    """The message store of the configured storage."""
    return _storage_required(settings).memory_events(settings)


def ticket_store(settings: StorageSettings) -> TicketStore:
    """The ticket store of the configured storage."""
    return _storage_required(settings).ticket_store(settings)


def audit_backend(settings: StorageSettings) -> Backend | None:
    """The trail's backend: `AUDIT_BACKEND` (pattern 2 keeps a trail but no conversations), else the
    storage's (pattern 3); None when the pattern keeps no trail."""
    if settings.audit_backend:
        return _named(settings.audit_backend, Env.AUDIT_BACKEND)
    return storage(settings)


def audit_store(settings: StorageSettings) -> AuditStore | None:
    """Where audit records live; None when the pattern keeps no trail."""
    backend = audit_backend(settings)
    return backend.audit_store(settings) if backend is not None else None


def audit_trail(settings: StorageSettings) -> AuditTrail | None:
    """The trail a writer appends to (the agent: tool calls; the chat Lambda: turns), or None."""
    backend = audit_backend(settings)
    if backend is None:
        return None
    from agentarch.services.audit import AuditTrail

    return AuditTrail(
        backend.audit_store(settings),
        backend.argument_key(settings),
        retention_days=settings.audit_retention_days,
    )


def lock_store(settings: StorageSettings) -> LockStore | None:
    """The kill switch's locks: beside the audit trail (patterns 2 and 3); None when there is none."""
    backend = audit_backend(settings)
    return backend.lock_store(settings) if backend is not None else None


def session_stopper(settings: StorageSettings) -> SessionStopper | None:
    """`StopRuntimeSession` for the sessions in flight of a new lock: AWS only (a local turn reads the
    lock table before each step, nothing more to stop), and only where the runtime is named."""
    if settings.agent_runtime_arn is None or (settings.audit_backend or settings.storage_backend) != "aws":
        return None
    from agentarch.adapters.aws_locks import RuntimeSessionStopper

    return RuntimeSessionStopper(settings.agent_runtime_arn, region=settings.aws_region)


def session_verifier(settings: AuditApiSettings) -> SessionVerifier:
    """Each session's verification state, from the trail's backend's notary checkpoints (or the
    chains alone when it has no notary)."""
    from agentarch.services.notary import SessionVerifier

    backend = audit_backend(settings)
    reading = backend.notary_checkpoints(settings) if backend is not None else None
    return SessionVerifier(*reading) if reading is not None else SessionVerifier(None, None)


def quota_store(settings: GovernanceSettings) -> QuotaStore:
    """Daily quota counters of the configured governance backend."""
    backend = governance(settings)
    if backend is None:
        raise SettingsError(f"{Env.GOVERNANCE_BACKEND} is required for quotas")
    return backend.quota_store(settings)


def idempotency_store(settings: GovernanceSettings) -> BasePersistenceLayer:
    """Idempotency records of the configured governance backend."""
    backend = governance(settings)
    if backend is None:
        raise SettingsError(f"{Env.GOVERNANCE_BACKEND} is required for idempotency")
    return backend.idempotency_store(settings)
