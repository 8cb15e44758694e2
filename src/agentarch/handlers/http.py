"""What every HTTP handler shares: the resolver, the error shape, identity, and request guards.

Errors always answer `{"error": {"code", "message", "request_id"}}` with CORS headers, so the
browser can show the real reason. Every domain exception is mapped to its status **once**, here
(`DOMAIN_ERRORS`); routes never translate errors by hand. Stack traces and exception text from
outside the domain never reach a response.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from agentarch.config import HttpSettings, SettingsError, load
from agentarch.core.errors import (
    NO_SUCH_ENDPOINT,
    AccessDenied,
    ErrorResponse,
    InvalidInput,
    StorageUnavailable,
    error_body,
)
from agentarch.core.identity import Actor, actor_from_claims
from agentarch.handlers.observability import logger, metrics
from agentarch.services.chat import AgentTimeout, AgentUnavailable, AnsweredTooLate, MalformedAgentReply
from agentarch.services.conversations import ApprovalNotPending, ConversationNotFound
from agentarch.services.locks import Locked
from agentarch.services.memory import DeleteIncomplete
from agentarch.services.quotas import QuotaExceeded


class ApiError(Exception):
    """An error with an HTTP status and a stable code; its message is safe to show a user."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "internal_error"
    metric: str | None = None  # a CloudWatch metric counted each time this error is answered

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    @classmethod
    def from_domain(cls, exc: Exception, message: str) -> ApiError:
        """The answer to a domain exception (a subclass may take more from it, e.g. a header)."""
        return cls(message)


class Unauthorized(ApiError):
    status, code = HTTPStatus.UNAUTHORIZED, "unauthorized"


class Forbidden(ApiError):
    status, code, metric = HTTPStatus.FORBIDDEN, "locked", "LockedTurns"


class NotFound(ApiError):
    status, code = HTTPStatus.NOT_FOUND, "not_found"


class PayloadTooLarge(ApiError):
    status, code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"


class MalformedJson(ApiError):
    status, code = HTTPStatus.BAD_REQUEST, "malformed_json"


class Unprocessable(ApiError):
    status, code = HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error"


class IdempotencyKeyReused(ApiError):
    status, code = HTTPStatus.UNPROCESSABLE_ENTITY, "idempotency_key_reused"


class RequestInProgress(ApiError):
    status, code = HTTPStatus.CONFLICT, "request_in_progress"


class QuotaExceededError(ApiError):
    status, code, metric = HTTPStatus.TOO_MANY_REQUESTS, "quota_exceeded", "QuotaExceeded"

    @classmethod
    def from_domain(cls, exc: Exception, message: str) -> ApiError:
        seconds = exc.retry_after_seconds if isinstance(exc, QuotaExceeded) else 60
        return cls(message, headers={"Retry-After": str(seconds)})


class BadGateway(ApiError):
    status, code, metric = HTTPStatus.BAD_GATEWAY, "agent_error", "AgentErrors"


class ServiceUnavailable(ApiError):
    status, code = HTTPStatus.SERVICE_UNAVAILABLE, "storage_unavailable"


class DeleteInProgress(ApiError):
    status, code = HTTPStatus.SERVICE_UNAVAILABLE, "delete_in_progress"


class GatewayTimeout(ApiError):
    status, code, metric = HTTPStatus.GATEWAY_TIMEOUT, "agent_timeout", "AgentTimeouts"


class NotPending(ApiError):
    status, code = HTTPStatus.CONFLICT, "approval_not_pending"


class Misconfigured(ApiError):
    status, code = HTTPStatus.INTERNAL_SERVER_ERROR, "misconfigured"


# Each domain exception, the answer it becomes, and the message a user sees (None: the exception's own,
# which the services word for users). Registered once on every resolver.
DOMAIN_ERRORS: tuple[tuple[tuple[type[Exception], ...], type[ApiError], str | None], ...] = (
    ((ConversationNotFound,), NotFound, "no such conversation"),
    (
        (ApprovalNotPending,),
        NotPending,
        "nothing in this conversation waits for that approval: it was decided already, has expired, "
        "or was never asked for",
    ),
    ((InvalidInput,), Unprocessable, None),
    ((AgentTimeout, AnsweredTooLate), GatewayTimeout, "the agent took too long to answer; try again"),
    ((AgentUnavailable, MalformedAgentReply), BadGateway, "the agent could not answer; try again"),
    ((StorageUnavailable,), ServiceUnavailable, "storage is unavailable right now; try again shortly"),
    (
        (AccessDenied,),
        Misconfigured,
        "this service may not use one of its AWS resources (a deployment problem; its log names the call)",
    ),
    ((DeleteIncomplete,), DeleteInProgress, "the conversation is still being deleted; send the DELETE again"),
    ((QuotaExceeded,), QuotaExceededError, None),
    ((Locked,), Forbidden, None),
    (
        (IdempotencyValidationError,),
        IdempotencyKeyReused,
        "this Idempotency-Key was already used for a different request; send a new key",
    ),
    (
        (IdempotencyAlreadyInProgressError,),
        RequestInProgress,
        "a request with this Idempotency-Key is still running; retry when it has answered",
    ),
    (
        (IdempotencyPersistenceLayerError,),
        ServiceUnavailable,
        "storage is unavailable right now; try again shortly",
    ),
)


