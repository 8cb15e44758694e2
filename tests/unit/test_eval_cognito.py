"""`agentarch eval` against a deployed stack: SRP sign-in on the eval client, and what it refuses.

Two identity providers: a server written here that plays Cognito's side of SRP-6a from a verifier
(it never sees the password, so a wrong proof is refused as Cognito refuses it), and moto's
cognito-idp (which runs the flow but checks no proof, and has no pre token generation trigger: its
access tokens carry no custom scope — the case eval must refuse)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from agentarch.dev.cli import main
from agentarch.dev.evals import cognito
from agentarch.dev.evals.cognito import CognitoSettings, CognitoSignInError, load_settings, srp_sign_in
from agentarch.dev.evals.runner import CognitoUsers, cognito_users
from agentarch.dev.evals.suite import load_suites

POOL_ID = "eu-west-1_AbCdEf123"
CLIENT_ID = "5evalclient000example00000"
PASSWORD = "Correct-Horse-9!"


# --- Cognito's side of SRP-6a, from the published protocol (RFC 5054 group, SHA-256) -------------


def _pad(hex_text: str) -> str:
    hex_text = hex_text if len(hex_text) % 2 == 0 else "0" + hex_text
    return "00" + hex_text if hex_text[0] in "89abcdefABCDEF" else hex_text


def _h(hex_text: str) -> int:
    return int(hashlib.sha256(bytes.fromhex(hex_text)).hexdigest(), 16)


class SrpServer:
    """Holds one user's salt and verifier v = g^x; answers the two calls as Cognito does."""

    def __init__(self, user: str, password: str, groups: list[str], scope: str) -> None:
        self.pool = POOL_ID.partition("_")[2]
        self.user, self.user_id = user, f"{user}-sub"
        self.groups, self.scope = groups, scope
        self.n = int(cognito.N_HEX, 16)
        self.salt = secrets.token_hex(16)
        inner = hashlib.sha256(f"{self.pool}{self.user_id}:{password}".encode()).hexdigest()
        x = _h(_pad(self.salt) + inner)
        self.v = pow(2, x, self.n)  # what the server keeps instead of the password
        self.k = _h(_pad(format(self.n, "x")) + "02")
        self.calls: list[dict[str, Any]] = []

    def initiate_auth(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if request["ClientId"] != CLIENT_ID:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "no such client"}}, "InitiateAuth"
            )
        assert request["AuthFlow"] == "USER_SRP_AUTH" and request["AuthParameters"]["USERNAME"] == self.user
        self.a = int(request["AuthParameters"]["SRP_A"], 16)
        self.b = secrets.randbelow(self.n)
        self.big_b = (self.k * self.v + pow(2, self.b, self.n)) % self.n
        self.secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": self.salt,
                "SRP_B": format(self.big_b, "x"),
                "SECRET_BLOCK": self.secret_block,
                "USER_ID_FOR_SRP": self.user_id,
                "USERNAME": self.user_id,
            },
        }

    def respond_to_auth_challenge(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        answer = request["ChallengeResponses"]
        assert re.fullmatch(
            r"[A-Z][a-z]{2} [A-Z][a-z]{2} [1-9]\d? \d\d:\d\d:\d\d UTC \d{4}", answer["TIMESTAMP"]
        )
        u = _h(_pad(format(self.a, "x")) + _pad(format(self.big_b, "x")))
        shared = pow(self.a * pow(self.v, u, self.n), self.b, self.n)  # the server's S = (A v^u)^b
        prk = hmac.new(
            bytes.fromhex(_pad(format(u, "x"))), bytes.fromhex(_pad(format(shared, "x"))), hashlib.sha256
        )
        key = hmac.new(prk.digest(), b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
        message = self.pool.encode() + self.user_id.encode() + base64.b64decode(self.secret_block)
        expected = hmac.new(key, message + answer["TIMESTAMP"].encode(), hashlib.sha256).digest()
        if base64.b64decode(answer["PASSWORD_CLAIM_SIGNATURE"]) != expected:
            raise ClientError(
                {"Error": {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}},
                "RespondToAuthChallenge",
            )
        claims = {
            "sub": self.user_id,
            "client_id": CLIENT_ID,
            "scope": self.scope,
            "cognito:groups": self.groups,
        }
        token = "h." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + ".s"
        return {"AuthenticationResult": {"AccessToken": token, "IdToken": token, "RefreshToken": "r"}}


SETTINGS = CognitoSettings(user_pool_id=POOL_ID, client_id=CLIENT_ID, region="eu-west-1")


def test_the_srp_proof_of_the_right_password_is_the_one_the_server_accepts() -> None:
    server = SrpServer("alice", PASSWORD, ["users"], "agentarch-api/chat")
    tokens = srp_sign_in(server, SETTINGS, "alice", PASSWORD)
    assert cognito.token_claims(tokens["AccessToken"])["sub"] == "alice-sub"
    # and the password itself never went to the server
    assert PASSWORD not in json.dumps(server.calls)


def test_a_wrong_password_is_refused_as_cognito_refuses_it() -> None:
    server = SrpServer("alice", PASSWORD, ["users"], "agentarch-api/chat")
    with pytest.raises(CognitoSignInError, match="alice: wrong user name or password"):
        srp_sign_in(server, SETTINGS, "alice", "Wrong-Horse-9!")


def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "suite: deployed\nruns: 1\nuser: {groups: [users]}\nscenarios:\n"
        "  - id: hello\n    turns:\n      - say: hello there\n",
        encoding="utf-8",
    )
    return path


def sign_in_file(tmp_path: Path, **values: Any) -> Path:
    path = tmp_path / "eval-sign-in.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    return path


def test_the_cli_exits_2_on_a_wrong_password_before_any_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = SrpServer("alice", PASSWORD, ["users"], "agentarch-api/chat")
    monkeypatch.setattr(cognito, "identity_provider", lambda settings: server)
    config = sign_in_file(
        tmp_path, against="https://api.invalid/prod", user_pool_id=POOL_ID, client_id=CLIENT_ID
    )

    status = main(
        ["eval", str(suite_file(tmp_path)), "--cognito", str(config), "--user", "alice:Bad-Pass-1!", "-q"]
    )

    assert status == 2
    error = capsys.readouterr().err
    assert "alice: wrong user name or password" in error and "Bad-Pass-1!" not in error


def test_signed_in_users_run_with_their_access_token_and_the_groups_it_carries(tmp_path: Path) -> None:
    server = SrpServer("carol", PASSWORD, ["users"], "agentarch-api/chat")
    users = cognito_users(SETTINGS, [f"carol:{PASSWORD}"], server)
    assert users == {"carol": (PASSWORD, ("users",))}
    (suite,) = load_suites([suite_file(tmp_path)])
    target = CognitoUsers("https://api.invalid/prod", users, SETTINGS, server)
    name, client = target.client(suite, suite.scenarios[0], 1)  # type: ignore[misc]
    assert name == "carol" and str(client.base_url) == "https://api.invalid/prod/api/"
    token = client.headers["Authorization"].removeprefix("Bearer ")
    assert cognito.token_claims(token)["scope"] == "agentarch-api/chat"


# --- moto's cognito-idp: the real API shapes, and a pool without the trigger ------------------------


@pytest.fixture
def moto_pool(aws_credentials: None) -> Iterator[dict[str, str]]:
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="eu-west-1")
        pool = idp.create_user_pool(PoolName="agentarch")["UserPool"]["Id"]
        client = idp.create_user_pool_client(
            UserPoolId=pool,
            ClientName="agentarch-eval",
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="bob", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool, Username="bob", Password=PASSWORD, Permanent=True)
        idp.create_group(UserPoolId=pool, GroupName="users")
        idp.admin_add_user_to_group(UserPoolId=pool, Username="bob", GroupName="users")
        yield {"pool": pool, "client": client}


