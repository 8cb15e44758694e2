"""What quotas, idempotency and the audit trail add to one chat turn, on SQLite and on DynamoDB (moto).

Per turn the chat Lambda admits the request against the caller's quota and charges its tokens
(`quotas.metered`), runs it once per Idempotency-Key (Powertools' `idempotent_function`), and the
turn leaves audit records: the chat Lambda's `turn` record and, for a turn with one tool call, the
agent's `started` and `ok` records (each a keyed digest of the arguments and the result).

Compared against, in the same run: the turn's own storage work in pattern 3 — claiming the session,
writing the turn to Memory, counting it in the index (`services.chat.send_message` with a stub agent
that answers at once). For DynamoDB the figure that carries to AWS is the number of calls per turn
(counted on the clients); moto's wall clock is shown but is not DynamoDB's.

Run: .venv/bin/python -m bench --only governance_cost  (`make bench` runs every benchmark)
"""

from __future__ import annotations

import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from moto import mock_aws

from agentarch.adapters.aws_audit import DynamoAuditStore, KmsArgumentKey
from agentarch.adapters.aws_quotas import DynamoQuotaStore
from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.sqlite import (
    FileArgumentKey,
    SqliteAuditStore,
    SqliteConversationIndex,
    SqliteDatabase,
    SqliteIdempotencyStore,
    SqliteMemoryEvents,
    SqliteQuotaStore,
)
from agentarch.dev.testing.aws import (
    IDEMPOTENCY_TABLE_NAME,
    QUOTAS_TABLE_NAME,
    REGION,
    create_audit_table,
    create_idempotency_table,
    create_quotas_table,
    moto_storage,
)
from agentarch.services import quotas
from agentarch.services.audit import AuditTrail
from agentarch.services.chat import ConversationStore, TurnRequest, send_message
from agentarch.services.quotas import DailyLimits, QuotaPolicy, QuotaStore
from bench.report import Result, Table, percentile

ACTOR = "bench-actor"
POLICY = QuotaPolicy(default=DailyLimits(requests_per_day=10**6, tokens_per_day=10**10))
ANSWER = {"response": "391", "tool_calls": [{"name": "calculator", "args": {"expression": "17 * 23"}}]}


class StubAgent:
    """Answers at once: what is measured is the storage around the turn, not the agent."""

    def invoke(self, payload: dict[str, Any], session_id: str) -> dict[str, Any]:
        return {**ANSWER, "usage": {"input_tokens": 120, "output_tokens": 9}}


@dataclass
class Backend:
    """The stores of one backend, and a counter of the AWS calls made through them (moto only)."""

    name: str
    conversations: ConversationStore
    quotas: QuotaStore
    idempotency: BasePersistenceLayer
    audit: AuditTrail
    calls: Counter[str]


@contextmanager
def sqlite_backend(folder: Path) -> Iterator[Backend]:
    db = SqliteDatabase(folder / "bench.sqlite3")
    yield Backend(
        "SQLite (local stack)",
        ConversationStore(SqliteConversationIndex(db), SqliteMemoryEvents(db)),
        SqliteQuotaStore(db),
        SqliteIdempotencyStore(db),
        AuditTrail(SqliteAuditStore(db), FileArgumentKey(folder / "audit.key")),
        Counter(),
    )


@contextmanager
def dynamodb_backend() -> Iterator[Backend]:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    with moto_storage() as storage, mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        kms = boto3.client("kms", region_name=REGION)
        for client in (dynamodb, kms, storage.dynamodb, storage.agentcore):
            client.meta.events.register("before-call.*.*", count)
        create_quotas_table(dynamodb)
        create_idempotency_table(dynamodb)
        create_audit_table(dynamodb)
        key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        calls.clear()
        yield Backend(
            "DynamoDB (moto)",
            ConversationStore(storage.index, storage.memory),
            DynamoQuotaStore(QUOTAS_TABLE_NAME, client=dynamodb),
            DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE_NAME, boto3_client=dynamodb),
            AuditTrail(DynamoAuditStore("agentarch-audit", client=dynamodb), KmsArgumentKey(key, client=kms)),
            calls,
        )


