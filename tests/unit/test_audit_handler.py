"""The audit Lambda, fed API Gateway REST proxy events: admins only, filters, pages, error shape."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentarch.adapters import wiring
from agentarch.config import AuditApiSettings
from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.notary import LocalNotary
from agentarch.dev.sqlite import DATABASE_FILE, SqliteAuditStore, SqliteDatabase
from agentarch.dev.testing import LocalLambdaContext, rest_api_event
from agentarch.handlers import audit as audit_handler
from agentarch.services.audit import AuditTrail, record_hash
from agentarch.services.notary import SessionVerifier

ADMIN = {"sub": "admin-1", "cognito:groups": "users,audit-admins"}
USER = {"sub": "user-1", "cognito:groups": "users"}
T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuditTrail]:
    store = SqliteAuditStore(SqliteDatabase(tmp_path / "db.sqlite3"))
    monkeypatch.setattr(audit_handler, "audit_store", lambda: store)
    ticks = iter(range(10_000))
    yield AuditTrail(store, clock=lambda: T0 + timedelta(seconds=next(ticks)))


def get(path: str, claims: dict[str, str], **query: str) -> tuple[int, dict[str, Any]]:
    event = rest_api_event("GET", path, claims=claims, query=query, request_id="req-1")
    out = audit_handler.lambda_handler(event, LocalLambdaContext(function_name="audit"))  # type: ignore[arg-type]
    return out["statusCode"], json.loads(out["body"])


def test_a_non_admin_gets_the_404_of_a_missing_route_whatever_the_query(trail: AuditTrail) -> None:
    missing = get("/api/no-such-route", USER)

    assert get("/api/audit", USER) == missing
    assert get("/api/audit", USER, limit="not-a-number", since="garbage") == missing
    assert missing == (
        404,
        {"error": {"code": "not_found", "message": "no such endpoint", "request_id": "req-1"}},
    )


def test_an_admin_reads_pages_filtered_by_actor(trail: AuditTrail) -> None:
    for n in range(5):
        trail.turn(
            AuditContext(actor=Actor(id=f"user-{n % 2}"), session=f"s-{n}-0123456789abcdef0123456789"),
            outcome="ok",
            latency_ms=n,
        )

    status, first = get("/api/audit", ADMIN, actor="user-0", limit="2")
    assert status == 200
    status, second = get("/api/audit", ADMIN, actor="user-0", limit="2", cursor=first["next_cursor"])

    assert [r["latency_ms"] for r in first["items"] + second["items"]] == [4, 2, 0]
    assert second["next_cursor"] is None
    assert first["items"][0]["time"] == "2026-03-01T09:00:04.000Z"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"since": "tomorrow"}, "since"),
        ({"decision": "perhaps"}, "decision"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ],
)
def test_bad_values_answer_422_naming_them(trail: AuditTrail, query: dict[str, str], named: str) -> None:
    status, body = get("/api/audit", ADMIN, **query)

    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert named in body["error"]["message"]


@pytest.mark.parametrize("groups", ["[audit-admins]", "ops audit-admins", "users,[audit-admins]"])
def test_a_group_name_that_only_looks_like_the_admin_group_reads_nothing(
    trail: AuditTrail, groups: str
) -> None:
    missing = get("/api/no-such-route", {"sub": "user-2", "cognito:groups": groups})

    assert get("/api/audit", {"sub": "user-2", "cognito:groups": groups}) == missing
    assert missing[0] == 404


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01", "9999-12-31", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "1969-12-31"],
)
def test_a_date_out_of_range_is_a_422_naming_the_filter(trail: AuditTrail, moment: str) -> None:
    for name in ("since", "until"):
        status, body = get("/api/audit", ADMIN, **{name: moment})

        assert status == 422, body
        assert body["error"]["code"] == "validation_error" and body["error"]["message"].startswith(name)


# --- a session's verification state: the checks of `agentarch audit verify`, against the notary -----

SESSION = "s-verified-0123456789abcdef0123456789"


@dataclass
class Notarised:
    """A trail on SQLite, its local notary, and the audit Lambda reading the notary's directory."""

    trail: AuditTrail
    notary: LocalNotary
    path: Path

    def turns(self, n: int) -> None:
        for k in range(n):
            self.trail.turn(
                AuditContext(actor=Actor(id="user-1"), session=SESSION), outcome="ok", latency_ms=k
            )

    def state(self) -> dict[str, Any]:
        status, body = get("/api/audit", ADMIN, session=SESSION)
        assert status == 200, body
        verdict: dict[str, Any] = body["session_verification"]
        return verdict

    def rewrite(self, seq: int, *, recompute: bool) -> None:
        """What a writer's credentials allow: change a record (and, with `recompute`, every hash after it)."""
        connection = sqlite3.connect(self.path, isolation_level=None)
        rows = connection.execute(
            "SELECT seq, record FROM audit_records WHERE session_id = ? ORDER BY seq", (SESSION,)
        ).fetchall()
        prev = None
        for number, text in rows:
            fields = json.loads(text)
            if number == seq:
                fields["latency_ms"] = 999_999
            if number >= seq and recompute:
                if prev is not None:
                    fields["prev_hash"] = prev
                fields["hash"] = record_hash(fields)
            if number >= seq:
                connection.execute(
                    "UPDATE audit_records SET record = ? WHERE session_id = ? AND seq = ?",
                    (json.dumps(fields), SESSION, number),
                )
            prev = fields["hash"]
        connection.close()


