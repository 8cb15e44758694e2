"""`TicketStore` on DynamoDB (low-level boto3 client).

Table contract (Terraform creates exactly this): partition key `ticket_id` (S); attributes
`actor_id`, `session_id`, `title`, `severity`, `body`, `created_at` (S, ISO-8601 UTC milliseconds).
Calls made (a contract test maps them to IAM actions): create_once -> PutItem, conditional on the id
being new; a failed condition returns the stored item, so a replay needs no second call.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.core.timestamps import format_iso_millis, parse_iso_millis
from agentarch.services.tickets import Ticket


class DynamoTicketStore:
    """Tickets in a DynamoDB table, one item per ticket."""

    def __init__(self, table: str, region: str | None = None, client: Any | None = None) -> None:
        self._table = table
        self._clients = LazyClient("dynamodb", region, client)

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def create_once(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """PutItem if the id is new; the existing ticket otherwise."""
        item: dict[str, dict[str, str]] = {
            "ticket_id": {"S": ticket.ticket_id},
            "actor_id": {"S": ticket.actor_id},
            "session_id": {"S": ticket.session_id},
            "title": {"S": ticket.title},
            "severity": {"S": ticket.severity},
            "body": {"S": ticket.body},
            "created_at": {"S": format_iso_millis(ticket.created_at)},
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(ticket_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            stored: dict[str, dict[str, str]] = exc.response.get("Item") or item
            return _ticket(stored), False
        return ticket, True


def _ticket(item: dict[str, dict[str, str]]) -> Ticket:
    return Ticket(
        ticket_id=item["ticket_id"]["S"],
        actor_id=item["actor_id"]["S"],
        session_id=item["session_id"]["S"],
        title=item["title"]["S"],
        severity=item["severity"]["S"],
        body=item["body"]["S"],
        created_at=parse_iso_millis(item["created_at"]["S"]),
    )