def steps(backend: Backend) -> dict[str, Callable[[str], object]]:
    """Each piece of a turn, given the turn's session id."""
    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time")  # no Lambda here
    once = idempotent_function(
        data_keyword_argument="scope",
        persistence_store=backend.idempotency,
        config=IdempotencyConfig(event_key_jmespath="[actor, key]", expires_after_seconds=3600),
    )(lambda *, scope: ANSWER)

    def audit(session: str) -> object:
        context = AuditContext(actor=Actor(id=ACTOR, groups=("users",)), session=session, request_id="r")
        started = backend.audit.tool_call_started(
            context, tool="calculator", call_id="c1", args={"expression": "17 * 23"}
        )
        backend.audit.tool_call_finished(started, outcome="ok", result="17 * 23 = 391")
        return backend.audit.turn(context, outcome="ok", latency_ms=5, input_tokens=120, output_tokens=9)

    return {
        "the turn's own storage (compared against)": lambda session: send_message(
            StubAgent(),
            TurnRequest(actor=Actor(id=ACTOR), session_id=session, message="what is 17 * 23?"),
            backend.conversations,
        ),
        "quota: admit (reserving) + settle tokens": lambda session: quotas.metered(
            backend.quotas,
            POLICY,
            ACTOR,
            ("users",),
            lambda: datetime.now(UTC),
            lambda reserved: (None, 129),
            2000,
        ),
        "idempotency: a new Idempotency-Key": lambda session: once(scope={"actor": ACTOR, "key": session}),
        "audit: turn record + one tool call's two": audit,
    }


def measure(backend: Backend, turns: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for name, step in steps(backend).items():
        step("s" + uuid.uuid4().hex * 2)  # warm: first use builds clients and statements
        backend.calls.clear()
        samples = []
        for _ in range(turns):
            session = "s" + uuid.uuid4().hex * 2
            started = time.perf_counter()
            step(session)
            samples.append((time.perf_counter() - started) * 1000)
        figures[name] = {
            "p50_ms": percentile(samples, 50),
            "p99_ms": percentile(samples, 99),
            "aws_calls_per_turn": sum(backend.calls.values()) / turns,
            **{f"calls:{op}": n / turns for op, n in sorted(backend.calls.items())},
        }
    return figures


def run(smoke: bool) -> Result:
    turns = 5 if smoke else 300
    data: dict[str, Any] = {}
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for make in (lambda: sqlite_backend(Path(tmp)), dynamodb_backend):
            with make() as backend:
                figures = measure(backend, turns if backend.name.startswith("SQLite") else max(5, turns // 6))
            data[backend.name] = figures
            base = next(iter(figures.values()))["p50_ms"]
            rows = []
            for name, f in figures.items():
                calls = ", ".join(
                    f"{k.removeprefix('calls:')} {v:g}" for k, v in f.items() if k.startswith("calls:")
                )
                rows.append(
                    [
                        name,
                        f"{f['p50_ms']:.2f}",
                        f"{f['p99_ms']:.2f}",
                        f"{f['p50_ms'] / base:.2f}×",
                        calls or "-",
                    ]
                )
            tables.append(
                Table(
                    title=f"Governance cost per turn — {backend.name}",
                    compares="the turn's own storage work (claim, Memory event, index), same store, same run",
                    columns=["per turn", "p50 ms", "p99 ms", "of the turn's storage", "AWS calls per turn"],
                    rows=rows,
                    notes=["moto's wall clock is not DynamoDB's; the calls per turn are what carries to AWS"]
                    if backend.name.startswith("DynamoDB")
                    else [],
                )
            )
    return Result("governance_cost", tables, data)