# Every status the API can answer with an error, and what it means (the OpenAPI document says so).
ERROR_STATUSES: dict[int, str] = {
    400: "the body cannot be read as JSON (`malformed_json`)",
    401: "no valid access token with the API scope, or no identity in it (`unauthorized`)",
    403: "an administrator has paused this user, this conversation or the assistant (`locked`): nothing ran",
    404: "no such route, or no such conversation of yours (`not_found`)",
    409: "a request with the same Idempotency-Key is still running (`request_in_progress`), or the "
    "approval sent is not pending in this conversation: decided already, expired (15 minutes), "
    "superseded by a newer message, or never issued to you (`approval_not_pending`)",
    413: "the body is larger than the limit (`payload_too_large`)",
    415: "a body not sent as application/json (`unsupported_media_type`)",
    422: "a value is wrong: a body field, path id, header, query parameter or cursor; the message names "
    "it (`validation_error`), or an Idempotency-Key was reused for a different body "
    "(`idempotency_key_reused`)",
    429: "too many requests from one address (`rate_limited`), or the caller's daily quota is spent "
    "(`quota_exceeded`; `Retry-After` says when it resets)",
    500: "the function failed (`internal_error`), or its deployment is incomplete: a setting missing or "
    "malformed, or an AWS call its role may not make (`misconfigured`; the log says which)",
    502: "the agent or the function failed (`agent_error`, `bad_gateway`)",
    503: "the function is at its concurrency limit (`service_unavailable`: retry after `Retry-After` "
    "seconds), the conversation store is unavailable right now (`storage_unavailable`), or a long "
    "conversation is still being deleted (`delete_in_progress`: send the DELETE again)",
    504: "the agent or the function did not answer in time (`agent_timeout`, `integration_timeout`)",
}
# The front door (API Gateway + WAF) may answer any route with these, before or around the Lambda.
GATEWAY_STATUSES = (401, 413, 429, 500, 502, 503, 504)


