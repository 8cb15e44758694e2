"""The AWS adapters under moto, made to behave like the real services where moto 5.2.5 does not.

- `moto_storage()`: the conversation index (DynamoDB) and the message store (AgentCore Memory)
  adapters, on the table Terraform creates, inside `mock_aws()`.
- `agentcore_list_events_like_the_service()`: moto's ListEvents returns a session's events oldest
  first, truncates to `maxResults` and never returns a `nextToken`. AgentCore Memory returns them
  newest first and paginates backwards with `nextToken` (see `agentarch.services.memory` for the
  sources). The adapter is written for the service, so the tests run it against this behaviour;
  `test_stock_moto_lists_oldest_first` keeps watch on moto so the patch can go once moto agrees.
- `dynamodb_writes_one_at_a_time()`: DynamoDB applies each write to an item atomically (a condition
- `create_audit_table()` / `moto_audit_store()`: the audit table as terraform/modules/audit makes it.
  and its update are one step); moto's in-process backend checks then writes with no lock, so
  threads racing on one item all pass a condition only one should. Inside this block every write
  takes one lock, as the service serialises them, so concurrency tests test the adapter, not moto.
- `create_conversations_table()`: exactly the table Terraform creates (see aws_conversations.py).
- `create_quotas_table()`, `create_idempotency_table()`: the chat Lambda's quota counters and
  Powertools' idempotency records, as terraform/modules/spend_limits creates them.

Used by the `agentarch_aws` fixture of the pytest plugin, the contract tests and
bench/memory_and_listing.py. Needs moto (`pip install 'agentarch[testing]'`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.bedrockagentcore.exceptions import ValidationException
from moto.bedrockagentcore.models import Event
from moto.bedrockagentcore.responses import BedrockAgentCoreResponse
from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend

from agentarch.adapters.aws_audit import BY_ACTOR_INDEX, BY_DAY_INDEX, DynamoAuditStore
from agentarch.adapters.aws_conversations import DynamoConversationIndex
from agentarch.adapters.aws_memory import AgentCoreMemoryEvents

MEMORY_ID = "agentarch_memory-abcdefghij"  # matches the service's memoryId pattern
TABLE_NAME = "agentarch-conversations"
AUDIT_TABLE_NAME = "agentarch-audit"
QUOTAS_TABLE_NAME = "agentarch-quotas"
IDEMPOTENCY_TABLE_NAME = "agentarch-idempotency"
LOCKS_TABLE_NAME = "agentarch-locks"
REGION = "us-east-1"
SERVICE_DEFAULT_MAX_RESULTS = 20
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


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


_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


@contextmanager
def dynamodb_writes_one_at_a_time() -> Iterator[None]:
    """Inside this block moto applies DynamoDB writes one at a time, as the service does per item."""
    lock = threading.Lock()

    def serialised(write: Any) -> Any:
        @functools.wraps(write)
        def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return write(*args, **kwargs)

        return one_at_a_time

    with contextlib.ExitStack() as stack:
        for name in _WRITES:
            stack.enter_context(
                mock.patch.object(DynamoDBBackend, name, serialised(getattr(DynamoDBBackend, name)))
            )
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
            {"AttributeName": "sweep", "AttributeType": "S"},
            {"AttributeName": "deleted_at", "AttributeType": "S"},
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
            },
            {  # tombstones the sweep has yet to go over (sparse)
                "IndexName": "by_sweep",
                "KeySchema": [
                    {"AttributeName": "sweep", "KeyType": "HASH"},
                    {"AttributeName": "deleted_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["actor_id"]},
            },
        ],
    )


def _table_keyed_on_id(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def create_quotas_table(dynamodb: Any, name: str = QUOTAS_TABLE_NAME) -> None:
    """The quota counters table, as Terraform makes it (partition key `id`)."""
    _table_keyed_on_id(dynamodb, name)


def create_locks_table(dynamodb: Any, name: str = LOCKS_TABLE_NAME) -> None:
    """The kill switch's locks table, as Terraform makes it (partition key `id`)."""
    _table_keyed_on_id(dynamodb, name)


