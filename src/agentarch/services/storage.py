"""What every storage port may raise when the store itself, not the request, is at fault."""

from __future__ import annotations


class StorageUnavailable(Exception):
    """The store cannot be read or written right now (gone, unwritable, throttled, unreachable).

    Handlers answer 503 with the error shape; nothing is half-written, and the next request tries
    again, so the service recovers without a restart once the store is back.
    """
