"""`agentarch audit` and `agentarch audit verify` on a local trail, as an operator runs them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentarch.core.contracts import AuditContext
from agentarch.core.identity import Actor
from agentarch.dev.cli import main
from agentarch.dev.sqlite import SqliteAuditStore, SqliteDatabase
from agentarch.services.audit import AuditEvent, AuditRecord, AuditTrail, record_hash

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
SESSIONS = ("s-first-0123456789abcdef0123456789", "s-second-0123456789abcdef012345678")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A local trail: two sessions of four records each (a turn, then a tool call's two, a turn)."""
    ticks = iter(range(100))
    trail = AuditTrail(
        SqliteAuditStore(SqliteDatabase(tmp_path / "agentarch.db")),
        clock=lambda: T0 + timedelta(seconds=next(ticks)),
    )
    for session in SESSIONS:
        context = AuditContext(actor=Actor(id="alice"), session=session)
        trail.turn(context, outcome="ok", latency_ms=10, input_tokens=5, output_tokens=2)
        trail.append(_event(context, "started"))
        trail.append(_event(context, "ok"))
        trail.turn(context, outcome="ok", latency_ms=11)
    return tmp_path


def _event(context: AuditContext, outcome: str) -> AuditEvent:
    return AuditEvent(
        time=T0 + timedelta(minutes=1),
        actor=context.actor.id,
        session=context.session,
        kind="tool_call",
        tool="calculator",
        call_id="c1",
        decision="allow",
        mode="ENFORCE",
        args_digest="ab" * 32,
        outcome=outcome,  # type: ignore[arg-type]
    )


def sql(state_dir: Path, statement: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(state_dir / "agentarch.db") as connection:
        return connection.execute(statement, params).fetchall()


def stored_text(state_dir: Path, session: str, seq: int) -> str:
    rows = sql(state_dir, "SELECT record FROM audit_records WHERE session_id = ? AND seq = ?", session, seq)
    return str(rows[0][0])


def verify(state_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["audit", "verify", "--state-dir", str(state_dir), *extra])
    out, err = capsys.readouterr()
    return code, out + err


def test_an_untouched_trail_verifies_clean(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = verify(state_dir, capsys)
    assert code == 0
    assert "verified 8 record(s) in 2 session(s), no checkpoints read: every chain is intact" in output


def test_a_changed_record_is_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = stored_text(state_dir, SESSIONS[0], 3).replace('"outcome":"ok"', '"outcome":"error"')
    sql(state_dir, "UPDATE audit_records SET record = ? WHERE session_id = ? AND seq = 3", text, SESSIONS[0])

    code, output = verify(state_dir, capsys)

    assert code == 1
    assert f"session {SESSIONS[0]} seq 3: the record was changed" in output
    assert SESSIONS[1] not in output


def test_a_changed_record_with_a_recomputed_hash_breaks_the_next_link(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = json.loads(stored_text(state_dir, SESSIONS[0], 2))
    record["tool"] = "harmless_tool"
    record["hash"] = record_hash(record)
    text = AuditRecord.model_validate(record).to_json()
    sql(state_dir, "UPDATE audit_records SET record = ? WHERE session_id = ? AND seq = 2", text, SESSIONS[0])

    code, output = verify(state_dir, capsys)

    assert code == 1
    assert f"session {SESSIONS[0]} seq 3: does not link to seq 2" in output


def test_a_removed_record_is_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql(state_dir, "DELETE FROM audit_records WHERE session_id = ? AND seq = 2", SESSIONS[1])

    code, output = verify(state_dir, capsys)

    assert code == 1
    assert f"session {SESSIONS[1]} seq 3: record(s) 2 before it are missing" in output


def test_swapped_records_are_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    second, third = stored_text(state_dir, SESSIONS[0], 2), stored_text(state_dir, SESSIONS[0], 3)
    sql(state_dir, "UPDATE audit_records SET record = ? WHERE session_id = ? AND seq = 2", third, SESSIONS[0])
    sql(
        state_dir, "UPDATE audit_records SET record = ? WHERE session_id = ? AND seq = 3", second, SESSIONS[0]
    )

    code, output = verify(state_dir, capsys)

    assert code == 1
    assert f"session {SESSIONS[0]} seq 2: stored at seq 2 but the record is seq 3" in output
    assert f"session {SESSIONS[0]} seq 3: stored at seq 3 but the record is seq 2" in output


def test_an_indexed_copy_changed_to_hide_a_record_is_named(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(
        state_dir,
        "UPDATE audit_records SET actor_id = 'someone' WHERE session_id = ? AND seq = 4",
        SESSIONS[1],
    )

    code, output = verify(state_dir, capsys, "--session", SESSIONS[1])

    assert code == 1
    assert f"session {SESSIONS[1]} seq 4: the stored actor differs from the record's" in output


def test_records_print_as_json_and_csv_with_filters(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--state-dir", str(state_dir), "--session", SESSIONS[0], "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["seq"], r["kind"], r["outcome"]) for r in records] == [
        (1, "turn", "ok"),
        (2, "tool_call", "started"),
        (3, "tool_call", "ok"),
        (4, "turn", "ok"),
    ]

    assert main(["audit", "--state-dir", str(state_dir), "--actor", "alice", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("time,actor,") and len(lines) == 9


def test_a_bad_filter_exits_2_naming_it(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--state-dir", str(state_dir), "--since", "last tuesday"]) == 2
    assert "since: not an ISO-8601 date" in capsys.readouterr().err


def notarised(state_dir: Path) -> None:
    from agentarch.dev.notary import LocalNotary

    assert LocalNotary(SqliteDatabase(state_dir / "agentarch.db"), state_dir).run_once() is not None


def test_with_the_notary_a_dropped_tail_is_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notarised(state_dir)
    assert verify(state_dir, capsys)[0] == 0
    sql(state_dir, "DELETE FROM audit_records WHERE session_id = ? AND seq = 4", SESSIONS[0])

    code, output = verify(state_dir, capsys)

    assert code == 1
    assert f"session {SESSIONS[0]} seq 4: the tail was truncated: records 4..4" in output
    assert f"session {SESSIONS[0]}: first bad record seq 4" in output
    assert "1 checkpoint(s)" in output


def test_an_exported_bundle_verifies_offline_and_names_an_edit(
    state_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notarised(state_dir)
    assert main(["audit", "export", "--state-dir", str(state_dir), "--session", SESSIONS[1]]) == 0
    bundle = tmp_path / "bundle.jsonl"
    bundle.write_text(capsys.readouterr().out)
    assert SESSIONS[0] not in bundle.read_text()  # nothing about the other session

    assert main(["audit", "verify-bundle", str(bundle)]) == 0
    assert "the chain holds and seq 4 is signed by the notary" in capsys.readouterr().err

    bundle.write_text(bundle.read_text().replace('"decision":"allow"', '"decision":"deny"', 1))
    assert (
        main(["audit", "verify-bundle", str(bundle), "--public-key", str(state_dir / "notary/notary.pub")])
        == 1
    )
    assert "hash does not match" in capsys.readouterr().out


def test_reading_a_deployed_trail_without_aws_credentials_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    status = main(["audit", "--table", "agentarch-audit", "--region", "us-east-1"])

    printed = capsys.readouterr()
    assert status == 2 and printed.out == ""  # no header or bracket before the failure
    assert "agentarch audit: no AWS credentials were found" in printed.err
