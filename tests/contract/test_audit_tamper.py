"""Every tamper class, tried on SQLite and on DynamoDB (moto): `verify` with the notary's checkpoints
names each one, per session, with the first bad record.

Each test writes a few turns through the real trail, lets the notary sign them (the local notary on
the SQLite file; the notary Lambda's code fed by the table's stream under moto), then tampers as
someone holding a writer's credentials (or the file) would, and reads what verify says.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentarch.core.contracts import AuditContext
from agentarch.core.decisions import Decision, Outcome
from agentarch.core.identity import Actor
from agentarch.services.audit import AuditRecord, AuditStore, AuditTrail, day_shard, record_hash, verify
from agentarch.services.notary import (
    Checkpoint,
    CheckpointStore,
    Evidence,
    PublicKey,
    SessionReport,
    SessionVerifier,
    check_checkpoints,
    check_session,
    verify_trail,
)
from tests.contract.test_audit_trail import Clock, FixedKey


@dataclass
class Rig:
    """A store, its notary, and the attacker's raw access to both."""

    store: AuditStore
    notarise: Any  # () -> Checkpoint | None
    checkpoints: CheckpointStore
    key: PublicKey
    overwrite: Any  # (session, seq, text) -> None: replace a stored record as it is stored
    remove: Any  # (session, seq) -> None
    overwrite_checkpoint: Any  # (number, bytes) -> None
    remove_checkpoint: Any  # (number) -> None
    signatures: Any = None  # what the audit Lambda checks signatures with (kms:Verify in AWS)

    def reports(self) -> dict[str, SessionReport]:
        evidence = check_checkpoints(self.checkpoints.raw(), self.key)
        self.evidence = evidence
        return {r.session: r for r in verify_trail(self.store.stored(), evidence)}


@pytest.fixture(params=["sqlite", "aws"])
def rig(request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None) -> Iterator[Rig]:
    if request.param == "sqlite":
        from agentarch.dev.notary import LocalNotary, public_key
        from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase

        path = tmp_path / "agentarch.sqlite3"
        database = SqliteDatabase(path)
        notary = LocalNotary(database, tmp_path)

        def raw(statement: str, params: tuple[Any, ...]) -> None:
            connection = sqlite3.connect(path, isolation_level=None)
            connection.execute(statement, params)
            connection.close()

        def overwrite(session: str, seq: int, text: str) -> None:
            record = json.loads(text)
            raw(
                "INSERT INTO audit_records (session_id, seq, actor_id, recorded_at, record) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, seq) DO UPDATE SET record = excluded.record, "
                "recorded_at = excluded.recorded_at",
                (session, seq, record["actor"], record["time"], text),
            )

        def overwrite_checkpoint(number: int, data: bytes) -> None:
            target = notary.checkpoints.path(number)
            if target.exists():
                target.chmod(0o600)
            target.write_bytes(data)

        yield Rig(
            store=SqliteAuditStore(database),
            notarise=notary.run_once,
            checkpoints=notary.checkpoints,
            key=public_key(tmp_path),
            overwrite=overwrite,
            remove=lambda s, q: raw("DELETE FROM audit_records WHERE session_id = ? AND seq = ?", (s, q)),
            overwrite_checkpoint=overwrite_checkpoint,
            remove_checkpoint=lambda n: notary.checkpoints.path(n).unlink(),
            signatures=public_key(tmp_path),
        )
    else:
        from agentarch.adapters.aws_notary import checkpoint_key
        from agentarch.dev.testing.aws import AUDIT_TABLE_NAME, moto_audit_store, moto_notary

        with moto_audit_store() as (store, dynamodb), moto_notary(dynamodb) as feed:

            def overwrite(session: str, seq: int, text: str) -> None:
                record = json.loads(text)
                item = {
                    "session_id": {"S": session},
                    "seq": {"N": str(seq)},
                    "actor_id": {"S": record["actor"]},
                    "recorded_at": {"S": record["time"]},
                    "day": {"S": f"{record['time'][:10]}#{day_shard(session)}"},
                    "record": {"S": text},
                }
                dynamodb.put_item(TableName=AUDIT_TABLE_NAME, Item=item)  # a writer's PutItem, no condition

            def remove(session: str, seq: int) -> None:
                dynamodb.delete_item(
                    TableName=AUDIT_TABLE_NAME, Key={"session_id": {"S": session}, "seq": {"N": str(seq)}}
                )

            def overwrite_checkpoint(number: int, data: bytes) -> None:
                feed.s3.put_object(Bucket=feed.bucket, Key=checkpoint_key(number), Body=data)

            def remove_checkpoint(number: int) -> None:
                for version in feed.s3.list_object_versions(
                    Bucket=feed.bucket, Prefix=checkpoint_key(number)
                ).get("Versions", []):
                    feed.s3.delete_object(
                        Bucket=feed.bucket,
                        Key=version["Key"],
                        VersionId=version["VersionId"],
                        BypassGovernanceRetention=True,  # governance mode: an administrator can, a writer cannot
                    )

            yield Rig(
                store=store,
                notarise=feed,
                checkpoints=feed.checkpoints,
                key=feed.public_key,
                overwrite=overwrite,
                remove=remove,
                overwrite_checkpoint=overwrite_checkpoint,
                remove_checkpoint=remove_checkpoint,
                signatures=feed.signature_check,
            )


