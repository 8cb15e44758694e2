"""The audit Lambda, fed API Gateway REST proxy events: admins only, filters, pages, error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
from agentarch.dev.testing import LocalLambdaContext, rest_api_event
from agentarch.handlers import audit as audit_handler
from agentarch.services.audit import AuditTrail

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