def documented(
    success: int, description: str, *errors: int, links: dict[str, str] | None = None
) -> dict[int, OpenAPIResponse]:
    """A route's `responses=`: its success, its own error statuses and the gateway's, each with
    the error model, so the OpenAPI document lists every status the route can answer.

    `links` maps an operationId to the runtime expression of the session id it takes from this
    answer, so clients (and schemathesis' stateful runs) can follow one conversation across routes.
    """
    responses: dict[int, OpenAPIResponse] = {success: {"description": description}}
    if links:
        responses[success]["links"] = {
            operation: {"operationId": operation, "parameters": {"session_id": expression}}
            for operation, expression in links.items()
        }
    if success == HTTPStatus.NO_CONTENT:
        responses[success]["content"] = {}
    for status in sorted({*errors, *GATEWAY_STATUSES}):
        responses[status] = {
            "description": ERROR_STATUSES[status],
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return responses


def build_resolver(settings: HttpSettings | None = None) -> APIGatewayRestResolver:
    """A REST resolver with validation, CORS for the configured origins and our error mapping."""
    http = settings or load(HttpSettings)
    origins = http.allowed_origins
    resolver = APIGatewayRestResolver(
        enable_validation=True,
        cors=CORSConfig(
            allow_origin=origins[0],
            extra_origins=origins[1:],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            max_age=600,
        ),
    )

    @resolver.exception_handler(ApiError)
    def _api_error(exc: ApiError) -> Response[Any]:
        if exc.status >= 500:
            reason = exc.__cause__ if exc.__cause__ is not None else exc
            logger.error("request failed", extra={"error_code": exc.code, "reason": str(reason)})
        if exc.metric:
            metrics.add_metric(name=exc.metric, unit="Count", value=1)
        return _error(resolver, exc.status, exc.code, exc.message, exc.headers)

    def _domain_error(answer: type[ApiError], message: str | None) -> Callable[[Exception], Response[Any]]:
        def handle(exc: Exception) -> Response[Any]:
            error = answer.from_domain(exc, message or str(exc))
            error.__cause__ = exc
            response: Response[Any] = _api_error(error)
            return response

        return handle

    for exceptions, answer, message in DOMAIN_ERRORS:
        resolver.exception_handler(list(exceptions))(_domain_error(answer, message))

    @resolver.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(
                resolver, HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON"
            )
        return _error(resolver, HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", _describe(errors))

    @resolver.not_found
    def _no_route(exc: Exception) -> Response[Any]:
        return _error(resolver, HTTPStatus.NOT_FOUND, "not_found", NO_SUCH_ENDPOINT)

    @resolver.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        logger.exception("unexpected error")
        return _error(resolver, HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong")

    return resolver


@contextmanager
def configured(service: str) -> Iterator[None]:
    """Turn a missing or malformed setting into a logged, named error and a 500 `misconfigured`."""
    try:
        yield
    except SettingsError as exc:
        logger.error(str(exc))
        raise Misconfigured(f"the {service} service is not configured") from None


def current_actor(resolver: APIGatewayRestResolver) -> Actor:
    """The actor from the authorizer claims (`sub`, `cognito:groups`); never from the body."""
    return actor_of(resolver.current_event.raw_event)


def actor_of(event: dict[str, Any]) -> Actor:
    """The actor of an API Gateway event: its authorizer's claims, the groups exact from the verified
    token (see `core.identity`); `Unauthorized` without a subject."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    headers = event.get("headers") or {}
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    actor = actor_from_claims(claims, authorization)
    if actor is None:
        raise Unauthorized("sign in first: the request carries no identity")
    return actor


def check_body_size(event: dict[str, Any], settings: HttpSettings) -> None:
    """Refuse bodies over the limit before anything parses them (WAF enforces the same limit)."""
    body = event.get("body") or ""
    if len(body.encode("utf-8")) > settings.max_body_bytes:
        raise PayloadTooLarge(f"the request body is larger than {settings.max_body_bytes} bytes")


def check_json_content(event: dict[str, Any]) -> None:
    """A body must be declared as JSON (media types are case-insensitive) and be one JSON object.

    The resolver would read any other media type as a form, compares the type case-sensitively, and
    fails with a 500 on JSON it cannot parse (too deep, integers past Python's digit limit), so
    these are settled here: 415, 400 `malformed_json`, or 422 for a body that is not an object.
    """
    body = event.get("body")
    if not body:
        return
    headers = event.get("headers") or {}
    header_name = next((k for k in headers if k.lower() == "content-type"), None)
    media_type = str(headers.get(header_name, "")).split(";")[0].strip().lower() if header_name else ""
    if media_type != "application/json":
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    headers[header_name] = "application/json"  # the resolver compares it case-sensitively
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedJson("the request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise Unprocessable("body: must be a JSON object")


def guarded_resolve(
    resolver: APIGatewayRestResolver,
    settings: HttpSettings,
    event: dict[str, Any],
    context: Any,
    admit: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Resolve an event after the guards that must run before any validation; `admit` may refuse
    the event first by raising an `ApiError` (e.g. a route only some groups may see)."""
    try:
        if admit is not None:
            admit(event)
        if event.get("httpMethod") in ("POST", "PUT", "PATCH"):
            check_body_size(event, settings)
            check_json_content(event)
    except ApiError as exc:
        return _early_error(resolver, settings, event, exc)
    return resolver.resolve(event, context)


def _early_error(
    resolver: APIGatewayRestResolver, settings: HttpSettings, event: dict[str, Any], exc: ApiError
) -> dict[str, Any]:
    headers = {"Content-Type": content_types.APPLICATION_JSON, **cors_headers(settings, event)}
    request_id = ((event.get("requestContext") or {}).get("requestId")) or ""
    body = error_body(exc.code, exc.message, request_id)
    return {
        "statusCode": int(exc.status),
        "headers": headers,
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def cors_headers(settings: HttpSettings, event: dict[str, Any]) -> dict[str, str]:
    """The CORS headers the resolver would add, for answers it does not make itself."""
    origin = (event.get("headers") or {}).get("origin") or (event.get("headers") or {}).get("Origin")
    allowed = settings.allowed_origins
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    if origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


def _error(
    resolver: APIGatewayRestResolver,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    request_id = resolver.current_event.request_context.request_id or ""
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, request_id),
        headers=headers,
    )


def _describe(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "path", "query")]
        name = ".".join(location) or "body"
        parts.append(f"{name}: {error.get('msg', 'is invalid')}")
    return "; ".join(parts) or "the request is invalid"
