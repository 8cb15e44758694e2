# ruff: noqa: E402
"""Audit Lambda: `GET /api/audit` — the audit trail — and `GET|POST|DELETE /api/admin/locks` — the kill
switch — for members of the admin group only (pattern 3).

Anyone else gets the 404 a missing route gets, body included, whatever the query: the admin check
runs on the raw event before the resolver validates any parameter, so not even a malformed
parameter tells that the route exists.
"""

from __future__ import annotations

import gc
import time

# A cold start makes long-lived objects only: no garbage collection while the module loads; they
# are frozen (never scanned again) and collection turns back on at the end of the module.
gc.disable()

from functools import lru_cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from agentarch.adapters import wiring
from agentarch.config import AuditApiSettings, Env, HttpSettings, SettingsError, cached, load
from agentarch.core.decisions import Decision
from agentarch.core.errors import NO_SUCH_ENDPOINT, AccessDenied, StorageUnavailable
from agentarch.core.pagination import MAX_CURSOR_CHARS, MAX_PAGE_SIZE
from agentarch.handlers.http import (
    NotFound,
    actor_of,
    build_resolver,
    configured,
    documented,
    guarded_resolve,
)
from agentarch.handlers.observability import logger, metrics, tracer
from agentarch.services import audit, locks
from agentarch.services.audit import AuditRecord, AuditStore, AuditTrail
from agentarch.services.locks import REASON_MAX_CHARS, Lock, LockScope, LockStore, SessionStopper
from agentarch.services.notary import SessionVerifier, check_session

http_settings = load(HttpSettings)
app = build_resolver(http_settings)


class AuditPageOut(BaseModel):
    """A page of audit records; `next_cursor` is null on the last page. A page may hold fewer than
    `limit` records when a filter the index cannot apply (decision, or actor within a session) drops some."""

    items: list[AuditRecord]
    next_cursor: str | None
    session_verification: SessionVerificationOut | None = None


class ProblemOut(BaseModel):
    """One broken place: the record, its tamper class (`services.audit.TAMPER_CLASSES`), what is wrong."""

    seq: int
    tamper: str
    message: str


class NotaryOut(BaseModel):
    """The notary's checkpoints as read: how many, the newest one's time, and what is wrong with them."""

    readable: bool
    caught_up: bool  # false: older checkpoints are still being read (a budget per request); look again
    checkpoints: int
    latest: str | None
    problems: list[ProblemOut]


class SessionVerificationOut(BaseModel):
    """With a `session` filter: that session checked as `agentarch audit verify` checks it: its hash
    chain, recomputed from every stored record, against the heads the notary signed."""

    # "signed": a checkpoint covers every record; "partly signed": the newest ones are not covered
    # yet; "unsigned": none is (or no notary is configured: `notary` is null); "tampered": see problems.
    state: Literal["signed", "partly signed", "unsigned", "tampered"]
    records: int
    last_seq: int
    signed_seq: int | None  # the newest record a signed checkpoint covers
    uncovered: tuple[int, int] | None  # (first, last) seq not yet covered by a checkpoint
    first_bad_seq: int | None
    tamper: str | None  # the first bad record's tamper class
    problems: list[ProblemOut]
    notary: NotaryOut | None


def admin_group() -> str:
    """The Cognito group whose members may read the trail."""
    with configured("audit"):
        return cached(AuditApiSettings).audit_admin_group


@lru_cache(maxsize=1)
def audit_store() -> AuditStore:
    """The store, built once per execution environment."""
    with configured("audit"):
        store = wiring.audit_store(cached(AuditApiSettings))
        if store is None:
            raise SettingsError(f"{Env.STORAGE_BACKEND} is required by the audit Lambda")
        return store


def admins_only(event: dict[str, Any]) -> None:
    """Refuse anyone outside the admin group with the missing route's 404, before anything else."""
    if admin_group() not in actor_of(event).groups:
        raise NotFound(NO_SUCH_ENDPOINT)


Text = Annotated[str | None, Query(min_length=1, max_length=256, description="exact match")]
# An ISO-8601 date or date-time, as text (a number is not a time, whatever pydantic's lax mode says).
# The year within what a filter may name (services.audit: 1970 to 9998), so the document says it too.
ISO_MOMENT = (
    r"^(19[7-9]\d|[2-8]\d{3}|9[0-8]\d{2}|99[0-8]\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$"
)
Moment = Annotated[
    str | None,
    Query(
        pattern=ISO_MOMENT, description="ISO-8601 date or date-time (UTC when it has no offset), inclusive"
    ),
]


@app.get(
    "/api/audit",
    summary="Read the audit trail (audit admin group only)",
    operation_id="listAuditRecords",
    responses=documented(200, "a page of audit records", 404, 422, 503),
)
def list_audit_records(
    actor: Text = None,
    session: Text = None,
    since: Moment = None,
    until: Moment = None,
    decision: Annotated[Decision | None, Query(description="the policy decision")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_CHARS, description="opaque: the previous page's `next_cursor`, unchanged"
        ),
    ] = None,
) -> AuditPageOut:
    """A page of records: a session's in chain order, otherwise newest first."""
    admins_only(app.current_event.raw_event)  # the handler checked already; a route never trusts that
    store = audit_store()
    query = audit.make_query(actor=actor, session=session, since=since, until=until, decision=decision)
    page = audit.list_records(store, query, limit, cursor)
    logger.info("audit page read", extra={"records": len(page.items), "read": page.read})
    checked = None
    if session is not None and cursor is None:  # the first page of a session carries its verdict
        checked = session_verification(store, session)
    return AuditPageOut(items=page.items, next_cursor=page.next_cursor, session_verification=checked)


