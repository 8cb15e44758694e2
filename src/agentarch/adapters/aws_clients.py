"""boto3 clients made on first use: the SQLite path never imports boto3, and a cold start pays for a
client only when a request needs it. A store that is throttling, failing or unreachable surfaces as
`StorageUnavailable` (a 503), never as a raw botocore error (a 500); a call AWS refuses to these
credentials surfaces as `AccessDenied` (a 500 `misconfigured`, a CLI message naming the call)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from agentarch.core.errors import AccessDenied, StorageUnavailable

# Error codes that say the store, not the request, is at fault right now.
UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalServerException",
    }
)
# Error codes that say AWS refused the credentials the code runs with: an IAM, key or bucket policy
# that does not allow the call, or credentials that are missing, unknown or expired.
REFUSED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)


class _UnavailableAsStorageError:
    """A client whose calls raise `StorageUnavailable` when the service cannot answer."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith(("_", "get_paginator", "get_waiter", "can_paginate")) or not callable(attribute):
            return attribute
        return _translating(attribute)


def _translating(call: Callable[..., Any]) -> Callable[..., Any]:
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, NoCredentialsError

    def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if code in UNAVAILABLE_CODES or status >= 500:
                raise StorageUnavailable(f"the store answered {code or status}") from exc
            if code in REFUSED_CODES:
                raise AccessDenied(f"AWS refused {exc.operation_name} ({code})") from exc
            raise
        except NoCredentialsError as exc:
            raise AccessDenied("no AWS credentials were found") from exc
        except (ConnectionError, HTTPClientError) as exc:
            raise StorageUnavailable(f"the store is unreachable ({type(exc).__name__})") from exc

    return translated


class LazyClient:
    """One boto3 client for one service, created once, on first use, even from several threads."""

    def __init__(self, service: str, region: str | None, client: Any | None = None) -> None:
        self._service = service
        self._region = region
        self._client = _UnavailableAsStorageError(client) if client is not None else None
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

                    self._client = _UnavailableAsStorageError(
                        boto3.client(self._service, region_name=self._region)
                    )
        return self._client
