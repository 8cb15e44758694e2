"""`agentarch audit migrate`: re-index audit items written before the time index was sharded.

Before sharding, an item's `day` (the `by_day` index's partition key) was the bare UTC day
(`2026-11-26`); now it is the day and a shard of the session (`2026-11-26#5`, `AuditRecord.day_bucket`).
An unsharded item is missing from every listing by time (they query the shards) and `verify` names it
`unmigrated`. This one-shot rewrites `day` only, with an operator's credentials (`dynamodb:Scan` and
`dynamodb:UpdateItem` on the table: no deployed role has UpdateItem), each update conditioned on the
old value, so running it twice, or beside live writers, changes nothing else. The record, its hash and
its chain are untouched; the notary sees each update as a stream MODIFY and recognises this exact
change (`handlers.notary.is_reindex`): it is not recorded as tampering.

Dev-only (an operator's tool, never in a zip): the deployed audit adapter never updates or deletes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from agentarch.services.audit import AuditRecord


@dataclass
class Migration:
    scanned: int = 0
    unsharded: int = 0
    updated: int = 0


def reindex_days(client: Any, table: str, *, dry_run: bool = False) -> Migration:
    """Give every unsharded item its sharded `day`; returns what was scanned, found and updated."""
    result = Migration()
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "session_id, seq, #d, #r",
        "ExpressionAttributeNames": {"#d": "day", "#r": "record"},
    }
    while True:
        answer = client.scan(**request)
        for item in answer.get("Items", []):
            result.scanned += 1
            old = item.get("day", {}).get("S", "")
            if "#" in old:
                continue
            record = AuditRecord.from_json(item["record"]["S"])
            if old != record.day:
                continue  # not the unsharded form of this record's day: verify names it, we leave it
            result.unsharded += 1
            if dry_run:
                continue
            try:
                client.update_item(
                    TableName=table,
                    Key={"session_id": item["session_id"], "seq": item["seq"]},
                    UpdateExpression="SET #d = :new",
                    ConditionExpression="#d = :old",
                    ExpressionAttributeNames={"#d": "day"},
                    ExpressionAttributeValues={":new": {"S": record.day_bucket}, ":old": {"S": old}},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                continue  # changed meanwhile: the next run sees it again
            result.updated += 1
        if "LastEvaluatedKey" not in answer:
            return result
        request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}


def summary(result: Migration, *, dry_run: bool) -> str:
    verb = "would re-index" if dry_run else "re-indexed"
    return json.dumps({"scanned": result.scanned, "unsharded": result.unsharded}) + (
        f": {verb} {result.unsharded if dry_run else result.updated} item(s)"
    )


__all__ = ["Migration", "reindex_days"]