def test_srp_runs_against_the_cognito_api_and_yields_the_users_groups(moto_pool: dict[str, str]) -> None:
    settings = CognitoSettings(
        moto_pool["pool"], moto_pool["client"], "eu-west-1", scope="aws.cognito.signin.user.admin"
    )
    users = cognito_users(settings, [f"bob:{PASSWORD}"], cognito.identity_provider(settings))
    assert users == {"bob": (PASSWORD, ("users",))}


def test_a_token_without_the_api_scope_is_refused_with_exit_2(
    moto_pool: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the whole `terraform output -json` of a stack, and a pool with no pre token generation
    # trigger (moto has none: its SRP tokens carry only aws.cognito.signin.user.admin)
    outputs = {
        "api_url": {"value": "https://api.invalid/prod/api"},
        "eval_sign_in": {"value": {"against": "https://api.invalid/prod", "user_pool_id": moto_pool["pool"],
                                   "client_id": moto_pool["client"], "region": "eu-west-1",
                                   "scope": "agentarch-api/chat"}},
    }  # fmt: skip
    config = tmp_path / "outputs.json"
    config.write_text(json.dumps(outputs), encoding="utf-8")

    status = main(
        ["eval", str(suite_file(tmp_path)), "--cognito", str(config), "--user", f"bob:{PASSWORD}", "-q"]
    )

    assert status == 2
    captured = capsys.readouterr()
    assert "this token has no agentarch-api/chat: is eval_client_enabled on" in captured.err
    # and neither the password nor a token is printed
    assert PASSWORD not in captured.err + captured.out and "eyJ" not in captured.err + captured.out


def test_an_unknown_client_is_refused_with_exit_2(
    moto_pool: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([
        "eval", str(suite_file(tmp_path)), "--against", "https://api.invalid/prod",
        "--cognito-pool-id", moto_pool["pool"], "--cognito-client-id", "nosuchclient0000000000000",
        "--user", f"bob:{PASSWORD}", "-q",
    ])  # fmt: skip
    assert status == 2
    assert "no app client nosuchclient0000000000000" in capsys.readouterr().err


def test_settings_come_from_the_eval_sign_in_output_and_a_switched_off_stack_is_named(tmp_path: Path) -> None:
    path = sign_in_file(tmp_path, against="https://x.invalid/prod", user_pool_id=POOL_ID, client_id=CLIENT_ID,
                        region="eu-west-1", scope="agentarch-api/chat")  # fmt: skip
    settings = load_settings(path, None, "override-client", None)
    assert (settings.user_pool_id, settings.client_id, settings.region, settings.against) == (
        POOL_ID, "override-client", "eu-west-1", "https://x.invalid/prod",
    )  # fmt: skip
    # the region follows the pool id when only flags are given
    assert load_settings(None, "us-east-2_Xyz", "c", None).region == "us-east-2"
    off = tmp_path / "off.json"
    off.write_text(json.dumps({"eval_sign_in": {"value": None}}), encoding="utf-8")
    with pytest.raises(CognitoSignInError, match="set eval_client_enabled = true"):
        load_settings(off, None, None, None)
