"""Cognito access tokens verified against the user pool's JWKS: what the API Gateway authorizer (with
authorization scopes) and AgentCore's JWT authorizer (allowed clients) check, done again where the
token is used. The local stack's front door and runtime endpoint verify with it; so does the agent
in patterns 0 and 1, where the runtime hands it the token it already validated.

A user pool publishes its keys at `{issuer}/.well-known/jwks.json` (Cognito's issuer is
`https://cognito-idp.{region}.amazonaws.com/{pool id}`); keys are fetched once and kept 5 minutes.
"""

from __future__ import annotations

from typing import Any

JWKS_SUFFIX = "/.well-known/jwks.json"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


class TokenRejected(Exception):
    """The bearer token is missing, malformed, expired, or not for this API."""


def issuer_of_discovery_url(discovery_url: str) -> str:
    """The issuer an OpenID discovery URL belongs to (AgentCore's `discovery_url` names the pool so)."""
    return discovery_url.removesuffix(DISCOVERY_SUFFIX)


class AccessTokenVerifier:
    """Verify Cognito-shaped access tokens against a JWKS URL, as the API Gateway authorizer
    (with authorization scopes) and AgentCore's JWT authorizer (allowed clients) do."""

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        client_id: str | tuple[str, ...],
        required_scope: str | None,
    ) -> None:
        # PyJWT and cryptography (~30 ms) load with the first verifier: the agent of patterns 2 and 3,
        # reached only with SigV4, never makes one, and its cold start does not pay for them.
        import jwt

        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._issuer = issuer
        self._client_ids = (client_id,) if isinstance(client_id, str) else tuple(client_id)
        self._required_scope = required_scope

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """Return the claims of a valid `Bearer` access token, or raise TokenRejected."""
        if not authorization:
            raise TokenRejected("no bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TokenRejected("the Authorization header is not a bearer token")
        import jwt  # loaded by __init__

        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            reason = (
                "the token has expired"
                if isinstance(exc, jwt.ExpiredSignatureError)
                else "the token is not valid"
            )
            raise TokenRejected(reason) from None
        if claims.get("token_use") != "access":
            raise TokenRejected("an access token is required")
        if claims.get("client_id") not in self._client_ids:
            raise TokenRejected("the token was issued to another client")
        if self._required_scope and self._required_scope not in str(claims.get("scope", "")).split():
            raise TokenRejected("the token lacks the API scope")
        return claims
