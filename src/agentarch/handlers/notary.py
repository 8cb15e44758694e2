"""Notary Lambda: fed by the audit table's DynamoDB stream, signs the chain heads that changed.

Its own role is the only one that may use the signing key (`kms:Sign`) and write the checkpoint
bucket; the writers (chat Lambda, agent runtime) get neither. For each batch (the event source
mapping waits at most a minute to fill one) it writes one checkpoint: the newest head of every session
inserted into, and every MODIFY or REMOVE as tampering - IAM cannot stop a writer's `PutItem` from
overwriting an item, so the stream is where an overwrite shows. A REMOVE by DynamoDB's own TTL
(`userIdentity` type `Service`, principal `dynamodb.amazonaws.com`) is expiry, not tampering; a
MODIFY that only moves an item's `day` to its shard (`agentarch audit migrate`) is a re-index.

A failed batch raises: the event source mapping retries it (the stream keeps 24 hours; an alarm on
the mapping's IteratorAge fires well before).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from agentarch.config import NotarySettings, cached
from agentarch.core.timestamps import format_iso_millis, utc_now
from agentarch.handlers.observability import logger
from agentarch.services.audit import day_shard
from agentarch.services.notary import HeadEntry, Notary, TamperEvent

TTL_PRINCIPAL = "dynamodb.amazonaws.com"


@lru_cache(maxsize=1)
def notary() -> Notary:
    """Built once per execution environment."""
    from agentarch.adapters.aws_notary import KmsSigner, S3Checkpoints

    settings = cached(NotarySettings)
    return Notary(
        KmsSigner(settings.notary_key_id, region=settings.aws_region),
        S3Checkpoints(settings.notary_bucket, region=settings.aws_region),
    )


def _hash(image: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str | None]:
    text = (image or {}).get("record", {}).get("S")
    if text is None:
        return None, None
    try:
        record = json.loads(text)
    except ValueError:
        return None, None
    return record, record.get("hash") if isinstance(record, dict) else None


def is_expiry(stream_record: dict[str, Any]) -> bool:
    """A REMOVE that DynamoDB's TTL made."""
    identity = stream_record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL


def is_reindex(stream_record: dict[str, Any]) -> bool:
    """A MODIFY that only moved an item from the unsharded time index to its shard
    (`agentarch audit migrate`): the record, its hash and every other attribute unchanged."""
    change = stream_record.get("dynamodb", {})
    old, new = change.get("OldImage") or {}, change.get("NewImage") or {}
    if stream_record.get("eventName") != "MODIFY" or set(old) != set(new):
        return False
    if any(old[name] != new[name] for name in old if name != "day"):
        return False
    record, _ = _hash(new)
    if record is None or not isinstance(record.get("time"), str):
        return False
    day = record["time"][:10]
    session = new.get("session_id", {}).get("S", "")
    return bool(
        old.get("day", {}).get("S") == day and new.get("day", {}).get("S") == f"{day}#{day_shard(session)}"
    )


def read_batch(records: Iterable[dict[str, Any]]) -> tuple[list[HeadEntry], list[TamperEvent], str | None]:
    """The heads inserted and the tampering seen in one batch of stream records."""
    heads: list[HeadEntry] = []
    events: list[TamperEvent] = []
    position: str | None = None
    now = format_iso_millis(utc_now())
    for item in records:
        change = item.get("dynamodb", {})
        position = change.get("SequenceNumber", position)
        keys = change.get("Keys", {})
        session = keys.get("session_id", {}).get("S", "?")
        seq = int(keys.get("seq", {}).get("N", "0"))
        name = item.get("eventName")
        new, new_hash = _hash(change.get("NewImage"))
        _, old_hash = _hash(change.get("OldImage"))
        if name == "INSERT" and new is not None and new_hash is not None:
            heads.append(HeadEntry(session=session, seq=seq, hash=new_hash, expires_at=new.get("expires_at")))
        elif (name == "MODIFY" and not is_reindex(item)) or (name == "REMOVE" and not is_expiry(item)):
            events.append(
                TamperEvent(
                    session=session,
                    seq=seq,
                    change="modified" if name == "MODIFY" else "removed",
                    seen_at=now,
                    old_hash=old_hash,
                    new_hash=new_hash if name == "MODIFY" else None,
                    source=str(item.get("eventID", "")),
                )
            )
    return heads, events, position


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (DynamoDB stream batches)."""
    heads, events, position = read_batch(event.get("Records", []))
    checkpoint = notary().checkpoint(heads, events, position=position)
    if events:
        logger.warning("audit records were changed or removed", extra={"tampering": len(events)})
    number = checkpoint.head.number if checkpoint else None
    logger.info("checkpoint", extra={"number": number, "sessions": len(heads), "tampering": len(events)})
    return {"checkpoint": number}
