"""Pages and opaque cursors shared by every listing (conversations, messages).

A cursor is url-safe base64 (no padding) of compact JSON. It is not signed: nothing in it grants
access, because every adapter re-applies the caller's actor id to the query it builds. It is
strictly validated instead, so a cursor that was tampered with, truncated, or taken from another
listing is an `InvalidCursor` (an HTTP 400), never an error deep inside a database driver (a 500).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentarch.core.errors import InvalidInput

T = TypeVar("T")
CursorT = TypeVar("CursorT", bound="CursorState")

MAX_CURSOR_CHARS = 4096
MAX_PAGE_SIZE = 100
_CURSOR_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


class InvalidCursor(InvalidInput):
    """The cursor was not issued by this listing, or was altered on the way back."""


class InvalidLimit(InvalidInput):
    """A page size outside 1..MAX_PAGE_SIZE."""


class Page(BaseModel, Generic[T]):
    """One page of a listing; `next_cursor` is None on the last page."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_cursor: str | None = None


class CursorState(BaseModel):
    """What an adapter keeps in a cursor. Subclasses add their own strictly typed fields.

    `scope` binds the cursor to one listing (an actor's conversations, one session's messages),
    so a cursor replayed against another listing is refused instead of silently misread.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    scope: str = Field(pattern=r"^[0-9a-f]{16}$")


def scope_of(*parts: str) -> str:
    """A short, stable digest naming one listing (not a secret: it only detects mix-ups)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8)
    return digest.hexdigest()


def encode_cursor(state: CursorState) -> str:
    """Serialise a cursor state into an opaque, URL-safe token."""
    raw = state.model_dump_json(exclude_none=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(token: str, model: type[CursorT], scope: str) -> CursorT:
    """Parse a token produced by `encode_cursor` for the same listing, or raise `InvalidCursor`."""
    if not token or len(token) > MAX_CURSOR_CHARS or not _CURSOR_ALPHABET.fullmatch(token):
        raise InvalidCursor("cursor is malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = model.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidCursor("cursor is malformed") from None
    if state.scope != scope:
        raise InvalidCursor("cursor belongs to another listing")
    return state


def check_limit(limit: int, maximum: int = MAX_PAGE_SIZE) -> int:
    """Page sizes are 1..maximum; anything else is the caller's mistake (a 400), not a clamp."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise InvalidLimit(f"limit must be an integer between 1 and {maximum}")
    return limit


__all__ = [
    "MAX_CURSOR_CHARS",
    "MAX_PAGE_SIZE",
    "CursorState",
    "InvalidCursor",
    "InvalidLimit",
    "Page",
    "check_limit",
    "decode_cursor",
    "encode_cursor",
    "scope_of",
]
