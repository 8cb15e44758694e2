"""AWS under moto, made to behave like the real services where moto 5.2.5 does not.

- `agentcore_list_events_like_the_service()`: moto's ListEvents returns a session's events oldest
  first, truncates to `maxResults` and never returns a `nextToken`. AgentCore Memory returns them
  newest first and paginates backwards with `nextToken` (see `agentarch.services.memory` for the
  sources). The adapter is written for the service, so the tests run it against this behaviour;
  `test_stock_moto_lists_oldest_first` keeps watch on moto so the patch can go once moto agrees.
- `create_conversations_table()`: exactly the table Terraform creates (see aws_conversations.py).

Used by the contract tests and by bench/memory_and_listing.py.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.bedrockagentcore.exceptions import ValidationException
from moto.bedrockagentcore.models import Event
from moto.bedrockagentcore.responses import BedrockAgentCoreResponse
from moto.core.responses import ActionResult

MEMORY_ID = "agentarch_memory-abcdefghij"  # matches the service's memoryId pattern
TABLE_NAME = "agentarch-conversations"
REGION = "us-east-1"
SERVICE_DEFAULT_MAX_RESULTS = 20


def _sort_key(event: Event) -> tuple[str, str]:
    return (event.event_timestamp.isoformat(timespec="microseconds"), event.event_id)


def _token(event: Event) -> str:
    return base64.urlsafe_b64encode("|".join(_sort_key(event)).encode()).decode()


def _position(token: str) -> tuple[str, str]:
    try:
        stamp, event_id = base64.urlsafe_b64decode(token.encode()).decode().split("|")
    except Exception:
        raise ValidationException("Invalid nextToken") from None
    return stamp, event_id


def _list_events_like_the_service(self: BedrockAgentCoreResponse) -> ActionResult:
    params = self._get_params()
    max_results = params.get("maxResults") or SERVICE_DEFAULT_MAX_RESULTS
    if not 1 <= int(max_results) <= 100:
        raise ValidationException("maxResults must be between 1 and 100")
    events = self.backend.list_events(
        memory_id=params["memoryId"],
        actor_id=params["actorId"],
        session_id=params["sessionId"],
        max_results=None,
    )
    newest_first = sorted(events, key=_sort_key, reverse=True)
    token = params.get("nextToken")
    if token:
        after = _position(token)
        newest_first = [event for event in newest_first if _sort_key(event) < after]
    page = newest_first[: int(max_results)]
    more = len(newest_first) > len(page)
    include_payloads = params.get("includePayloads", True)
    body: dict[str, Any] = {"events": [event.to_dict(include_payload=include_payloads) for event in page]}
    if more:
        body["nextToken"] = _token(page[-1])
    return ActionResult(body)


@contextmanager
def agentcore_list_events_like_the_service() -> Iterator[None]:
    """Inside this block moto's ListEvents answers newest first, with pagination."""
    with mock.patch.object(BedrockAgentCoreResponse, "list_events", _list_events_like_the_service):
        yield


def create_conversations_table(dynamodb: Any, name: str = TABLE_NAME) -> None:
    """The conversations table, exactly as the Terraform module defines it."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "session_id", "AttributeType": "S"},
            {"AttributeName": "actor_id", "AttributeType": "S"},
            {"AttributeName": "updated_at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_actor",
                "KeySchema": [
                    {"AttributeName": "actor_id", "KeyType": "HASH"},
                    {"AttributeName": "updated_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
