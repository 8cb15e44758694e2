"""Read a request body no further than a limit: a chunked body declares no length, so the check
cannot rely on Content-Length alone, and nothing unbounded is ever held in memory."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body grew past the limit while it was read (chunked bodies declare no length)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read no further than `limit` bytes (`BodyTooLarge` past it)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
