"""The local stack's own security pieces: SigV4 verification and the Cognito-shaped issuer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from agentarch.adapters.cognito_tokens import AccessTokenVerifier, TokenRejected
from agentarch.config import API_SCOPE
from agentarch.dev.local.identity import (
    LocalIdentity,
    LoginFailed,
    UserSpec,
)
from agentarch.dev.local.sigv4 import SignatureRejected, SigV4Verifier

URL = "http://127.0.0.1:9999/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A0%3Aruntime%2Fa-b/invocations?qualifier=DEFAULT"
VERIFIER = SigV4Verifier("AKIALOCALTEST", "local-secret", "us-east-1", "bedrock-agentcore")


def signed(body: bytes, secret: str = "local-secret", url: str = URL) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("AKIALOCALTEST", secret), "bedrock-agentcore", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:9999"
    return headers


def test_a_request_signed_with_the_local_credentials_passes() -> None:
    VERIFIER.verify("POST", URL, signed(b'{"prompt": "hi"}'), b'{"prompt": "hi"}')


def test_a_tampered_body_a_wrong_secret_or_no_signature_is_rejected() -> None:
    with pytest.raises(SignatureRejected, match="does not match"):
        VERIFIER.verify("POST", URL, signed(b'{"prompt": "hi"}'), b'{"prompt": "rm -rf"}')
    with pytest.raises(SignatureRejected, match="does not match"):
        VERIFIER.verify("POST", URL, signed(b"{}", secret="guess"), b"{}")
    with pytest.raises(SignatureRejected, match="not signed"):
        VERIFIER.verify("POST", URL, {"authorization": "Bearer eyJ.x.y", "host": "h"}, b"{}")


def test_another_service_scope_or_an_old_signature_is_rejected() -> None:
    other = SigV4Verifier("AKIALOCALTEST", "local-secret", "us-east-1", "lambda")
    with pytest.raises(SignatureRejected, match="scope"):
        other.verify("POST", URL, signed(b"{}"), b"{}")
    headers = signed(b"{}")
    old = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 3600))
    headers["x-amz-date"] = old
    headers["authorization"] = headers["authorization"].replace(
        headers["authorization"].split("/")[1], old[:8]
    )
    with pytest.raises(SignatureRejected, match="expired"):
        VERIFIER.verify("POST", URL, headers, b"{}")


@pytest.fixture
def identity(tmp_path: Path) -> LocalIdentity:
    issuer = LocalIdentity(tmp_path, issuer="http://127.0.0.1/local-auth")
    issuer.set_user(UserSpec.parse("alice:s3cret:users,admins"))
    return issuer


@pytest.fixture
def jwks_url(identity: LocalIdentity) -> Iterator[str]:
    document = json.dumps(identity.jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def test_login_mints_cognito_shaped_tokens(identity: LocalIdentity) -> None:
    tokens = identity.login("alice", "s3cret")

    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert access["token_use"] == "access" and access["scope"] == API_SCOPE
    assert access["client_id"] == identity.client_id and access["cognito:groups"] == ["users", "admins"]
    assert id_claims["token_use"] == "id" and id_claims["aud"] == identity.client_id
    assert access["sub"] == id_claims["sub"] and access["exp"] > time.time()
    assert tokens["expires_in"] == 3600


def test_wrong_password_or_unknown_user_fails_the_same_way(identity: LocalIdentity) -> None:
    with pytest.raises(LoginFailed):
        identity.login("alice", "wrong")
    with pytest.raises(LoginFailed):
        identity.login("mallory", "s3cret")


def test_keys_and_subjects_survive_a_restart(tmp_path: Path, identity: LocalIdentity) -> None:
    before = identity.login("alice", "s3cret")
    again = LocalIdentity(tmp_path, issuer=identity.issuer)
    again.set_user(UserSpec.parse("alice:new-password"))

    after = again.login("alice", "new-password")

    assert again.jwks() == identity.jwks()
    sub = lambda t: jwt.decode(t, options={"verify_signature": False})["sub"]  # noqa: E731
    assert sub(after["access_token"]) == sub(before["access_token"])
    assert (tmp_path / "users.json").stat().st_mode & 0o077 == 0
    assert "new-password" not in (tmp_path / "users.json").read_text()


def test_the_authorizer_takes_access_tokens_with_the_scope_only(
    identity: LocalIdentity, jwks_url: str
) -> None:
    verifier = AccessTokenVerifier(jwks_url, identity.issuer, identity.client_id, required_scope=API_SCOPE)
    tokens = identity.login("alice", "s3cret")

    claims = verifier.verify(f"Bearer {tokens['access_token']}")

    assert claims["sub"] and claims["token_use"] == "access"
    with pytest.raises(TokenRejected, match="access token"):
        verifier.verify(f"Bearer {tokens['id_token']}")
    with pytest.raises(TokenRejected):
        verifier.verify(None)
    with pytest.raises(TokenRejected):
        verifier.verify(f"Bearer {tokens['access_token'][:-4]}AAAA")
    other_client = AccessTokenVerifier(jwks_url, identity.issuer, "someone-else", required_scope=None)
    with pytest.raises(TokenRejected, match="another client"):
        other_client.verify(f"Bearer {tokens['access_token']}")


def test_user_spec_parsing_says_what_is_wrong() -> None:
    assert UserSpec.parse("bob:pw") == UserSpec("bob", "pw", ())
    with pytest.raises(ValueError, match="NAME:PASSWORD"):
        UserSpec.parse("bob")


def test_failed_sign_ins_that_straddle_a_minute_boundary_still_block_the_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agentarch.dev.local import frontdoor

    clock = [299.0]
    monkeypatch.setattr(frontdoor.time, "monotonic", lambda: clock[0])
    throttle = frontdoor.LoginThrottle()
    for n in range(10):
        throttle.failed("10.0.0.9", f"user{n}")
    clock[0] = 301.0  # a fixed 300 s window would start counting afresh here
    for n in range(10, 20):
        throttle.failed("10.0.0.9", f"user{n}")

    assert throttle.retry_after("10.0.0.9", "someone-new") > 0
    assert throttle.retry_after("10.0.0.10", "someone-new") == 0


def test_the_rate_rule_does_not_reset_when_a_burst_straddles_a_window_boundary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agentarch.dev.local import frontdoor

    clock = [299.9]
    monkeypatch.setattr(frontdoor.time, "monotonic", lambda: clock[0])
    limiter = frontdoor.RateLimiter(5, 300.0)
    before = [limiter.allow("10.0.0.9") for _ in range(3)]
    clock[0] = 300.1  # a fixed window would count afresh from here
    after = [limiter.allow("10.0.0.9") for _ in range(4)]

    assert before + after == [True] * 5 + [False] * 2
    assert limiter.allow("10.0.0.10")  # another address has its own budget
    clock[0] = 900.0  # a whole window later, the budget is back
    assert limiter.allow("10.0.0.9")