def create_idempotency_table(dynamodb: Any, name: str = IDEMPOTENCY_TABLE_NAME) -> None:
    """Powertools' idempotency table, as Terraform makes it (partition key `id`)."""
    _table_keyed_on_id(dynamodb, name)


@dataclass
class AwsStorage:
    """The AWS adapters on moto, what they are named, and the raw clients a test may inspect."""

    index: DynamoConversationIndex
    memory: AgentCoreMemoryEvents
    dynamodb: Any
    agentcore: Any
    table_name: str = TABLE_NAME
    memory_id: str = MEMORY_ID
    region: str = REGION


@contextmanager
def moto_storage() -> Iterator[AwsStorage]:
    """Inside `mock_aws()`: the conversations table as Terraform makes it, and Memory events whose
    listing behaves like the service. Set fake credentials first (the `aws_credentials` fixture)."""
    with mock_aws(), agentcore_list_events_like_the_service():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        agentcore = boto3.client("bedrock-agentcore", region_name=REGION)
        create_conversations_table(dynamodb)
        yield AwsStorage(
            DynamoConversationIndex(TABLE_NAME, client=dynamodb),
            AgentCoreMemoryEvents(MEMORY_ID, client=agentcore),
            dynamodb,
            agentcore,
        )


def create_audit_table(dynamodb: Any, name: str = AUDIT_TABLE_NAME) -> None:
    """The audit table, exactly as terraform/modules/audit defines it (see aws_audit.py)."""
    index_keys = {BY_ACTOR_INDEX: "actor_id", BY_DAY_INDEX: "day"}
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "session_id", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
            {"AttributeName": "actor_id", "AttributeType": "S"},
            {"AttributeName": "recorded_at", "AttributeType": "S"},
            {"AttributeName": "day", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "session_id", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": "recorded_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, hash_key in index_keys.items()
        ],
        # The notary's feed: every INSERT, MODIFY and REMOVE with both images.
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


@contextmanager
def moto_audit_store() -> Iterator[tuple[DynamoAuditStore, Any]]:
    """Inside `mock_aws()`: the audit table as Terraform makes it, its adapter and the raw client."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_audit_table(dynamodb)
        yield DynamoAuditStore(AUDIT_TABLE_NAME, client=dynamodb), dynamodb


@contextmanager
def moto_notary(dynamodb: Any, table: str = AUDIT_TABLE_NAME) -> Iterator[Any]:
    """Inside `mock_aws()`: the notary's KMS key (ECC_NIST_P256) and Object Lock bucket, as
    terraform/modules/audit makes them, and a function that feeds the notary what the table's stream
    holds since the last call, as the event source mapping does. Yields that function; its
    `checkpoints`, `signer`, `public_key` and `signature_check` (kms:Verify, the audit Lambda's) attributes
    are the AWS adapters and the key."""
    from agentarch.adapters.aws_notary import KmsSignatureCheck, KmsSigner, S3Checkpoints
    from agentarch.handlers.notary import read_batch
    from agentarch.services.notary import Notary, PublicKey

    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    s3 = boto3.client("s3", region_name=REGION)
    bucket = "agentarch-notary"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    state = {
        "iterator": streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    }
    signer = KmsSigner(key_id, client=kms)
    checkpoints = S3Checkpoints(bucket, client=s3)
    notary = Notary(signer, checkpoints)

    def feed() -> Any:
        answer = streams.get_records(ShardIterator=state["iterator"])
        state["iterator"] = answer["NextShardIterator"]
        heads, events, position = read_batch(answer["Records"])
        return notary.checkpoint(heads, events, position=position)

    feed.checkpoints = checkpoints  # type: ignore[attr-defined]
    feed.signer = signer  # type: ignore[attr-defined]
    feed.public_key = PublicKey(signer.public_key())  # type: ignore[attr-defined]
    feed.signature_check = KmsSignatureCheck(key_id, client=kms)  # type: ignore[attr-defined]
    feed.s3, feed.bucket = s3, bucket  # type: ignore[attr-defined]
    yield feed
