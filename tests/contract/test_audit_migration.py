"""`agentarch audit migrate`: items written before the time index was sharded get their shard, the
listings by time find them, verify stops naming them, and the notary does not count it as tampering
(DynamoDB under moto: only the deployed table was ever unsharded)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.audit_migration import reindex_days
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
from agentarch.dev.testing.aws import AUDIT_TABLE_NAME, moto_audit_store, moto_notary
from agentarch.services import audit
from agentarch.services.audit import AuditRecord, AuditTrail
from agentarch.services.notary import check_checkpoints, verify_trail
from tests.contract.test_audit_trail import T0, Clock


def test_migrate_shards_legacy_items_without_the_notary_calling_it_tampering(
    tmp_path: Path, aws_credentials: None
) -> None:
    # Given records a pre-sharding writer stored with the bare day as the index key
    scratch = SqliteAuditStore(SqliteDatabase(tmp_path / "scratch.sqlite3"))
    trail = AuditTrail(scratch, clock=Clock())
    context = AuditContext(actor=Actor(id="user-1"), session="s-legacy-0123456789abcdef0123456789")
    for n in range(3):
        trail.turn(context, outcome="ok", latency_ms=n)
    with moto_audit_store() as (store, dynamodb), moto_notary(dynamodb) as notarise:
        for item in scratch.stored(context.session):
            record = AuditRecord.from_json(item.text)
            dynamodb.put_item(
                TableName=AUDIT_TABLE_NAME,
                Item={
                    "session_id": {"S": record.session},
                    "seq": {"N": str(record.seq)},
                    "actor_id": {"S": record.actor},
                    "recorded_at": {"S": record.time_text},
                    "day": {"S": record.day},  # unsharded
                    "record": {"S": item.text},
                },
            )
        assert notarise() is not None

        def report() -> tuple[str, list[str]]:
            evidence = check_checkpoints(notarise.checkpoints.raw(), notarise.public_key)
            (only,) = verify_trail(store.stored(), evidence)
            return only.state, sorted(
                {p.tamper for p in only.problems} | {p.tamper for p in evidence.problems}
            )

        def listed() -> int:
            return len(
                audit.list_records(
                    store,
                    audit.make_query(since=T0 - timedelta(days=1), until=T0 + timedelta(days=1)),
                    50,
                    None,
                ).items
            )

        assert report() == ("tampered", ["unmigrated"])
        assert listed() == 0  # the listings by time query the shards

        # When the operator migrates (twice: the second run finds nothing)
        first = reindex_days(dynamodb, AUDIT_TABLE_NAME)
        again = reindex_days(dynamodb, AUDIT_TABLE_NAME)

        # Then only `day` changed, the notary saw re-indexing and no tampering, and all is clean
        assert (first.unsharded, first.updated, again.updated) == (3, 3, 0)
        assert notarise() is None  # nothing to sign: no head moved, no tampering
        assert report() == ("signed", [])
        assert listed() == 3
        assert all(json.loads(i.text)["latency_ms"] in (0, 1, 2) for i in store.stored(context.session))


def test_only_the_exact_re_index_escapes_the_notarys_tampering_log() -> None:
    from agentarch.handlers.notary import read_batch
    from agentarch.services.audit import day_shard

    session = "s-legacy-0123456789abcdef0123456789"
    text = json.dumps({"session": session, "seq": 1, "time": "2026-03-01T09:00:01.000Z", "hash": "ab" * 32})
    old = {"session_id": {"S": session}, "seq": {"N": "1"}, "day": {"S": "2026-03-01"}, "record": {"S": text}}

    def modify(new: dict[str, dict[str, str]]) -> dict[str, object]:
        keys = {"session_id": old["session_id"], "seq": old["seq"]}
        return {"eventName": "MODIFY", "dynamodb": {"Keys": keys, "OldImage": old, "NewImage": new}}

    shard = f"2026-03-01#{day_shard(session)}"
    wrong = f"2026-03-01#{(day_shard(session) + 1) % 8}"
    edited = text.replace("09:00:01", "09:00:02")
    _, events, _ = read_batch(
        [
            modify({**old, "day": {"S": shard}}),  # the migration: not tampering
            modify({**old, "day": {"S": wrong}}),  # another shard: tampering
            modify({**old, "day": {"S": shard}, "record": {"S": edited}}),  # and the record: tampering
        ]
    )
    assert len(events) == 2
