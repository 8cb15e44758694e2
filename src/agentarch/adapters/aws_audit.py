"""`AuditStore` on DynamoDB (low-level boto3 client).

Table contract (terraform/modules/audit creates exactly this):
  partition key `session_id` (S), sort key `seq` (N): a session's chain, in order;
  `actor_id` (S), `recorded_at` (S, ISO-8601 UTC with milliseconds), `day` (S, `2026-11-26#5`: the
  day and one of `DAY_SHARDS` shards of the session, so a busy day is no hot partition),
  `record` (S, the record's canonical JSON with its hashes), `expires_at` (N, TTL, one value per session);
  GSI `by_actor`: hash `actor_id`, range `recorded_at`; GSI `by_day`: hash `day`, range `recorded_at`
  (both projection ALL). Every listing is a Query with `Limit`: no Scan serves a request; a time
  listing queries a day's shards and merges them newest first.

Calls made (a contract test maps them to IAM actions): writers PutItem (conditional:
`attribute_not_exists(seq)`, so nothing is ever overwritten) and Query (the chain's head); readers
Query. `stored()` Scans, for `agentarch audit verify` only, run with an operator's credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.core.timestamps import format_iso_millis
from agentarch.services.audit import (
    DAY_SHARDS,
    AuditCursor,
    AuditQuery,
    AuditRecord,
    ChainHead,
    StoredRecord,
    cursor_after,
    days_between,
)

BY_ACTOR_INDEX = "by_actor"
BY_DAY_INDEX = "by_day"
EXPIRY_ATTRIBUTE = "expires_at"
# Every attribute a writer puts (IAM's dynamodb:Attributes condition allows exactly these).
ITEM_ATTRIBUTES = ("session_id", "seq", "actor_id", "recorded_at", "day", "record", EXPIRY_ATTRIBUTE)
MAX_DAYS_PER_PAGE = 31  # a page of the time listing visits at most this many day buckets
_EARLIEST, _LATEST = "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"
_NAMES = {"#s": "session_id", "#q": "seq", "#a": "actor_id", "#t": "recorded_at", "#d": "day", "#r": "record"}


def _item(record: AuditRecord) -> dict[str, dict[str, str]]:
    item = {
        "session_id": {"S": record.session},
        "seq": {"N": str(record.seq)},
        "actor_id": {"S": record.actor},
        "recorded_at": {"S": record.time_text},
        "day": {"S": record.day_bucket},
        "record": {"S": record.to_json()},
    }
    if record.expires_at is not None:
        item[EXPIRY_ATTRIBUTE] = {"N": str(record.expires_at)}
    return item


def _record(item: dict[str, Any]) -> AuditRecord:
    return AuditRecord.from_json(item["record"]["S"])


def _key(position: AuditCursor, *index_keys: str) -> dict[str, dict[str, str]]:
    """ExclusiveStartKey for a position: the table key plus the index's own keys."""
    key = {"session_id": {"S": str(position.session)}, "seq": {"N": str(position.seq)}}
    values = {"recorded_at": position.time, "day": position.day}
    for name in index_keys:
        if name in values:
            key[name] = {"S": str(values[name])}
    return key


