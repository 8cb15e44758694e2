"""The signed-in user: who a request, a turn, a tool call and an audit record are for.

Identity comes only from a verified token (the API Gateway Cognito authorizer's claims) or, inside
the runtime, from the one caller IAM lets in; never from a request body.

Group names are exact. The REST authorizer hands `cognito:groups` to the integration as one string
(`"a,b"`), and Cognito allows commas and brackets in a group name, so that string cannot always be
split back into names. The groups are therefore read from the token itself — the same token the
authorizer verified, in the request's Authorization header, matched to the verified claims — and
only without it from the string, where a name the string cannot carry (`,`, `[`, `]`, white space)
makes the whole claim unreadable: no groups at all rather than the wrong ones. The local identity
issuer refuses such names, as the Terraform group variables do.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentarch.core.errors import InvalidIdentifier

# AgentCore Memory's `actorId`: letters, digits, `-_/`, with `:` only between segments (a Cognito `sub` fits).
ACTOR_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_/-]*(?::[a-zA-Z0-9_/-]+)*$")
ACTOR_ID_MAX_CHARS = 255
GROUP_NAME_MAX_CHARS = 128  # Cognito's limit on a group name
USER_NAME_MAX_CHARS = 128  # Cognito's limit on a user name
MAX_GROUPS = 100
# What a group name may hold here: Cognito's rule (no white space, 1-128 characters) less the
# characters the authorizer's flattened claim cannot carry.
GROUP_NAME_PATTERN = re.compile(rf"^[^\s,\[\]]{{1,{GROUP_NAME_MAX_CHARS}}}$")
# Claims that name one token (strings the authorizer passes on unchanged): the header's token must
# carry the same values to be the one the claims were verified from.
_SAME_TOKEN_CLAIMS = ("sub", "jti", "client_id", "token_use")


class Actor(BaseModel):
    """The signed-in user: the token's `sub` and its Cognito groups, and the user name it carries.

    `name` is for people to read ("written by bob"): a user name is whatever was typed when the user
    was made, so it is shown as text only and decides nothing — who someone is, what they may do and
    whose words a text is are always decided by `id`.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=ACTOR_ID_MAX_CHARS)
    groups: tuple[Annotated[str, Field(max_length=GROUP_NAME_MAX_CHARS)], ...] = Field(
        default=(), max_length=MAX_GROUPS
    )
    name: str | None = Field(None, min_length=1, max_length=USER_NAME_MAX_CHARS)


def actor_from_claims(claims: Mapping[str, Any], authorization: str | None = None) -> Actor | None:
    """The actor in an authorizer's verified claims (`sub`, `cognito:groups`); None without a subject.

    `authorization` is the request's Authorization header: when it holds the very token the claims
    came from (the same subject, token id and times), its `cognito:groups` array gives the exact names.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        return None
    token_groups = _token_groups(authorization, claims)
    groups = token_groups if token_groups is not None else _claim_groups(claims.get("cognito:groups"))
    try:
        return Actor(id=subject, groups=tuple(groups), name=_user_name(claims))
    except ValidationError:  # longer than Cognito allows: no identity this service can carry
        return None


def _user_name(claims: Mapping[str, Any]) -> str | None:
    """The user name of verified claims (an access token's `username`, an ID token's
    `cognito:username`); None when there is none this service can carry (the identity stands without)."""
    name = claims.get("username", claims.get("cognito:username"))
    if isinstance(name, str) and 0 < len(name) <= USER_NAME_MAX_CHARS:
        return name
    return None


def check_group_name(name: str) -> str:
    """A group name this architecture can carry exactly, or `InvalidIdentifier` saying why not."""
    if not isinstance(name, str) or not GROUP_NAME_PATTERN.fullmatch(name):
        raise InvalidIdentifier(
            f"group name {name!r}: 1-{GROUP_NAME_MAX_CHARS} characters, no white space, commas or brackets"
        )
    return name


def check_actor_id(actor_id: str) -> str:
    """The actor id, or `InvalidIdentifier` (they come from verified token claims, so this is a guard)."""
    if (
        not isinstance(actor_id, str)
        or len(actor_id) > ACTOR_ID_MAX_CHARS
        or not ACTOR_ID_PATTERN.fullmatch(actor_id)
    ):
        raise InvalidIdentifier("actor id is not a valid identifier")
    return actor_id


def _token_groups(authorization: str | None, claims: Mapping[str, Any]) -> list[str] | None:
    """`cognito:groups` of the bearer token, if it is the token the claims were verified from."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    try:
        payload = authorization.split()[1].split(".")[1]
        token = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(token, dict) or token.get("sub") != claims.get("sub"):
        return None
    for name in _SAME_TOKEN_CLAIMS[1:]:
        if name in claims and str(token.get(name)) != str(claims[name]):
            return None
    groups = token.get("cognito:groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        return None
    return [g for g in groups if GROUP_NAME_PATTERN.fullmatch(g)]


def _claim_groups(raw: Any) -> list[str]:
    """The groups of the authorizer's claim: a list, or the REST authorizer's `"a,b"` string. A
    string holding a name it cannot carry is not split by guesswork: it gives no groups."""
    if isinstance(raw, list):
        return [g for g in raw if isinstance(g, str) and GROUP_NAME_PATTERN.fullmatch(g)]
    if not isinstance(raw, str) or not raw:
        return []
    names = raw.split(",")
    return names if all(GROUP_NAME_PATTERN.fullmatch(name) for name in names) else []
