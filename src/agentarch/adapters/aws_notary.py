"""The notary's AWS side: KMS asymmetric signing and checkpoints in an S3 Object Lock bucket.

Calls made by the notary (its role alone is granted the first two): `kms:Sign` on the notary key,
`s3:PutObject` (conditional: `If-None-Match: *`, so a number is never written twice) and
`s3:ListBucket`/`s3:GetObject` on the bucket. The audit Lambda reads checkpoints (ListBucket,
GetObject) and checks signatures with `kms:Verify`, nothing that signs or writes. Object keys count
down (`checkpoints/<10^12 - n>.json`), so the newest checkpoint is the first a listing returns.
`agentarch audit verify --bucket` reads them with an operator's credentials, and `kms:GetPublicKey`
for the key the signatures check against.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from agentarch.adapters.aws_clients import LazyClient
from agentarch.services.notary import Checkpoint

PREFIX = "checkpoints/"
_TOP = 10**12


def checkpoint_key(number: int) -> str:
    """The object key of checkpoint `number`: newest first in a listing."""
    return f"{PREFIX}{_TOP - number:012d}.json"


def number_of(key: str) -> int:
    return _TOP - int(key.removeprefix(PREFIX).removesuffix(".json"))


class KmsSigner:
    """`Signer` on a KMS ECC_NIST_P256 key: ECDSA_SHA_256 over the message (KMS hashes it)."""

    def __init__(self, key_id: str, *, region: str | None = None, client: Any | None = None) -> None:
        self.key_id = key_id
        self._clients = LazyClient("kms", region, client)

    def sign(self, message: bytes) -> bytes:
        answer = self._clients.get().sign(
            KeyId=self.key_id, Message=message, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )
        signature: bytes = answer["Signature"]
        return signature

    def public_key(self) -> bytes:
        """DER SubjectPublicKeyInfo (kms:GetPublicKey): for verification only."""
        return kms_public_key(self.key_id, client=self._clients.get())


def kms_public_key(key_id: str, *, region: str | None = None, client: Any | None = None) -> bytes:
    """The notary key's public half, DER SubjectPublicKeyInfo (kms:GetPublicKey): what
    `agentarch audit verify --bucket` checks signatures with in process."""
    key: bytes = LazyClient("kms", region, client).get().get_public_key(KeyId=key_id)["PublicKey"]
    return key


class KmsSignatureCheck:
    """`SignatureCheck` by KMS `Verify` with the notary key: for the audit Lambda, whose zip carries no
    crypto library. kms:Verify checks; it cannot sign."""

    def __init__(self, key_id: str, *, region: str | None = None, client: Any | None = None) -> None:
        self._key_id = key_id
        self._clients = LazyClient("kms", region, client)

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            answer = self._clients.get().verify(
                KeyId=self._key_id,
                Message=message,
                MessageType="RAW",
                Signature=signature,
                SigningAlgorithm="ECDSA_SHA_256",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "KMSInvalidSignatureException":
                return False
            raise
        return bool(answer.get("SignatureValid"))


class S3Checkpoints:
    """`CheckpointStore` on a bucket with Object Lock: retention comes from the bucket's default."""

    def __init__(self, bucket: str, *, region: str | None = None, client: Any | None = None) -> None:
        self._bucket = bucket
        self._clients = LazyClient("s3", region, client)

    @property
    def _client(self) -> Any:
        return self._clients.get()

    def latest(self) -> Checkpoint | None:
        answer = self._client.list_objects_v2(Bucket=self._bucket, Prefix=PREFIX, MaxKeys=1)
        for item in answer.get("Contents", []):
            body = self._client.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
            return Checkpoint.model_validate_json(body)
        return None

    def put(self, checkpoint: Checkpoint) -> bool:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=checkpoint_key(checkpoint.head.number),
                Body=checkpoint.to_bytes(),
                ContentType="application/json",
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",  # Object Lock buckets want an integrity checksum on every put
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {
                "PreconditionFailed",
                "ConditionalRequestConflict",
            }:
                return False
            raise
        return True

    def raw(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """Checkpoints numbered above `after`, oldest first: one listing finds the newest number (keys
        count down, so it comes first), then each key is known and read in turn. A number whose object
        is gone is skipped: `check_checkpoints` names the gap."""
        answer = self._client.list_objects_v2(Bucket=self._bucket, Prefix=PREFIX, MaxKeys=1)
        newest = max((number_of(item["Key"]) for item in answer.get("Contents", [])), default=0)
        for number in range(after + 1, newest + 1):
            try:
                body = self._client.get_object(Bucket=self._bucket, Key=checkpoint_key(number))["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                    continue
                raise
            yield number, body