@pytest.fixture
def notarised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Notarised]:
    path = tmp_path / DATABASE_FILE
    database = SqliteDatabase(path)
    store = SqliteAuditStore(database)
    notary = LocalNotary(database, tmp_path)
    settings = AuditApiSettings.model_validate(
        {"STORAGE_BACKEND": "sqlite", "SQLITE_PATH": str(path), "NOTARY_DIR": str(tmp_path / "notary")}
    )
    verifier = wiring.session_verifier(settings)  # one per test, as one per execution environment
    monkeypatch.setattr(audit_handler, "audit_store", lambda: store)
    monkeypatch.setattr(audit_handler, "session_verifier", lambda: verifier)
    ticks = iter(range(10_000))
    yield Notarised(AuditTrail(store, clock=lambda: T0 + timedelta(seconds=next(ticks))), notary, path)


def test_a_session_shows_what_the_notary_signed_and_the_window_not_yet_covered(notarised: Notarised) -> None:
    # Given three turns, signed by the notary
    notarised.turns(3)
    notarised.notary.run_once()
    signed = notarised.state()
    assert (signed["state"], signed["records"], signed["signed_seq"], signed["uncovered"]) == (
        "signed",
        3,
        3,
        None,
    )
    assert signed["first_bad_seq"] is None and signed["tamper"] is None and signed["problems"] == []
    assert signed["notary"]["checkpoints"] == 1 and signed["notary"]["problems"] == []

    # When two more turns come before the next checkpoint
    notarised.turns(2)
    partly = notarised.state()
    # Then the view says which records no checkpoint covers yet
    assert (partly["state"], partly["signed_seq"], partly["last_seq"], partly["uncovered"]) == (
        "partly signed",
        3,
        5,
        [4, 5],
    )

    # And once the notary signs them, they are covered (the Lambda reads only the new checkpoint)
    notarised.notary.run_once()
    again = notarised.state()
    assert (again["state"], again["signed_seq"], again["uncovered"], again["notary"]["checkpoints"]) == (
        "signed",
        5,
        None,
        2,
    )


def test_an_edited_record_shows_as_the_first_bad_record_with_its_class(notarised: Notarised) -> None:
    notarised.turns(3)
    notarised.notary.run_once()

    notarised.rewrite(2, recompute=False)
    edited = notarised.state()
    assert (edited["state"], edited["first_bad_seq"], edited["tamper"]) == ("tampered", 2, "edited")
    assert edited["problems"][0] == {
        "seq": 2,
        "tamper": "edited",
        "message": "the record was changed: its hash does not match",
    }

    notarised.notary.run_once()  # the notary saw the UPDATE (a stream MODIFY in AWS) and signed that too
    assert "overwritten" in {p["tamper"] for p in notarised.state()["problems"]}


