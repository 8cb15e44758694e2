"""A local identity issuer shaped like Cognito: RS256 ID and access tokens, a JWKS document,
and users kept in the state directory (passwords salted and hashed with scrypt).

Tokens carry what Cognito's do: `sub`, `cognito:groups`, `token_use`, `iss`, `exp`, `iat`,
`auth_time`, `jti`, and `aud` (ID token) or `client_id` + `scope` (access token).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agentarch.config import API_SCOPE
from agentarch.core.errors import InvalidIdentifier
from agentarch.core.identity import check_group_name

LOCAL_CLIENT_ID = "agentarch-local-web"
TOKEN_LIFETIME_SECONDS = 3600
JWKS_PATH = "/local-auth/.well-known/jwks.json"


class LoginFailed(Exception):
    """Unknown user or wrong password (deliberately indistinguishable)."""


@dataclass(frozen=True)
class UserSpec:
    """A user asked for on the command line: `NAME:PASSWORD[:GROUP,...]`."""

    username: str
    password: str
    groups: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> UserSpec:
        """Parse `NAME:PASSWORD[:GROUP,...]`, with a message a person can act on."""
        parts = text.split(":", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError(f"--user wants NAME:PASSWORD[:GROUP,...], got {text!r}")
        groups = tuple(g for g in parts[2].split(",") if g) if len(parts) == 3 else ()
        return cls(parts[0], parts[1], groups)

    def __post_init__(self) -> None:
        for group in self.groups:  # as Cognito's, and no name the authorizer's flattened claim cannot carry
            try:
                check_group_name(group)
            except InvalidIdentifier as exc:
                raise ValueError(f"user {self.username}: {exc}") from None


def write_private(path: Path, text: str) -> None:
    """Write a secret file readable only by its owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


class LocalIdentity:
    """Users, keys and token minting for the local stack; everything lives under `state_dir`."""

    def __init__(self, state_dir: Path, issuer: str) -> None:
        self.issuer = issuer
        self.client_id = LOCAL_CLIENT_ID
        self._users_file = state_dir / "users.json"
        self._key = self._load_or_create_key(state_dir / "signing-key.pem")
        public_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        self.kid = hashlib.sha256(json.dumps(public_jwk, sort_keys=True).encode()).hexdigest()[:16]
        self._jwks = {"keys": [{**public_jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        self._users: dict[str, dict[str, Any]] = (
            json.loads(self._users_file.read_text()) if self._users_file.exists() else {}
        )

    @staticmethod
    def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(key, rsa.RSAPrivateKey):
                return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(path, pem.decode())
        return key

    def jwks(self) -> dict[str, Any]:
        """The public keys, as Cognito publishes them at `{iss}/.well-known/jwks.json`."""
        return self._jwks

    def set_user(self, spec: UserSpec) -> None:
        """Create or update a user; its `sub` stays the same across restarts."""
        salt = secrets.token_bytes(16)
        existing = self._users.get(spec.username, {})
        self._users[spec.username] = {
            "sub": existing.get("sub") or str(uuid.uuid4()),
            "groups": list(spec.groups),
            "salt": salt.hex(),
            "hash": _hash(spec.password, salt).hex(),
        }
        write_private(self._users_file, json.dumps(self._users, indent=2))

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Check the password and mint `{id_token, access_token, expires_in, token_type}`."""
        user = self._users.get(username)
        if user is None:
            _hash(password, b"0" * 16)  # same work either way: no user enumeration by timing
            raise LoginFailed
        if not hmac.compare_digest(_hash(password, bytes.fromhex(user["salt"])).hex(), user["hash"]):
            raise LoginFailed
        return self.mint(username, user["sub"], user["groups"])

    def mint(self, username: str, sub: str, groups: list[str]) -> dict[str, Any]:
        """Sign an ID token and an access token for a user."""
        now = int(time.time())
        common = {"sub": sub, "cognito:groups": groups, "iss": self.issuer, "iat": now, "auth_time": now}
        common["exp"] = now + TOKEN_LIFETIME_SECONDS
        id_claims = {**common, "aud": self.client_id, "token_use": "id", "cognito:username": username}
        access_claims = {
            **common,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": API_SCOPE,
            "username": username,
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": self.kid}
        return {
            "id_token": jwt.encode(id_claims, self._key, algorithm="RS256", headers=headers),
            "access_token": jwt.encode(access_claims, self._key, algorithm="RS256", headers=headers),
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "token_type": "Bearer",
        }


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
