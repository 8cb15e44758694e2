"""`LockStore` on DynamoDB (low-level boto3 client), and `StopRuntimeSession` for sessions in flight.

Table contract (Terraform creates exactly this, terraform/modules/kill_switch): partition key `id` (S) =
`<scope>#<target>` (`user#<sub>`, `session#<id>`, `all#*`); attribute `lock` (S, the lock as JSON).

Calls made (a contract test maps them to IAM actions): put -> PutItem; delete -> DeleteItem;
get_many -> BatchGetItem (strongly consistent); list_all -> Scan. The stopper calls
bedrock-agentcore StopRuntimeSession.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.services.locks import Lock

BATCH_ATTEMPTS = 4  # unprocessed keys of a three-key batch: retried a few times


class DynamoLockStore:
    """One item per lock."""

    def __init__(self, table_name: str, *, region: str | None = None, client: Any | None = None) -> None:
        self._table = table_name
        self._clients = LazyClient("dynamodb", region, client)

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def put(self, lock: Lock) -> None:
        self._client.put_item(
            TableName=self._table, Item={"id": {"S": lock.key}, "lock": {"S": lock.model_dump_json()}}
        )

    def delete(self, key: str) -> bool:
        answer = self._client.delete_item(
            TableName=self._table, Key={"id": {"S": key}}, ReturnValues="ALL_OLD"
        )
        return bool(answer.get("Attributes"))

    def get_many(self, keys: Sequence[str]) -> list[Lock]:
        wanted: dict[str, Any] = {
            self._table: {"Keys": [{"id": {"S": key}} for key in dict.fromkeys(keys)], "ConsistentRead": True}
        }
        items: list[dict[str, Any]] = []
        for _ in range(BATCH_ATTEMPTS):
            answer = self._client.batch_get_item(RequestItems=wanted)
            items += answer.get("Responses", {}).get(self._table, [])
            wanted = answer.get("UnprocessedKeys") or {}
            if not wanted:
                break
        else:
            from agentarch.core.errors import StorageUnavailable

            raise StorageUnavailable("the locks table left keys unread")
        return [Lock.model_validate_json(item["lock"]["S"]) for item in items]

    def list_all(self) -> list[Lock]:
        locks: list[Lock] = []
        for page in self._client.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
            locks += [Lock.model_validate_json(item["lock"]["S"]) for item in page.get("Items", [])]
        return sorted(locks, key=lambda lock: lock.locked_at)


class RuntimeSessionStopper:
    """Stops AgentCore Runtime sessions in flight (`StopRuntimeSession`): the microVM ends at once."""

    def __init__(
        self,
        runtime_arn: str,
        *,
        qualifier: str = "DEFAULT",
        region: str | None = None,
        client: Any | None = None,
    ) -> None:
        self._arn = runtime_arn
        self._qualifier = qualifier
        self._clients = LazyClient("bedrock-agentcore", region, client)

    def stop(self, session_ids: Iterable[str]) -> list[str]:
        stopped: list[str] = []
        for session in session_ids:
            try:
                self._clients.get().stop_runtime_session(
                    agentRuntimeArn=self._arn, qualifier=self._qualifier, runtimeSessionId=session
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue  # not running: nothing to stop
                raise
            stopped.append(session)
        return stopped
