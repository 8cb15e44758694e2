"""boto3 clients made on first use: the SQLite path never imports boto3, and a cold start pays for a
client only when a request needs it."""

from __future__ import annotations

import threading
from typing import Any


class LazyClient:
    """One boto3 client for one service, created once, on first use, even from several threads."""

    def __init__(self, service: str, region: str | None, client: Any | None = None) -> None:
        self._service = service
        self._region = region
        self._client = client
        # boto3's default session is not safe to build clients from concurrently.
        self._lock = threading.Lock()

    @property
    def created(self) -> bool:
        """Whether the client exists yet."""
        return self._client is not None

    def get(self) -> Any:
        """The client, creating it on the first call."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client(self._service, region_name=self._region)
        return self._client
