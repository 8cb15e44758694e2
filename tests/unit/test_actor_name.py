"""The user name a verified token carries reaches the actor, for people to read ("written by bob")."""

from __future__ import annotations

import pytest

from agentarch.core.identity import actor_from_claims


@pytest.mark.parametrize(
    ("claims", "name"),
    [
        ({"username": "bob"}, "bob"),  # an access token (what the API's authorizer verifies)
        ({"cognito:username": "bob"}, "bob"),  # an ID token
        ({}, None),
        ({"username": ""}, None),
        ({"username": "b" * 129}, None),  # longer than Cognito allows: no name, the identity stands
        ({"username": ["bob"]}, None),
    ],
)
def test_the_user_name_of_verified_claims_is_the_actors_name(
    claims: dict[str, object], name: str | None
) -> None:
    actor = actor_from_claims({"sub": "u-1", **claims})

    assert actor is not None and (actor.id, actor.name) == ("u-1", name)