@lru_cache(maxsize=1)
def lock_store() -> LockStore:
    """The kill switch's table, built once per execution environment."""
    with configured("audit"):
        store = wiring.lock_store(cached(AuditApiSettings))
        if store is None:
            raise SettingsError(f"{Env.LOCKS_TABLE} is required by the audit Lambda")
        return store


@lru_cache(maxsize=1)
def admin_trail() -> AuditTrail | None:
    """The trail the kill switch's lock and unlock records go to."""
    with configured("audit"):
        return wiring.audit_trail(cached(AuditApiSettings))


@lru_cache(maxsize=1)
def session_stopper() -> SessionStopper | None:
    """`StopRuntimeSession` in AWS (None locally, and where no runtime is named)."""
    with configured("audit"):
        return wiring.session_stopper(cached(AuditApiSettings))


class LockIn(BaseModel):
    """Lock a user (`target` = their `sub`), a session (`target` = its id) or everything (no target)."""

    model_config = ConfigDict(extra="forbid")

    scope: LockScope
    target: str | None = Field(None, min_length=1, max_length=256)
    reason: str = Field("", max_length=REASON_MAX_CHARS)


class LockOut(BaseModel):
    """A lock as set, and the runtime sessions in flight that were stopped."""

    lock: Lock
    stopped_sessions: list[str]


class LocksOut(BaseModel):
    """Every lock, oldest first."""

    items: list[Lock]


@app.get(
    "/api/admin/locks",
    summary="List the kill switch's locks (audit admin group only)",
    operation_id="listLocks",
    responses=documented(200, "every lock", 404, 503),
)
def list_locks() -> LocksOut:
    """Every lock in force."""
    admins_only(app.current_event.raw_event)
    return LocksOut(items=lock_store().list_all())


@app.post(
    "/api/admin/locks",
    summary="Lock a user, a session or everything (audit admin group only)",
    operation_id="createLock",
    responses=documented(200, "the lock, in force within a second on every runtime", 400, 404, 415, 422, 503),
)
def create_lock(request: Annotated[LockIn, Body()]) -> LockOut:
    """Every model call, tool call and new turn of the scope is refused within a second; in AWS the
    scope's sessions in flight are stopped too. Recorded in the audit trail."""
    admins_only(app.current_event.raw_event)
    admin = actor_of(app.current_event.raw_event)
    lock = locks.make_lock(request.scope, request.target, admin.id, request.reason)
    stopper = session_stopper()
    stopped = locks.set_lock(
        lock_store(), lock, admin_trail(), stopper, lambda lock: locks.sessions_in_flight(audit_store(), lock)
    )
    logger.info("lock set", extra={"lock": lock.key, "stopped": len(stopped)})
    return LockOut(lock=lock, stopped_sessions=stopped)


@app.delete(
    "/api/admin/locks",
    summary="Lift a lock (audit admin group only)",
    operation_id="deleteLock",
    responses=documented(200, "whether there was such a lock", 404, 422, 503),
)
def delete_lock(
    scope: Annotated[LockScope, Query(description="user, session or all")],
    target: Annotated[
        str | None, Query(min_length=1, max_length=256, description="the user or session")
    ] = None,
) -> dict[str, bool]:
    """Lift the lock of `scope` on `target`; recorded in the audit trail."""
    admins_only(app.current_event.raw_event)
    admin = actor_of(app.current_event.raw_event)
    removed = locks.remove_lock(lock_store(), scope, target, admin.id, admin_trail())
    logger.info("lock lifted", extra={"scope": scope.value, "removed": removed})
    return {"removed": removed}


@lru_cache(maxsize=1)
def session_verifier() -> SessionVerifier:
    """The checks `agentarch audit verify` runs, against the notary's checkpoints (read-only), kept
    for the execution environment's life so each checkpoint is read once."""
    with configured("audit"):
        return wiring.session_verifier(cached(AuditApiSettings))


def session_verification(store: AuditStore, session: str) -> SessionVerificationOut:
    """One session's state: its chain, the newest signed head, what no checkpoint covers yet."""
    verifier = session_verifier()
    try:
        evidence, readable = verifier.checked_evidence(), True
    except (StorageUnavailable, AccessDenied, OSError, ValueError) as exc:  # the chain still says what it can
        logger.warning("the notary's checkpoints cannot be read", extra={"error": type(exc).__name__})
        if isinstance(exc, AccessDenied):  # a deployment problem: which call the role may not make
            logger.error(str(exc))
        evidence, readable = None, False
    report = check_session(session, store.stored(session), evidence, time.time())
    return SessionVerificationOut(
        state=report.state,
        records=report.records,
        last_seq=report.last_seq,
        signed_seq=report.signed_seq,
        uncovered=report.uncovered,
        first_bad_seq=report.first_bad,
        tamper=report.problems[0].tamper if report.problems else None,
        problems=[ProblemOut(seq=p.seq, tamper=p.tamper, message=p.message) for p in report.problems],
        notary=None
        if not verifier.notarised
        else NotaryOut(
            readable=readable,
            caught_up=evidence.caught_up if evidence else False,
            checkpoints=evidence.checkpoints if evidence else 0,
            latest=evidence.latest if evidence else None,
            problems=[ProblemOut(seq=p.seq, tamper=p.tamper, message=p.message) for p in evidence.problems]
            if evidence
            else [],
        ),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return guarded_resolve(app, http_settings, event, context, admit=admins_only)


gc.freeze()
gc.enable()
