"""`QuotaStore` on DynamoDB (low-level boto3 client).

Table contract (Terraform creates exactly this, terraform/modules/spend_limits):
  partition key `id` (S) = `<actor_id>#<YYYY-MM-DD>`; attributes `requests` (N), `tokens` (N, spent),
  `held` (N, spent + reserved by turns in flight); TTL on `expires_at` (N, epoch seconds), two days
  after the day ends.

Calls made (a contract test maps them to IAM actions): admit -> UpdateItem with a condition (a whole
budget when it fits under the limit; otherwise what is left, conditional on the `held` value the
refusal returned, retried while other turns race); settle -> UpdateItem; usage -> GetItem.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.core.errors import StorageUnavailable
from agentarch.services.quotas import DailyLimits, Usage

EXPIRY_ATTRIBUTE = "expires_at"
_CONDITION_FAILED = "ConditionalCheckFailedException"
ADMIT_ATTEMPTS = 8  # turns of one user racing for the last tokens of the day: a handful at most
_REQUESTS_LEFT = "(attribute_not_exists(requests) OR requests < :max_requests)"
# A whole budget fits: held + budget <= limit, written as held <= limit - budget (no sums in conditions).
_BUDGET_FITS = (
    f"{_REQUESTS_LEFT} AND (held <= :max_held "
    "OR (attribute_not_exists(held) AND (attribute_not_exists(tokens) OR tokens <= :max_held)))"
)
# What is left: the held value seen in the refusal is still the stored one.
_REST_LEFT = f"{_REQUESTS_LEFT} AND held = :held"


def counter_key(actor_id: str, day: str) -> dict[str, dict[str, str]]:
    """The item of one actor's day."""
    return {"id": {"S": f"{actor_id}#{day}"}}


def _usage(item: dict[str, dict[str, str]] | None) -> Usage:
    item = item or {}
    tokens = int(item.get("tokens", {}).get("N", 0))
    return Usage(
        requests=int(item.get("requests", {}).get("N", 0)),
        tokens=tokens,
        reserved=max(0, int(item.get("held", {}).get("N", tokens)) - tokens),
    )


class DynamoQuotaStore:
    """Daily counters, one item per actor per day."""

    def __init__(self, table_name: str, *, region: str | None = None, client: Any | None = None) -> None:
        self._table = table_name
        self._clients = LazyClient("dynamodb", region, client)

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def admit(
        self, actor_id: str, day: str, limits: DailyLimits, expires_at: int, budget: int
    ) -> tuple[int | None, Usage]:
        reserve = min(budget, limits.tokens_per_day)
        condition, values = _BUDGET_FITS, {":max_held": {"N": str(limits.tokens_per_day - reserve)}}
        for _ in range(ADMIT_ATTEMPTS):
            admitted, item = self._reserve(actor_id, day, limits, expires_at, reserve, condition, values)
            if admitted:
                return reserve, _usage(item)
            seen = _usage(item)
            held = seen.tokens + seen.reserved
            if seen.requests >= limits.requests_per_day or held >= limits.tokens_per_day:
                return None, seen
            # Less than a whole budget is left: reserve the rest, if nobody changed it meanwhile.
            reserve, condition = limits.tokens_per_day - held, _REST_LEFT
            values = {":held": {"N": str(held)}}
        raise StorageUnavailable(f"the quota counter stayed busy for {ADMIT_ATTEMPTS} attempts")

    def _reserve(
        self,
        actor_id: str,
        day: str,
        limits: DailyLimits,
        expires_at: int,
        reserve: int,
        condition: str,
        values: dict[str, dict[str, str]],
    ) -> tuple[bool, dict[str, Any] | None]:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=counter_key(actor_id, day),
                UpdateExpression="ADD requests :one, held :reserve SET expires_at = :expires",
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":reserve": {"N": str(reserve)},
                    ":expires": {"N": str(expires_at)},
                    ":max_requests": {"N": str(limits.requests_per_day)},
                    **values,
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise
            return False, exc.response.get("Item")
        return True, answer.get("Attributes")

    def settle(self, actor_id: str, day: str, reserved: int, used: int, expires_at: int) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=counter_key(actor_id, day),
            UpdateExpression="ADD tokens :used, held :change SET expires_at = :expires",
            ExpressionAttributeValues={
                ":used": {"N": str(used)},
                ":change": {"N": str(used - reserved)},
                ":expires": {"N": str(expires_at)},
            },
        )

    def usage(self, actor_id: str, day: str) -> Usage:
        answer = self._client.get_item(
            TableName=self._table, Key=counter_key(actor_id, day), ConsistentRead=True
        )
        return _usage(answer.get("Item"))