def session_of(rig: Rig, turns: int = 3) -> str:
    """A session with `turns` turns, each a denied tool call and a turn record, signed by the notary."""
    trail = AuditTrail(rig.store, FixedKey(), clock=Clock())
    context = AuditContext(actor=Actor(id="mallory", groups=("users",)), session="s-" + uuid.uuid4().hex)
    for n in range(turns):
        trail.tool_call_decided(
            context,
            tool="refund",
            call_id=f"c{n}",
            args={"amount": 100 + n},
            outcome=Outcome.DENIED,
            decision=Decision.DENY,
        )
        trail.turn(context, outcome="ok", latency_ms=10)
    assert rig.notarise() is not None
    return context.session


def stored_text(rig: Rig, session: str, seq: int) -> str:
    return next(item.text for item in rig.store.stored(session) if item.seq == seq)


def problems(report: SessionReport) -> str:
    return " | ".join(report.problems and [p.message for p in report.problems])


def test_an_untouched_trail_is_signed_and_clean(rig: Rig) -> None:
    session = session_of(rig)
    report = rig.reports()[session]
    assert report.state == "signed" and report.signed_seq == 6 and not report.problems
    assert not rig.evidence.problems


def test_records_after_the_last_checkpoint_are_reported_as_the_uncovered_window(rig: Rig) -> None:
    session = session_of(rig)
    AuditTrail(rig.store, FixedKey(), clock=Clock()).turn(
        AuditContext(actor=Actor(id="mallory"), session=session), outcome="ok", latency_ms=1
    )
    report = rig.reports()[session]
    assert report.state == "partly signed" and report.uncovered == (7, 7) and not report.problems


def test_an_edited_record_is_named(rig: Rig) -> None:
    session = session_of(rig)
    record = json.loads(stored_text(rig, session, 3))
    record["decision"] = "allow"  # hash left as it was
    rig.overwrite(session, 3, json.dumps(record, sort_keys=True, separators=(",", ":")))
    rig.notarise()
    report = rig.reports()[session]
    assert report.first_bad == 3
    assert "hash does not match" in problems(report)
    assert "modified" in problems(report)  # the notary saw the overwrite (stream MODIFY / trigger)


def test_a_deleted_record_is_named(rig: Rig) -> None:
    session = session_of(rig)
    rig.remove(session, 2)
    rig.notarise()
    report = rig.reports()[session]
    assert report.first_bad == 2
    assert "missing (removed)" in problems(report) and "seq 2 removed" in problems(report)


def test_an_inserted_record_is_named(rig: Rig) -> None:
    session = session_of(rig)
    # Make room at seq 3: every later record moves up one, and a forged record takes its place.
    texts = {seq: stored_text(rig, session, seq) for seq in range(3, 7)}
    for seq in range(6, 2, -1):
        moved = json.loads(texts[seq])
        rig.overwrite(session, seq + 1, json.dumps(moved, sort_keys=True, separators=(",", ":")))
    forged = json.loads(texts[3]) | {"decision": "allow", "outcome": "ok"}
    forged["hash"] = record_hash(forged)
    rig.overwrite(session, 3, json.dumps(forged, sort_keys=True, separators=(",", ":")))
    # The forged record itself links well; the chain breaks at the record after it ...
    assert next(p.seq for p in verify(rig.store.stored(session)).problems) == 4
    # ... and the notary saw seq 3 (and every later one) overwritten, so verify names seq 3.
    rig.notarise()
    report = rig.reports()[session]
    assert report.first_bad == 3
    assert "seq 3 modified" in problems(report) and "moved or swapped" in problems(report)


def test_reordered_records_are_named(rig: Rig) -> None:
    session = session_of(rig)
    two, three = stored_text(rig, session, 2), stored_text(rig, session, 3)
    rig.overwrite(session, 2, three)
    rig.overwrite(session, 3, two)
    report = rig.reports()[session]
    assert report.first_bad == 2 and "moved or swapped" in problems(report)


def test_a_truncated_tail_is_named_by_the_signed_head(rig: Rig) -> None:
    session = session_of(rig)
    rig.remove(session, 6)
    rig.remove(session, 5)
    # Without the notary the chain alone looks intact: nothing before seq 4 is wrong.
    assert verify(rig.store.stored(session)).clean
    report = rig.reports()[session]
    assert report.first_bad == 5
    assert "the tail was truncated: records 5..6" in problems(report)


