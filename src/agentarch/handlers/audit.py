"""Audit Lambda: `GET /api/audit` — the audit trail, for members of the admin group only (pattern 3).

Anyone else gets the 404 a missing route gets, body included, whatever the query: the admin check
runs before any parameter is read, so not even a malformed parameter tells that the route exists.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from agentarch.adapters import audit_backend
from agentarch.config import AuditApiSettings, Env, HttpSettings, SettingsError, cached, load
from agentarch.handlers.http import (
    NO_SUCH_ENDPOINT,
    NotFound,
    build_resolver,
    configured,
    current_actor,
    documented,
    guarded_resolve,
)
from agentarch.handlers.observability import logger, metrics, tracer
from agentarch.services import audit
from agentarch.services.audit import DECISIONS, AuditRecord, AuditStore
from agentarch.services.pagination import MAX_PAGE_SIZE, InvalidLimit, check_limit

http_settings = load(HttpSettings)
app = build_resolver(http_settings)


class AuditPageOut(BaseModel):
    """A page of audit records; `next_cursor` is null on the last page. A page may hold fewer than
    `limit` records when a filter the index cannot apply (decision, or actor within a session) drops some."""

    items: list[AuditRecord]
    next_cursor: str | None


@lru_cache(maxsize=1)
def reader() -> tuple[str, AuditStore]:
    """The admin group and the store, built once per execution environment."""
    with configured("audit"):
        settings = cached(AuditApiSettings)
        store = audit_backend.audit_store(settings)
        if store is None:
            raise SettingsError(f"{Env.STORAGE_BACKEND} is required by the audit Lambda")
        return settings.audit_admin_group, store


# Plain strings: the values are checked after the admin check (a 422 would tell that the route exists).
Text = Annotated[str | None, Query(description="exact match")]
Moment = Annotated[str | None, Query(description="ISO-8601 date or time (UTC when no offset), inclusive")]


@app.get(
    "/api/audit",
    summary="Read the audit trail (admin group only)",
    operation_id="listAuditRecords",
    responses=documented(200, "a page of audit records", 404, 422, 503),
)
def list_audit_records(
    actor: Text = None,
    session: Text = None,
    since: Moment = None,
    until: Moment = None,
    decision: Annotated[str | None, Query(description="one of " + ", ".join(DECISIONS))] = None,
    limit: Annotated[str | None, Query(description=f"page size, 1..{MAX_PAGE_SIZE} (default 50)")] = None,
    cursor: Annotated[
        str | None, Query(description="opaque: the previous page's `next_cursor`, unchanged")
    ] = None,
) -> AuditPageOut:
    """A page of records: a session's in chain order, otherwise newest first."""
    caller = current_actor(app)
    admin_group, store = reader()
    if admin_group not in caller.groups:
        raise NotFound(NO_SUCH_ENDPOINT)
    query = audit.make_query(actor=actor, session=session, since=since, until=until, decision=decision)
    page = audit.list_records(store, query, _limit(limit), cursor)
    logger.info("audit page read", extra={"records": len(page.items), "read": page.read})
    return AuditPageOut(items=page.items, next_cursor=page.next_cursor)


def _limit(text: str | None) -> int:
    if text is None:
        return 50
    if not text.isdigit():
        raise InvalidLimit(f"limit must be an integer between 1 and {MAX_PAGE_SIZE}")
    return check_limit(int(text))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return guarded_resolve(app, http_settings, event, context)
