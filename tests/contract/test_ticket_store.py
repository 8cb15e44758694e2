"""The ticket store, once per adapter (DynamoDB under moto, SQLite): made once, searched, commented."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from agentarch.adapters.aws_tickets import DynamoTicketStore
from agentarch.dev.sqlite import SqliteDatabase, SqliteTicketStore
from agentarch.services.tickets import Ticket, TicketComment, TicketStore

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["aws", "sqlite"])
def tickets(request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None) -> Iterator[TicketStore]:
    if request.param == "sqlite":
        yield SqliteTicketStore(SqliteDatabase(tmp_path / "agentarch.sqlite3"))
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="tickets",
            KeySchema=[{"AttributeName": "ticket_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "ticket_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoTicketStore("tickets", client=client)


def ticket(ticket_id: str, author: str, title: str, body: str, minutes: int) -> Ticket:
    return Ticket(ticket_id=ticket_id, actor_id=author, session_id="s", title=title, severity="low", body=body,
                  created_at=T0 + timedelta(minutes=minutes))  # fmt: skip


def test_search_finds_title_or_body_case_folded_newest_first(tickets: TicketStore) -> None:
    tickets.create_once(ticket("t-1", "bob", "Printer jam", "floor 3", 1))
    tickets.create_once(ticket("t-2", "alice", "toner", "the PRINTER on floor 2", 2))
    tickets.create_once(ticket("t-3", "carol", "vpn", "<script>alert(1)</script> 🎉", 3))

    assert [t.ticket_id for t in tickets.search("printer")] == ["t-2", "t-1"]
    assert [t.ticket_id for t in tickets.search("")] == ["t-3", "t-2", "t-1"]
    assert tickets.search("<script>")[0].body == "<script>alert(1)</script> 🎉"  # stored as text
    assert tickets.search("nothing like this") == []


def test_a_comment_is_appended_to_an_existing_ticket_only(tickets: TicketStore) -> None:
    tickets.create_once(ticket("t-1", "bob", "Printer jam", "floor 3", 1))

    first = tickets.add_comment("t-1", TicketComment(author_id="sam", text="on it", created_at=T0))
    second = tickets.add_comment("t-1", TicketComment(author_id="sam", text="fixed", created_at=T0))

    assert first is not None and [c.text for c in first.comments] == ["on it"]
    assert second is not None and [c.text for c in second.comments] == ["on it", "fixed"]
    assert tickets.add_comment("t-404", TicketComment(author_id="sam", text="x", created_at=T0)) is None
    assert [c.author_id for c in tickets.search("printer")[0].comments] == ["sam", "sam"]


def test_a_ticket_keeps_its_authors_user_name_as_text_or_none(tickets: TicketStore) -> None:
    named = ticket("t-1", "bob-sub", "printer", "floor 3", 1).model_copy(
        update={"author_name": 'bob <img src=x onerror="1">'}
    )
    stored, created = tickets.create_once(named)
    tickets.create_once(ticket("t-2", "carol-sub", "vpn", "down", 2))  # made before names were kept

    assert created and stored.author_name == 'bob <img src=x onerror="1">'
    assert {t.ticket_id: t.author_name for t in tickets.search("")} == {
        "t-1": 'bob <img src=x onerror="1">',  # the characters as typed
        "t-2": None,
    }
    # a replay finds the first ticket, name and all
    assert tickets.create_once(named.model_copy(update={"author_name": "mallory"}))[0].author_name == (
        'bob <img src=x onerror="1">'
    )