def test_a_chain_rewritten_with_recomputed_hashes_is_caught_by_the_signed_checkpoint(rig: Rig) -> None:
    session = session_of(rig)
    # As an attacker on a copy of the store would: turn the first deny into an allow, then recompute
    # every hash from there on so the chain links again.
    previous_hash = json.loads(stored_text(rig, session, 2))["hash"]
    for seq in range(3, 7):
        record = json.loads(stored_text(rig, session, seq))
        if seq == 3:
            record["decision"] = "allow"
        record["prev_hash"] = previous_hash
        record["hash"] = previous_hash = record_hash(record)
        assert AuditRecord.model_validate(record)
        rig.overwrite(session, seq, json.dumps(record, sort_keys=True, separators=(",", ":")))
    assert verify(rig.store.stored(session)).clean  # the chain alone cannot tell
    report = rig.reports()[session]
    assert "the chain was rewritten" in problems(report)
    assert report.first_bad == 1  # nothing earlier was signed: the rewrite is somewhere in 1..6


def test_a_whole_session_removed_is_named(rig: Rig) -> None:
    session = session_of(rig)
    kept = session_of(rig)
    for seq in range(1, 7):
        rig.remove(session, seq)
    reports = rig.reports()
    assert "the whole session was removed" in problems(reports[session])
    assert not reports[kept].problems


class ForgerSigner:
    """A key that is not the notary's: what someone who cannot use the notary's key signs with."""

    key_id = "forger"

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = ec.generate_private_key(ec.SECP256R1())

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))


def test_a_forged_checkpoint_is_named(rig: Rig) -> None:
    from agentarch.services.notary import Notary

    session_of(rig)
    latest = rig.checkpoints.latest()
    assert latest is not None
    Notary(ForgerSigner(), rig.checkpoints).checkpoint(latest.entries)  # checkpoint 2, the forger's key
    rig.reports()
    assert any("checkpoint 2: the signature does not verify" in p.message for p in rig.evidence.problems)


def test_an_edited_checkpoint_is_named(rig: Rig) -> None:
    session = session_of(rig)
    latest = rig.checkpoints.latest()
    assert latest is not None
    entries = tuple(e.model_copy(update={"seq": 4}) if e.session == session else e for e in latest.entries)
    edited = Checkpoint.model_validate(latest.model_dump() | {"entries": entries})
    rig.overwrite_checkpoint(latest.head.number, edited.to_bytes())
    rig.reports()
    assert any("do not match the signed root" in p.message for p in rig.evidence.problems)


def test_a_missing_checkpoint_is_named(rig: Rig) -> None:
    session_of(rig)
    session_of(rig)
    rig.remove_checkpoint(1)
    rig.reports()
    assert any("checkpoint(s) 1 before checkpoint 2 are missing" in p.message for p in rig.evidence.problems)


def test_the_notary_skips_a_ttl_expiry_and_records_any_other_remove() -> None:
    from agentarch.handlers.notary import read_batch

    def remove(identity: dict[str, str] | None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "eventID": "1",
            "eventName": "REMOVE",
            "dynamodb": {"Keys": {"session_id": {"S": "s"}, "seq": {"N": "1"}}, "SequenceNumber": "9"},
        }
        if identity:
            event["userIdentity"] = identity
        return event

    _, events, _ = read_batch(
        [remove({"type": "Service", "principalId": "dynamodb.amazonaws.com"}), remove(None)]
    )
    assert [e.change for e in events] == ["removed"]


def state(verifier: SessionVerifier, session: str, stored: Any) -> tuple[SessionReport, Evidence | None]:
    """What the audit Lambda does for a session's first page."""
    evidence = verifier.checked_evidence()
    return check_session(session, stored, evidence, time.time()), evidence


def test_the_admin_views_verifier_says_what_verify_says_reading_each_checkpoint_once(rig: Rig) -> None:
    # Given the audit Lambda's verifier (kms:Verify in AWS), with a budget of two checkpoints a call
    verifier = SessionVerifier(rig.checkpoints, lambda: rig.signatures, per_call=2)
    first = session_of(rig, turns=1)
    report, evidence = state(verifier, first, rig.store.stored(first))
    assert (report.state, report.signed_seq, evidence and evidence.checkpoints) == ("signed", 2, 1)
    assert evidence is not None and evidence.caught_up

    # When three more checkpoints come, it reads two now and the third on the next call
    sessions = [session_of(rig, turns=1) for _ in range(3)]
    _, evidence = state(verifier, sessions[-1], rig.store.stored(sessions[-1]))
    assert evidence is not None and (evidence.checkpoints, evidence.caught_up) == (3, False)
    report, evidence = state(verifier, sessions[-1], rig.store.stored(sessions[-1]))
    assert evidence is not None and (evidence.checkpoints, report.state) == (4, "signed")

    # And a record rewritten with recomputed hashes reads as verify reads it (only seq 2 was signed)
    record = json.loads(stored_text(rig, first, 2))
    record["outcome"] = "error"
    record["hash"] = record_hash(record)
    rig.overwrite(first, 2, json.dumps(record))
    report, _ = state(verifier, first, rig.store.stored(first))
    assert report.to_json() == rig.reports()[first].to_json()
    assert (report.first_bad, report.problems[0].tamper) == (
        1,
        "rewritten",
    )  # after the last head that matches
