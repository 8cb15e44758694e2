"""`QuotaStore` on DynamoDB (low-level boto3 client).

Table contract (Terraform creates exactly this, terraform/modules/spend_limits):
  partition key `id` (S) = `<actor_id>#<YYYY-MM-DD>`; attributes `requests` (N), `tokens` (N);
  TTL on `expires_at` (N, epoch seconds), two days after the day ends.

Calls made (a contract test maps them to IAM actions): admit -> UpdateItem with a condition
(`ReturnValuesOnConditionCheckFailure` brings the counters of a refusal, no second read);
charge_tokens -> UpdateItem; usage -> GetItem.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.services.quotas import DailyLimits, Usage

EXPIRY_ATTRIBUTE = "expires_at"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_WITHIN_LIMITS = (
    "(attribute_not_exists(requests) OR requests < :max_requests) "
    "AND (attribute_not_exists(tokens) OR tokens < :max_tokens)"
)


def counter_key(actor_id: str, day: str) -> dict[str, dict[str, str]]:
    """The item of one actor's day."""
    return {"id": {"S": f"{actor_id}#{day}"}}


def _usage(item: dict[str, dict[str, str]] | None) -> Usage:
    item = item or {}
    return Usage(
        requests=int(item.get("requests", {}).get("N", 0)),
        tokens=int(item.get("tokens", {}).get("N", 0)),
    )


class DynamoQuotaStore:
    """Daily counters, one item per actor per day."""

    def __init__(self, table_name: str, *, region: str | None = None, client: Any | None = None) -> None:
        self._table = table_name
        self._clients = LazyClient("dynamodb", region, client)

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def admit(self, actor_id: str, day: str, limits: DailyLimits, expires_at: int) -> tuple[bool, Usage]:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=counter_key(actor_id, day),
                UpdateExpression="ADD requests :one SET expires_at = :expires",
                ConditionExpression=_WITHIN_LIMITS,
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":expires": {"N": str(expires_at)},
                    ":max_requests": {"N": str(limits.requests_per_day)},
                    ":max_tokens": {"N": str(limits.tokens_per_day)},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise
            return False, _usage(exc.response.get("Item"))
        return True, _usage(answer.get("Attributes"))

    def charge_tokens(self, actor_id: str, day: str, tokens: int, expires_at: int) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=counter_key(actor_id, day),
            UpdateExpression="ADD tokens :tokens SET expires_at = :expires",
            ExpressionAttributeValues={":tokens": {"N": str(tokens)}, ":expires": {"N": str(expires_at)}},
        )

    def usage(self, actor_id: str, day: str) -> Usage:
        answer = self._client.get_item(
            TableName=self._table, Key=counter_key(actor_id, day), ConsistentRead=True
        )
        return _usage(answer.get("Item"))
