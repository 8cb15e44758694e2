"""The chat Lambda and the agent take turns on one chain: the head travels with the turn, so neither
reads it back from the store before each record (DynamoDB: no Query per record)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentarch.core.contracts import AuditContext, AuditHead
from agentarch.core.decisions import Decision, Outcome
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
from agentarch.services.audit import AuditTrail, ChainHead, verify
from tests.contract.test_audit_trail import FixedKey


class CountingStore(SqliteAuditStore):
    def __init__(self, database: SqliteDatabase) -> None:
        super().__init__(database)
        self.head_reads = 0

    def head(self, session: str) -> ChainHead | None:
        self.head_reads += 1
        return super().head(session)


def test_two_writers_handing_the_head_along_read_it_once_per_new_session(tmp_path: Path) -> None:
    store = CountingStore(SqliteDatabase(tmp_path / "db.sqlite3"))
    chat, agent = AuditTrail(store), AuditTrail(store, FixedKey())
    context = AuditContext(actor=Actor(id="alice"), session="s-" + "0" * 40)
    for turn in range(5):
        # the chat Lambda hands its head to the agent with the invocation ...
        handed: Any = chat.known_head(context.session)
        agent.hand_over(context.session, handed)
        for call in range(2):
            agent.tool_call_decided(
                context, tool="refund", call_id=f"{turn}-{call}", args={}, outcome=Outcome.DENIED,
                decision=Decision.DENY,
            )  # fmt: skip
        # ... and the agent hands its new head back in its reply
        head = agent.known_head(context.session)
        assert head is not None
        chat.hand_over(context.session, AuditHead(seq=head.seq, hash=head.hash, expires_at=head.expires_at))
        chat.turn(context, outcome="ok", latency_ms=1)
    assert store.head_reads == 1  # the session's very first record only
    assert verify(store.stored()).clean and verify(store.stored()).records == 15


def test_a_stale_head_costs_one_read_and_never_a_broken_chain(tmp_path: Path) -> None:
    store = CountingStore(SqliteDatabase(tmp_path / "db.sqlite3"))
    one, other = AuditTrail(store), AuditTrail(store)
    context = AuditContext(actor=Actor(id="alice"), session="s-" + "1" * 40)
    one.turn(context, outcome="ok", latency_ms=1)
    other.turn(context, outcome="ok", latency_ms=1)  # `one` does not know about this record
    one.turn(context, outcome="ok", latency_ms=1)  # its known head is stale: the put is refused, it reads
    assert verify(store.stored()).clean and verify(store.stored()).records == 3
