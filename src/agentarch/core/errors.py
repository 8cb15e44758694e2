"""The one error shape of every answer that is not a success, and the errors shared across packages.

A Lambda, the local front door and the agent runtime all answer `{"error": {"code", "message",
"request_id"}}`; the message is written for a user, never an exception's text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

NO_SUCH_ENDPOINT = "no such endpoint"  # the 404 message of a missing route (a Lambda's and the gateway's)


class StorageUnavailable(Exception):
    """The store cannot be read or written right now (gone, unwritable, throttled, unreachable).

    Handlers answer 503 with the error shape; nothing is half-written, and the next request tries
    again, so the service recovers without a restart once the store is back.
    """


class AccessDenied(Exception):
    """AWS refused a call with the credentials the code runs with (an IAM, key or bucket policy that
    does not allow it; credentials missing or expired): a deployment or sign-in problem, not the
    caller's. Handlers answer 500 `misconfigured` and log the call; the CLI names it and exits 2."""


class InvalidInput(ValueError):
    """What the caller sent is wrong (an id, a cursor, a page size, a filter): a 422 whose message
    names the field. Each kind below is one; a handler maps them all with this one class."""


class InvalidIdentifier(InvalidInput):
    """A session or actor id that cannot be stored (a 422, before any storage is touched)."""


class ErrorDetail(BaseModel):
    """What went wrong, in words a user can act on, and the id to quote when asking for help."""

    code: str
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    """The one error shape of every answer that is not a success, from a Lambda or the gateway."""

    error: ErrorDetail


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    """The error shape as a JSON-ready dict."""
    return {"error": {"code": code, "message": message, "request_id": request_id}}
