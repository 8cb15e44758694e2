"""Group names are exact: the authorizer's flattened claim is never split by guesswork.

Cognito forbids white space in a group name but allows commas and brackets, and the REST authorizer
hands `cognito:groups` to the Lambda as one string. A name the string cannot carry must not turn
into another, privileged one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from agentarch.core.identity import actor_from_claims
from agentarch.dev.local.identity import UserSpec


def bearer(claims: dict[str, Any]) -> str:
    """A JWT-shaped bearer token carrying `claims` (the signature is the authorizer's business)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"Bearer {part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


TOKEN = {"sub": "u-1", "jti": "j-1", "client_id": "web", "token_use": "access"}


@pytest.mark.parametrize(
    "claim",
    ["[audit-admins]", "ops audit-admins", "support weather", "[ops audit-admins]", "audit-admins,[x]", ","],
)
def test_a_claim_string_that_cannot_be_split_back_gives_no_groups(claim: str) -> None:
    actor = actor_from_claims({"sub": "u-1", "cognito:groups": claim})

    assert actor is not None and actor.groups == ()


def test_the_rest_authorizers_comma_string_gives_each_group() -> None:
    actor = actor_from_claims({"sub": "u-1", "cognito:groups": "users,audit-admins"})

    assert actor is not None and actor.groups == ("users", "audit-admins")


def test_the_groups_come_exact_from_the_verified_token_in_the_authorization_header() -> None:
    # Given the claims the authorizer verified and flattened, and the same token in the header
    token = {**TOKEN, "cognito:groups": ["users", "weather"]}
    claims = {**TOKEN, "cognito:groups": "users,weather"}

    actor = actor_from_claims(claims, bearer(token))

    assert actor is not None and actor.groups == ("users", "weather")


def test_a_group_whose_name_the_claim_cannot_carry_is_not_read_as_another() -> None:
    # Given a token whose one group is "[audit-admins]" (brackets are allowed in Cognito)
    token = {**TOKEN, "cognito:groups": ["[audit-admins]"]}
    claims = {**TOKEN, "cognito:groups": "[audit-admins]"}

    # Then the user is not an audit admin, from the token or from the claim
    for header in (bearer(token), None):
        actor = actor_from_claims(claims, header)
        assert actor is not None and "audit-admins" not in actor.groups


def test_a_header_token_that_is_not_the_verified_one_is_not_believed() -> None:
    # Given claims verified for one token, and a header with another (another id) claiming admin
    forged = bearer({**TOKEN, "jti": "j-2", "cognito:groups": ["audit-admins"]})
    claims = {**TOKEN, "cognito:groups": "users"}

    actor = actor_from_claims(claims, forged)

    assert actor is not None and actor.groups == ("users",)


@pytest.mark.parametrize("group", ["[audit-admins]", "ops audit-admins", "a,b", "x" * 129])
def test_the_local_identity_refuses_a_group_name_the_claim_cannot_carry(group: str) -> None:
    with pytest.raises(ValueError, match="no white space, commas or brackets"):
        UserSpec("alice", "alice-password-1", (group,))


def test_agentarch_dev_refuses_such_a_group_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    from agentarch.dev.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["dev", "--user", "mallory:mallory-password-1:users,[audit-admins]"])

    assert exit_.value.code == 2
    assert "no white space, commas or brackets" in capsys.readouterr().err