class DynamoAuditStore:
    """`AuditStore` backed by one DynamoDB table."""

    def __init__(self, table_name: str, *, region: str | None = None, client: Any | None = None) -> None:
        self._table = table_name
        self._clients = LazyClient("dynamodb", region, client)

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def head(self, session: str) -> ChainHead | None:
        answer = self._client.query(
            TableName=self._table,
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "session_id"},
            ExpressionAttributeValues={":s": {"S": session}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = answer.get("Items", [])
        if not items:
            return None
        record = _record(items[0])
        return ChainHead(record.seq, record.hash, record.expires_at)

    def put(self, record: AuditRecord) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_item(record),
                ConditionExpression="attribute_not_exists(#q)",
                ExpressionAttributeNames={"#q": "seq"},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def list_page(
        self, query: AuditQuery, limit: int, cursor: AuditCursor | None
    ) -> tuple[list[AuditRecord], AuditCursor | None, int]:
        since = format_iso_millis(query.since) if query.since else _EARLIEST
        until = format_iso_millis(query.until) if query.until else _LATEST
        if query.session is not None:
            request: dict[str, Any] = {
                "KeyConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "session_id"},
                "ExpressionAttributeValues": {":s": {"S": query.session}},
                "ScanIndexForward": True,
            }
            if cursor is not None and cursor.seq is not None:
                request["ExclusiveStartKey"] = _key(cursor)
            return self._one_range(request, limit)
        if query.actor is not None:
            request = {
                "IndexName": BY_ACTOR_INDEX,
                "KeyConditionExpression": "#a = :a AND #t BETWEEN :since AND :until",
                "ExpressionAttributeNames": {"#a": "actor_id", "#t": "recorded_at"},
                "ExpressionAttributeValues": {
                    ":a": {"S": query.actor},
                    ":since": {"S": since},
                    ":until": {"S": until},
                },
                "ScanIndexForward": False,
            }
            if cursor is not None and cursor.seq is not None:
                request["ExclusiveStartKey"] = _key(cursor, "recorded_at") | {"actor_id": {"S": query.actor}}
            return self._one_range(request, limit)
        return self._by_day(query, since, until, limit, cursor)

    def _one_range(
        self, request: dict[str, Any], limit: int
    ) -> tuple[list[AuditRecord], AuditCursor | None, int]:
        records: list[AuditRecord] = []
        read = 0
        while len(records) <= limit:
            answer = self._client.query(TableName=self._table, Limit=limit + 1 - len(records), **request)
            read += len(answer.get("Items", []))
            records += [_record(item) for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]  # stopped at 1 MB: go on
        more = cursor_after(records[limit - 1]) if len(records) > limit else None
        return records[:limit], more, read

    def _by_day(
        self, query: AuditQuery, since: str, until: str, limit: int, cursor: AuditCursor | None
    ) -> tuple[list[AuditRecord], AuditCursor | None, int]:
        newest = (
            datetime.fromisoformat(until[:10])
            if cursor is None or cursor.day is None
            else (datetime.fromisoformat(cursor.day))
        )
        oldest = datetime.fromisoformat(since[:10])
        records: list[AuditRecord] = []
        read = 0
        for visited, day in enumerate(days_between(newest, oldest)):
            if visited == MAX_DAYS_PER_PAGE:
                # Many empty days: end the page here and go on from this day next time.
                return records, AuditCursor(scope="0" * 16, day=day), read
            after = cursor if cursor is not None and cursor.day == day and cursor.seq is not None else None
            found, day_read = self._one_day(day, since, until, limit + 1 - len(records), after)
            read += day_read
            records += found
            if len(records) > limit:
                last = records[limit - 1]
                return records[:limit], cursor_after(last, day=last.day), read
        return records, None, read

    def _one_day(
        self, day: str, since: str, until: str, wanted: int, after: AuditCursor | None
    ) -> tuple[list[AuditRecord], int]:
        """The newest `wanted` records of one day (after a position), merged from its shards."""
        upper = after.time if after is not None and after.time else until
        position = (after.time, after.session, after.seq) if after is not None else None
        merged: list[AuditRecord] = []
        read = 0
        for shard in range(DAY_SHARDS):
            request: dict[str, Any] = {
                "IndexName": BY_DAY_INDEX,
                "KeyConditionExpression": "#d = :d AND #t BETWEEN :since AND :until",
                "ExpressionAttributeNames": {"#d": "day", "#t": "recorded_at"},
                "ExpressionAttributeValues": {
                    ":d": {"S": f"{day}#{shard}"},
                    ":since": {"S": since},
                    ":until": {"S": upper},
                },
                "ScanIndexForward": False,
            }
            kept = 0
            while kept < wanted:
                answer = self._client.query(TableName=self._table, Limit=wanted - kept, **request)
                read += len(answer.get("Items", []))
                for item in answer.get("Items", []):
                    record = _record(item)
                    if position is None or (record.time_text, record.session, record.seq) < position:
                        merged.append(record)
                        kept += 1
                if "LastEvaluatedKey" not in answer:
                    break
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        merged.sort(key=lambda r: (r.time_text, r.session, r.seq), reverse=True)
        return merged[:wanted], read

    def stored(self, session: str | None = None) -> Iterator[StoredRecord]:
        if session is not None:
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "session_id"},
                "ExpressionAttributeValues": {":s": {"S": session}},
                "ConsistentRead": True,
            }
            items = self._all(request, scan=False)
        else:  # the whole table, for an operator's verification run (never a request's)
            # Streams page by page: a Scan returns each partition's items together, in sort-key order,
            # so a session arrives whole and memory stays flat at any table size.
            items = self._all({"TableName": self._table, "ConsistentRead": True}, scan=True)
        for item in items:
            indexed = {
                "actor": item.get("actor_id", {}).get("S", ""),
                "time": item.get("recorded_at", {}).get("S", ""),
            }
            indexed["day"] = item.get("day", {}).get("S", "")
            yield StoredRecord(item["session_id"]["S"], int(item["seq"]["N"]), indexed, item["record"]["S"])

    def _all(self, request: dict[str, Any], *, scan: bool) -> Iterator[dict[str, Any]]:
        while True:
            answer = self._client.scan(**request) if scan else self._client.query(**request)
            yield from answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return
            request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}


class KmsArgumentKey:
    """`ArgumentKey` on a KMS HMAC key: the key material never leaves KMS (GenerateMac)."""

    def __init__(self, key_id: str, *, region: str | None = None, client: Any | None = None) -> None:
        self._key_id = key_id
        self._clients = LazyClient("kms", region, client)

    def mac(self, message: bytes) -> bytes:
        answer = self._clients.get().generate_mac(
            KeyId=self._key_id, Message=message, MacAlgorithm="HMAC_SHA_256"
        )
        mac: bytes = answer["Mac"]
        return mac
