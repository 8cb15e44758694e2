"""`TicketStore` on DynamoDB (low-level boto3 client).

Table contract (Terraform creates exactly this): partition key `ticket_id` (S); attributes
`actor_id`, `session_id`, `title`, `severity`, `body`, `created_at` (S, ISO-8601 UTC milliseconds),
`author_name` (S, only when known), `comments` (L of M: `author_id`, `text`, `created_at`).
Calls made (a contract test maps them to IAM actions): create_once -> PutItem, conditional on the id
being new; a failed condition returns the stored item, so a replay needs no second call.
search -> Scan, paged (the match is `matches`, applied here so that it is the same rule as SQLite's,
case-folded); add_comment -> UpdateItem appending to `comments`, conditional on the ticket existing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.core.timestamps import format_iso_millis, parse_iso_millis
from agentarch.services.tickets import SEARCH_LIMIT, Ticket, TicketComment, matches


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
        if ticket.author_name:
            item["author_name"] = {"S": ticket.author_name}
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
            stored: dict[str, Any] = exc.response.get("Item") or item
            return _ticket(stored), False
        return ticket, True

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[Ticket]:
        """Scan every page; the newest matching tickets first."""
        found: list[Ticket] = []
        request: dict[str, Any] = {"TableName": self._table}
        while True:
            page = self._client.scan(**request)
            found.extend(t for t in map(_ticket, page.get("Items") or []) if matches(t, query))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found.sort(key=lambda t: t.created_at, reverse=True)
        return found[:limit]

    def add_comment(self, ticket_id: str, comment: TicketComment) -> Ticket | None:
        """UpdateItem appending the comment, only to a ticket that exists."""
        entry = {
            "M": {
                "author_id": {"S": comment.author_id},
                "text": {"S": comment.text},
                "created_at": {"S": format_iso_millis(comment.created_at)},
            }
        }
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={"ticket_id": {"S": ticket_id}},
                UpdateExpression="SET comments = list_append(if_not_exists(comments, :none), :one)",
                ConditionExpression="attribute_exists(ticket_id)",
                ExpressionAttributeValues={":none": {"L": []}, ":one": {"L": [entry]}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return None
        return _ticket(answer["Attributes"])


def _ticket(item: dict[str, Any]) -> Ticket:
    comments = [
        TicketComment(
            author_id=c["M"]["author_id"]["S"],
            text=c["M"]["text"]["S"],
            created_at=parse_iso_millis(c["M"]["created_at"]["S"]),
        )
        for c in (item.get("comments") or {}).get("L", [])
    ]
    return Ticket(
        comments=comments,
        ticket_id=item["ticket_id"]["S"],
        actor_id=item["actor_id"]["S"],
        author_name=(item.get("author_name") or {}).get("S"),
        session_id=item["session_id"]["S"],
        title=item["title"]["S"],
        severity=item["severity"]["S"],
        body=item["body"]["S"],
        created_at=parse_iso_millis(item["created_at"]["S"]),
    )