def test_a_chain_rewritten_with_recomputed_hashes_shows_as_rewritten(notarised: Notarised) -> None:
    # Given seq 1 signed, then seq 2..3 signed
    notarised.turns(1)
    notarised.notary.run_once()
    notarised.turns(2)
    notarised.notary.run_once()

    # When a writer rewrites seq 2 and recomputes every hash after it (the chain alone holds)
    notarised.rewrite(2, recompute=True)
    state = notarised.state()

    # Then the signed head of seq 3 no longer matches: the first changed record is after seq 1
    assert (state["state"], state["first_bad_seq"], state["tamper"]) == ("tampered", 2, "rewritten")


def test_without_a_notary_the_view_shows_the_chain_alone(
    trail: AuditTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_handler, "session_verifier", lambda: SessionVerifier(None, None))
    trail.turn(AuditContext(actor=Actor(id="user-1"), session=SESSION), outcome="ok", latency_ms=1)

    status, body = get("/api/audit", ADMIN, session=SESSION)

    assert status == 200
    state = body["session_verification"]
    assert (state["state"], state["notary"], state["uncovered"], state["problems"]) == (
        "unsigned",
        None,
        [1, 1],
        [],
    )


def test_a_forged_checkpoint_is_named_beside_the_session(notarised: Notarised) -> None:
    notarised.turns(2)
    checkpoint = notarised.notary.run_once()
    assert checkpoint is not None
    target = notarised.notary.checkpoints.path(checkpoint.head.number)
    target.chmod(0o600)
    target.write_bytes(checkpoint.model_copy(update={"signature": "AAAA"}).to_bytes())

    state = notarised.state()

    assert [p["tamper"] for p in state["notary"]["problems"]] == ["checkpoint forged"]
    assert state["signed_seq"] is None  # a forged checkpoint covers nothing


def test_a_checkpoint_bucket_the_role_may_not_read_leaves_the_chain_and_names_the_call(
    trail: AuditTrail, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import boto3
    from botocore.stub import Stubber

    from agentarch.adapters.aws_notary import S3Checkpoints

    # Given a deployment whose audit Lambda role lacks s3:ListBucket on the notary's bucket
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    verifier = SessionVerifier(S3Checkpoints("notary-bucket", client=s3), lambda: None)  # type: ignore[arg-type,return-value]
    monkeypatch.setattr(audit_handler, "session_verifier", lambda: verifier)
    trail.turn(AuditContext(actor=Actor(id="user-1"), session=SESSION), outcome="ok", latency_ms=1)

    with Stubber(s3) as stub:
        stub.add_client_error("list_objects_v2", "AccessDenied", http_status_code=403)
        status, body = get("/api/audit", ADMIN, session=SESSION)

    # Then the admin still reads the chain, told the notary could not be read, and the log names the call
    assert status == 200 and body["session_verification"]["notary"]["readable"] is False
    assert body["session_verification"]["records"] == 1
    assert "AWS refused ListObjectsV2 (AccessDenied)" in caplog.text


def test_an_audit_table_the_role_may_not_read_is_a_named_500(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from botocore.stub import Stubber

    from agentarch.adapters.aws_audit import DynamoAuditStore

    # Given a deployment whose audit Lambda role may not query its table
    dynamodb = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    monkeypatch.setattr(audit_handler, "audit_store", lambda: DynamoAuditStore("audit", client=dynamodb))

    with Stubber(dynamodb) as stub:
        stub.add_client_error("query", "AccessDeniedException", http_status_code=400)
        status, body = get("/api/audit", ADMIN)

    # Then the admin is told it is the deployment, not their request or a passing outage
    assert (status, body["error"]["code"]) == (500, "misconfigured")
    assert "may not use one of its AWS resources" in body["error"]["message"]
