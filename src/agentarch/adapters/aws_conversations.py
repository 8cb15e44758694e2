"""`ConversationIndex` on DynamoDB (low-level boto3 client).

Table contract (Terraform creates exactly this):
  partition key `session_id` (S); attributes `actor_id` (S), `title` (S), `created_at` (S),
  `updated_at` (S, ISO-8601 UTC with milliseconds, so string order is time order), `message_count` (N);
  GSI `by_actor`: hash `actor_id`, range `updated_at`, projection ALL; TTL on `expires_at` (N, epoch
  seconds), set to the last activity plus `expiry_days` (Memory's event expiry), so a conversation
  leaves the list when its history expires. DynamoDB deletes expired items lazily (within days), so
  reads treat an item past `expires_at` as already gone.

Calls made, one each per operation (a contract test maps them to IAM actions):
  create_if_absent -> PutItem; get -> GetItem; record_turn -> UpdateItem; take_approval ->
  UpdateItem; list_page -> Query; delete -> DeleteItem. Tool calls per tool are number attributes
  `tool_calls#<tool>` (ADD makes each on first use), as are the session's model tokens `token_total`
  and the agent's seconds `agent_seconds`, added by the same UpdateItem that records the turn; a call
  waiting for approval is `pending_approval` (JSON) with its id and time beside it, so taking it is one conditional UpdateItem.
  Ownership is enforced inside each write's condition expression, and ConditionalCheckFailed
  answers carry the stored item (`ReturnValuesOnConditionCheckFailure`), so no write needs a
  second round trip to tell "not yours" from "already there".
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.core.contracts import PendingApproval
from agentarch.core.pagination import Page, check_limit
from agentarch.core.timestamps import format_iso_millis, parse_iso_millis
from agentarch.services.conversations import (
    ApprovalNotPending,
    Conversation,
    ConversationNotFound,
    decode_listing_cursor,
    listing_page,
)

BY_ACTOR_INDEX = "by_actor"
TOOL_COUNT_PREFIX = "tool_calls#"  # one number attribute per tool (ADD creates it on first use)
TOKENS_ATTRIBUTE = "token_total"  # model tokens of the recorded turns (N, ADD)
SECONDS_ATTRIBUTE = "agent_seconds"  # the agent's wall time of the recorded turns (N, ADD)
PENDING_ATTRIBUTE = "pending_approval"  # JSON PendingApproval
PENDING_ID_ATTRIBUTE = "pending_approval_id"  # its id and time, kept apart for the take condition
PENDING_AT_ATTRIBUTE = "pending_approval_at"
EXPIRY_ATTRIBUTE = "expires_at"  # the table's TTL attribute (terraform/modules/data)
# A tombstone: the conversation is deleted, its session id still owned. Its `updated_at` is removed,
# so it leaves the sparse `by_actor` index (no listing reads it); `purged` once its messages are gone.
DELETED_ATTRIBUTE = "deleted_at"
PURGED_ATTRIBUTE = "purged"
# Tombstones the sweep has yet to go over: a sparse index keyed by this attribute (one value) and
# `deleted_at`; the sweep removes the attribute, and the item leaves the index.
SWEEP_ATTRIBUTE = "sweep"
SWEEP_DUE = "due"
BY_SWEEP_INDEX = "by_sweep"
_LIVE = f"attribute_not_exists({DELETED_ATTRIBUTE})"
_CONDITION_FAILED = "ConditionalCheckFailedException"


def _expires_at(at: datetime, expiry_days: int) -> str:
    return str(int((at + timedelta(days=expiry_days)).timestamp()))


def _expired(item: dict[str, dict[str, str]], now: float) -> bool:
    expires = item.get(EXPIRY_ATTRIBUTE, {}).get("N")
    return expires is not None and int(expires) <= now


def _item(conversation: Conversation) -> dict[str, dict[str, str]]:
    return {
        "session_id": {"S": conversation.session_id},
        "actor_id": {"S": conversation.actor_id},
        "title": {"S": conversation.title},
        "created_at": {"S": format_iso_millis(conversation.created_at)},
        "updated_at": {"S": format_iso_millis(conversation.updated_at)},
        "message_count": {"N": str(conversation.message_count)},
    }


def _conversation(item: dict[str, Any]) -> Conversation:
    pending = item.get(PENDING_ATTRIBUTE, {}).get("S")
    return Conversation(
        actor_id=item["actor_id"]["S"],
        session_id=item["session_id"]["S"],
        title=item["title"]["S"],
        created_at=parse_iso_millis(item["created_at"]["S"]),
        updated_at=parse_iso_millis(item["updated_at"]["S"]),
        message_count=int(item["message_count"]["N"]),
        tool_counts={
            name.removeprefix(TOOL_COUNT_PREFIX): int(value["N"])
            for name, value in item.items()
            if name.startswith(TOOL_COUNT_PREFIX)
        },
        token_total=int(item.get(TOKENS_ATTRIBUTE, {}).get("N", "0")),
        agent_seconds=float(item.get(SECONDS_ATTRIBUTE, {}).get("N", "0")),
        pending_approval=PendingApproval.model_validate_json(pending) if pending else None,
    )


def _condition_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED)


class DynamoConversationIndex:
    """`ConversationIndex` backed by one DynamoDB table."""

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        client: Any | None = None,
        expiry_days: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._clients = LazyClient("dynamodb", region, client)
        self._expiry_days = expiry_days
        self._clock = clock

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def create_if_absent(self, conversation: Conversation) -> Conversation:
        item = _item(conversation)
        if self._expiry_days is not None:
            item[EXPIRY_ATTRIBUTE] = {"N": _expires_at(conversation.updated_at, self._expiry_days)}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                # An expired item DynamoDB has not removed yet counts as absent.
                ConditionExpression=f"attribute_not_exists(session_id) OR {EXPIRY_ATTRIBUTE} <= :now",
                ExpressionAttributeValues={":now": {"N": str(int(self._clock()))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            stored = exc.response.get("Item") or self._get_item(conversation.session_id)
            if stored is None or DELETED_ATTRIBUTE in stored:  # deleted (a tombstone stays owned)
                raise ConversationNotFound(conversation.session_id) from None
            existing = _conversation(stored)
            if existing.actor_id != conversation.actor_id:
                raise ConversationNotFound(conversation.session_id) from None
            return existing
        return conversation

    def get(self, actor_id: str, session_id: str) -> Conversation:
        item = self._get_item(session_id)
        if (
            item is None
            or item["actor_id"]["S"] != actor_id
            or DELETED_ATTRIBUTE in item
            or _expired(item, self._clock())
        ):
            raise ConversationNotFound(session_id)
        return _conversation(item)

    def record_turn(
        self,
        actor_id: str,
        session_id: str,
        messages_added: int,
        at: datetime,
        tools_run: Mapping[str, int] | None = None,
        pending: PendingApproval | None = None,
        *,
        tokens: int = 0,
        seconds: float = 0.0,
    ) -> Conversation:
        values: dict[str, dict[str, str]] = {
            ":at": {"S": format_iso_millis(at)},
            ":added": {"N": str(messages_added)},
            ":actor": {"S": actor_id},
            ":tokens": {"N": str(tokens)},
            ":seconds": {"N": f"{seconds:.3f}"},
        }
        names: dict[str, str] = {}
        sets = ["updated_at = :at"]
        if self._expiry_days is not None:  # activity pushes the expiry out, as new events do in Memory
            sets.append(f"{EXPIRY_ATTRIBUTE} = :expires")
            values[":expires"] = {"N": _expires_at(at, self._expiry_days)}
        adds = ["message_count :added", f"{TOKENS_ATTRIBUTE} :tokens", f"{SECONDS_ATTRIBUTE} :seconds"]
        for number, (tool, calls) in enumerate(sorted((tools_run or {}).items())):
            names[f"#tool{number}"] = TOOL_COUNT_PREFIX + tool
            values[f":tool{number}"] = {"N": str(calls)}
            adds.append(f"#tool{number} :tool{number}")
        removes: list[str] = []
        if pending is None:
            removes = [PENDING_ATTRIBUTE, PENDING_ID_ATTRIBUTE, PENDING_AT_ATTRIBUTE]
        else:
            sets += [
                f"{PENDING_ATTRIBUTE} = :pending",
                f"{PENDING_ID_ATTRIBUTE} = :pending_id",
                f"{PENDING_AT_ATTRIBUTE} = :pending_at",
            ]
            values[":pending"] = {"S": pending.model_dump_json()}
            values[":pending_id"] = {"S": pending.id}
            values[":pending_at"] = {"S": format_iso_millis(pending.requested_at)}
        update = "SET " + ", ".join(sets) + " ADD " + ", ".join(adds)
        if removes:
            update += " REMOVE " + ", ".join(removes)
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                UpdateExpression=update,
                ConditionExpression=f"actor_id = :actor AND {_LIVE}",
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise ConversationNotFound(session_id) from None
            raise
        return _conversation(answer["Attributes"])

    def take_approval(
        self, actor_id: str, session_id: str, approval_id: str, not_before: datetime
    ) -> PendingApproval:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                UpdateExpression=f"REMOVE {PENDING_ATTRIBUTE}, {PENDING_ID_ATTRIBUTE}, {PENDING_AT_ATTRIBUTE}",
                ConditionExpression=(
                    f"actor_id = :actor AND {PENDING_ID_ATTRIBUTE} = :id AND {PENDING_AT_ATTRIBUTE} >= :not_before "
                    f"AND {_LIVE}"
                ),
                ExpressionAttributeValues={
                    ":actor": {"S": actor_id},
                    ":id": {"S": approval_id},
                    ":not_before": {"S": format_iso_millis(not_before)},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise ApprovalNotPending(approval_id) from None
            raise
        return PendingApproval.model_validate_json(answer["Attributes"][PENDING_ATTRIBUTE]["S"])

    def list_page(self, actor_id: str, limit: int, cursor: str | None) -> Page[Conversation]:
        check_limit(limit)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_ACTOR_INDEX,
            "KeyConditionExpression": "actor_id = :actor",
            "ExpressionAttributeValues": {":actor": {"S": actor_id}},
            "ScanIndexForward": False,
            "Limit": limit + 1,  # one extra tells whether another page exists, without an empty last page
        }
        if cursor is not None:
            after = decode_listing_cursor(cursor, actor_id)
            # The actor comes from the caller, never from the cursor: a cursor cannot open another
            # actor's partition.
            request["ExclusiveStartKey"] = {
                "actor_id": {"S": actor_id},
                "updated_at": {"S": after.updated_at},
                "session_id": {"S": after.session_id},
            }
        answer = self._client.query(**request)
        now = self._clock()
        fetched = [_conversation(row) for row in answer.get("Items", []) if not _expired(row, now)]
        # More pages also when DynamoDB stopped at its 1 MB cap before reaching limit + 1 items.
        return listing_page(actor_id, fetched, limit, more="LastEvaluatedKey" in answer)

    def delete(self, actor_id: str, session_id: str, *, only_if_empty: bool = False) -> None:
        condition = f"actor_id = :actor AND {_LIVE}"
        values: dict[str, dict[str, str]] = {":actor": {"S": actor_id}}
        if only_if_empty:
            condition += " AND message_count = :zero"
            values[":zero"] = {"N": "0"}
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            stored = exc.response.get("Item")
            live = stored is not None and DELETED_ATTRIBUTE not in stored
            if only_if_empty and live and stored is not None and stored["actor_id"]["S"] == actor_id:
                return  # it has messages now: keep it
            raise ConversationNotFound(session_id) from None

    def tombstone(self, actor_id: str, session_id: str, at: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                UpdateExpression=(
                    f"SET {DELETED_ATTRIBUTE} = if_not_exists({DELETED_ATTRIBUTE}, :at), title = :blank, "
                    f"{SWEEP_ATTRIBUTE} = :due "
                    f"REMOVE updated_at, {PENDING_ATTRIBUTE}, {PENDING_ID_ATTRIBUTE}, {PENDING_AT_ATTRIBUTE}"
                ),
                ConditionExpression=f"actor_id = :actor AND attribute_not_exists({PURGED_ATTRIBUTE})",
                ExpressionAttributeValues={
                    ":actor": {"S": actor_id},
                    ":at": {"S": format_iso_millis(at)},
                    ":blank": {"S": ""},
                    ":due": {"S": SWEEP_DUE},
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise ConversationNotFound(session_id) from None
            raise

    def tombstones_to_sweep(self, deleted_before: datetime, limit: int) -> list[tuple[str, str]]:
        answer = self._client.query(
            TableName=self._table,
            IndexName=BY_SWEEP_INDEX,
            KeyConditionExpression="#sweep = :due AND #deleted < :before",
            ExpressionAttributeNames={"#sweep": SWEEP_ATTRIBUTE, "#deleted": DELETED_ATTRIBUTE},
            ExpressionAttributeValues={
                ":due": {"S": SWEEP_DUE},
                ":before": {"S": format_iso_millis(deleted_before)},
            },
            Limit=limit,
        )
        return [(item["actor_id"]["S"], item["session_id"]["S"]) for item in answer.get("Items", [])]

    def mark_swept(self, actor_id: str, session_id: str) -> None:
        with contextlib.suppress(ClientError):  # gone or not this actor's: nothing to mark
            self._client.update_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                UpdateExpression=f"REMOVE {SWEEP_ATTRIBUTE}",
                ConditionExpression="actor_id = :actor",
                ExpressionAttributeValues={":actor": {"S": actor_id}},
            )

    def count_call(self, actor_id: str, session_id: str, tool: str, seen: int) -> bool:
        still = "attribute_not_exists(#tool)" if seen == 0 else "#tool = :seen"
        values = {":actor": {"S": actor_id}, ":one": {"N": "1"}}
        if seen:
            values[":seen"] = {"N": str(seen)}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                UpdateExpression="ADD #tool :one",
                ConditionExpression=f"actor_id = :actor AND {_LIVE} AND {still}",
                ExpressionAttributeNames={"#tool": TOOL_COUNT_PREFIX + tool},
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            stored = exc.response.get("Item")
            if stored is None or stored["actor_id"]["S"] != actor_id or DELETED_ATTRIBUTE in stored:
                raise ConversationNotFound(session_id) from None
            return False  # counted meanwhile by another call
        return True

    def mark_purged(self, actor_id: str, session_id: str) -> None:
        with contextlib.suppress(ClientError):  # not a tombstone of this actor's: nothing to mark
            self._client.update_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                UpdateExpression=f"SET {PURGED_ATTRIBUTE} = :yes",
                ConditionExpression=f"actor_id = :actor AND attribute_exists({DELETED_ATTRIBUTE})",
                ExpressionAttributeValues={":actor": {"S": actor_id}, ":yes": {"BOOL": True}},
            )

    def _get_item(self, session_id: str) -> dict[str, dict[str, str]] | None:
        answer = self._client.get_item(
            TableName=self._table, Key={"session_id": {"S": session_id}}, ConsistentRead=True
        )
        item: dict[str, dict[str, str]] | None = answer.get("Item")
        return item
