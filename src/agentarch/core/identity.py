"""The signed-in user: who a request, a turn, a tool call and an audit record are for.

Identity comes only from a verified token (the API Gateway Cognito authorizer's claims) or, inside
the runtime, from the one caller IAM lets in; never from a request body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentarch.core.errors import InvalidIdentifier

# AgentCore Memory's `actorId`: letters, digits, `-_/`, with `:` only between segments (a Cognito `sub` fits).
ACTOR_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_/-]*(?::[a-zA-Z0-9_/-]+)*$")
ACTOR_ID_MAX_CHARS = 255
GROUP_NAME_MAX_CHARS = 128  # Cognito's limit on a group name
MAX_GROUPS = 100


class Actor(BaseModel):
    """The signed-in user: the token's `sub` and its Cognito groups."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=ACTOR_ID_MAX_CHARS)
    groups: tuple[Annotated[str, Field(max_length=GROUP_NAME_MAX_CHARS)], ...] = Field(
        default=(), max_length=MAX_GROUPS
    )


def actor_from_claims(claims: Mapping[str, Any]) -> Actor | None:
    """The actor in an authorizer's claims (`sub`, `cognito:groups`); None without a subject."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        return None
    try:
        return Actor(id=subject, groups=tuple(_groups(claims.get("cognito:groups"))))
    except ValidationError:  # longer than Cognito allows: no identity this service can carry
        return None


def check_actor_id(actor_id: str) -> str:
    """The actor id, or `InvalidIdentifier` (they come from verified token claims, so this is a guard)."""
    if (
        not isinstance(actor_id, str)
        or len(actor_id) > ACTOR_ID_MAX_CHARS
        or not ACTOR_ID_PATTERN.fullmatch(actor_id)
    ):
        raise InvalidIdentifier("actor id is not a valid identifier")
    return actor_id


def _groups(raw: Any) -> list[str]:
    # The REST Cognito authorizer flattens lists into strings: "a,b" or "[a b]".
    if isinstance(raw, list):
        return [str(g) for g in raw]
    if isinstance(raw, str) and raw:
        return [g for g in raw.strip("[]").replace(",", " ").split() if g]
    return []
