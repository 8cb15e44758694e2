"""Verify AWS Signature Version 4 on an incoming request, recomputing it with botocore's signer.

The local runtime endpoint uses this to behave like AgentCore Runtime with IAM auth: only a
caller holding the local stack's credentials (the chat Lambda) gets through.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MAX_CLOCK_SKEW = timedelta(minutes=5)
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})$"
)


class SignatureRejected(Exception):
    """The request is not signed, or not signed by the expected credentials."""


@dataclass(frozen=True)
class SigV4Verifier:
    """Checks requests against one access key pair, one region and one service name."""

    access_key_id: str
    secret_access_key: str
    region: str
    service: str

    def verify(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        """Raise SignatureRejected unless the request carries a valid signature of ours.

        `url` must be the request URL exactly as sent (raw, still percent-encoded path).
        `headers` must have lower-case names.
        """
        match = _AUTH.match(headers.get("authorization", ""))
        if match is None:
            raise SignatureRejected("the request is not signed with SigV4")
        if not hmac.compare_digest(match["akid"], self.access_key_id):
            raise SignatureRejected("unknown access key")
        if (match["region"], match["service"]) != (self.region, self.service):
            raise SignatureRejected("the credential scope does not match this endpoint")
        amz_date = headers.get("x-amz-date", "")
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise SignatureRejected("missing or malformed X-Amz-Date") from None
        if abs(datetime.now(UTC) - signed_at) > MAX_CLOCK_SKEW or not amz_date.startswith(match["date"]):
            raise SignatureRejected("the signature has expired or is not yet valid")
        signed = match["signed"].split(";")
        if "host" not in signed or any(name not in headers for name in signed):
            raise SignatureRejected("signed headers are missing")
        # The body is hashed here, never taken from the caller's x-amz-content-sha256: a claimed
        # hash (or UNSIGNED-PAYLOAD) would let any body ride on a valid signature.
        body_hash = hashlib.sha256(body).hexdigest()
        claimed = headers.get("x-amz-content-sha256")
        if claimed is not None and not hmac.compare_digest(claimed, body_hash):
            raise SignatureRejected("the body does not match its signed hash")
        request = AWSRequest(method=method, url=url, data=body, headers={n: headers[n] for n in signed})
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self.access_key_id, self.secret_access_key), self.service, self.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, match["signature"]):
            raise SignatureRejected("the signature does not match")
