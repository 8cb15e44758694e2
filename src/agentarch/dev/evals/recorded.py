"""`agentarch eval --recorded`: the trajectory evaluators over turns already served.

The audit trail says which tools each turn asked for, what the policy decided and what ran, and
the turn's tokens and latency; it keeps argument digests, not text. The checks that need text (no
other user's words in an answer) read Memory, where the conversation is stored. The report says,
for each check, which source it read. Locally both are the stack's SQLite file; in AWS the audit
table and the Memory resource (`--table`, `--memory-id`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentarch.services.audit import AuditRecord, AuditStore, list_records, make_query
from agentarch.services.evaluation import (
    Budget,
    CheckResult,
    TurnTrace,
    consequential_tools,
    prompts_from_spans,
    traces_from_audit,
    traces_from_spans,
    trajectory_checks,
)
from agentarch.services.memory import MemoryEvents, Message

PAGE = 100


@dataclass
class RecordedReport:
    """What the trajectory checks found over the recorded turns."""

    turns: int
    sources: dict[str, str]
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # check → passed/failed/skipped
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> str:
        """Stable: {"version": 1, "status", "turns", "checks": {name: {passed, failed, skipped, source}}, "failures"}."""
        return (
            json.dumps(
                {
                    "version": 1,
                    "status": "pass" if self.passed else "fail",
                    "turns": self.turns,
                    "checks": {
                        name: {
                            **{k: counts.get(k, 0) for k in ("passed", "failed", "skipped")},
                            "source": self.sources[name],
                        }
                        for name, counts in sorted(self.counts.items())
                    },
                    "failures": self.failures,
                },
                indent=2,
            )
            + "\n"
        )

    def to_text(self) -> str:
        """What a person reads."""
        lines = [f"{self.turns} recorded turn(s)"]
        for name, counts in sorted(self.counts.items()):
            lines.append(
                f"  {name:30} passed {counts.get('passed', 0):4}  failed {counts.get('failed', 0):4}  "
                f"skipped {counts.get('skipped', 0):4}  [{self.sources[name]}]"
            )
        for failure in self.failures:
            lines.append(
                f"  FAIL {failure['check']} actor {failure['actor']} session {failure['session']} "
                f"turn {failure['turn']}: expected {failure['expected']}, got {failure['got']}"
            )
        lines.append("PASS" if self.passed else f"FAIL: {len(self.failures)} failure(s)")
        return "\n".join(lines) + "\n"


def audit_records(store: AuditStore, since: str | None, actor: str | None) -> Iterator[AuditRecord]:
    """Every record the filters select (the trail's own listing, page by page)."""
    query = make_query(actor=actor, session=None, since=since, until=None, decision=None)
    cursor = None
    while True:
        page = list_records(store, query, PAGE, cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def session_messages(memory: MemoryEvents, actor: str, session: str) -> list[Message] | None:
    """A session's messages, oldest first; None when Memory cannot give them."""
    pages: list[list[Message]] = []
    cursor = None
    try:
        while True:
            page = memory.list_messages(actor, session, PAGE, cursor)
            pages.append(list(page.items))
            cursor = page.next_cursor
            if cursor is None:
                break
    except Exception:  # whatever the store raises: the text checks are skipped for this session
        return None
    return [message for page in reversed(pages) for message in page]


def evaluate_recorded(
    records: Iterable[AuditRecord],
    memory: MemoryEvents | None,
    budget: Budget,
    consequential: Sequence[str] = (),
) -> RecordedReport:
    """Run the trajectory checks over every recorded turn."""
    records = list(records)
    answers: dict[tuple[str, str], list[str] | None] = {}
    said: dict[str, list[str]] = defaultdict(list)
    for actor, session in sorted({(r.actor, r.session) for r in records}):
        messages = session_messages(memory, actor, session) if memory is not None else None
        answers[(actor, session)] = (
            None if messages is None else [m.text for m in messages if m.role == "assistant"]
        )
        said[actor].extend(m.text for m in messages or () if m.role == "user")
    traces = traces_from_audit(records, answers)
    sources = {
        "approval_before_consequential": "audit",
        "no_denied_retry": "audit",
        "no_foreign_data": "memory",
        "tokens_within_budget": "audit",
        "latency_within_budget": "audit",
    }
    return evaluate_traces(traces, said, budget, consequential, sources)


def evaluate_spans(
    spans: Iterable[dict[str, Any]],
    budget: Budget,
    consequential: Sequence[str] = (),
    actor: str | None = None,
) -> RecordedReport:
    """Run the trajectory checks over the turns the agent's spans show (every check reads the spans)."""
    spans = list(spans)
    traces = [t for t in traces_from_spans(spans) if actor is None or t.actor_id == actor]
    sources = dict.fromkeys(
        (
            "approval_before_consequential",
            "no_denied_retry",
            "no_foreign_data",
            "tokens_within_budget",
            "latency_within_budget",
        ),
        "spans",
    )
    return evaluate_traces(traces, prompts_from_spans(spans), budget, consequential, sources)


def evaluate_traces(
    traces: Sequence[TurnTrace],
    said: dict[str, list[str]],
    budget: Budget,
    consequential: Sequence[str],
    sources: dict[str, str],
) -> RecordedReport:
    """The trajectory checks over turns, with what each user said (for the foreign-data check)."""
    tools = consequential_tools(traces, consequential)
    report = RecordedReport(turns=len(traces), sources=sources)
    seen: Counter[tuple[str, str]] = Counter()
    for trace in traces:
        seen[(trace.actor_id, trace.session_id)] += 1
        others = [text for actor, texts in said.items() if actor != trace.actor_id for text in texts]
        results: list[CheckResult] = trajectory_checks(
            trace,
            consequential=tools,
            budget=budget,
            own_texts=said.get(trace.actor_id, []),
            others_texts=others,
        )
        for result in results:
            outcome = "skipped" if result.skipped else "passed" if result.passed else "failed"
            report.counts.setdefault(result.check, Counter())[outcome] += 1
            if outcome == "failed":
                report.failures.append(
                    {
                        "check": result.check,
                        "actor": trace.actor_id,
                        "session": trace.session_id,
                        "turn": seen[(trace.actor_id, trace.session_id)],
                        "expected": result.expected,
                        "got": result.got,
                        "source": result.source,
                    }
                )
    return report


def local_sources(state_dir: Path) -> tuple[AuditStore, MemoryEvents]:
    """The local stack's trail and Memory (its SQLite file)."""
    from agentarch.dev.sqlite import DATABASE_FILE, SqliteAuditStore, SqliteDatabase, SqliteMemoryEvents

    path = state_dir / DATABASE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no local stack state at {path} (start `agentarch dev` or pass --table)")
    database = SqliteDatabase(path)
    return SqliteAuditStore(database), SqliteMemoryEvents(database)


def aws_sources(
    table: str, memory_id: str | None, region: str | None
) -> tuple[AuditStore, MemoryEvents | None]:
    """A deployed trail (the audit table) and, when named, its Memory resource."""
    from agentarch.adapters.aws_audit import DynamoAuditStore
    from agentarch.adapters.aws_memory import AgentCoreMemoryEvents

    memory = AgentCoreMemoryEvents(memory_id, region=region) if memory_id else None
    return DynamoAuditStore(table, region=region), memory
