"""Sign in to a deployed stack's Cognito user pool for `agentarch eval --against`: USER_SRP_AUTH on
the dedicated evaluation client (Terraform's `eval_client_enabled`).

Why SRP, and why this client: the web client allows only the OAuth code flow (and SRP), and access
tokens from InitiateAuth/RespondToAuthChallenge never carry custom scopes, while the front door's
methods require `<resource server>/chat`. The eval client's tokens get the API scopes from the pool's
pre token generation trigger (`agentarch.handlers.eval_scopes`), which adds them for that client only.
The password never leaves this process: SRP sends a proof of it. The requests are unsigned (public
client), so CI needs the test user's password, not AWS credentials.

The SRP arithmetic is here (about 60 lines on hashlib/hmac) rather than from `pycognito`, whose
`AWSSRP` does the same: the CLI already has boto3, the arithmetic is Cognito's published
SRP-6a (the 3072-bit group of RFC 5054, SHA-256, HKDF with "Caldera Derived Key"), and a test plays
the server's side of it (a verifier, never the password) to check every proof this code makes.
Tokens are never printed or logged; errors name the user, the client and Cognito's message only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

# The SRP group Cognito uses: RFC 5054's 3072-bit prime, generator 2.
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
HKDF_INFO = b"Caldera Derived Key\x01"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_SCOPE = (
    "agentarch-api/chat"  # terraform/modules/identity: <resource_server_identifier>/<api_scope_name>
)
MFA_CHALLENGES = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP", "MFA_SETUP", "SELECT_MFA_TYPE")


class CognitoSignInError(Exception):
    """Signing a user in failed in a way the person running eval must fix (exit 2)."""


class IdentityProvider(Protocol):
    """The two cognito-idp calls SRP makes (a boto3 client, or a test's server)."""

    def initiate_auth(self, **kwargs: Any) -> dict[str, Any]: ...

    def respond_to_auth_challenge(self, **kwargs: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CognitoSettings:
    """Where a deployed stack's users sign in: its pool, the eval client, the scope its API wants."""

    user_pool_id: str
    client_id: str
    region: str
    scope: str = DEFAULT_SCOPE
    against: str | None = None  # the API's base URL, when the settings came from `eval_sign_in`

    @property
    def pool_name(self) -> str:
        """The part of the pool id after the region (what SRP hashes with the user's password)."""
        return self.user_pool_id.partition("_")[2]


def load_settings(
    path: Path | None, user_pool_id: str | None, client_id: str | None, scope: str | None
) -> CognitoSettings:
    """Settings from `terraform output -json eval_sign_in` (or the whole `terraform output -json`)
    in `path`, each flag given overriding the file."""
    found: dict[str, Any] = {}
    if path is not None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CognitoSignInError(f"cannot read {path}: {exc}") from None
        if isinstance(document, dict) and "eval_sign_in" in document:  # the whole `terraform output -json`
            document = (
                document["eval_sign_in"].get("value") if isinstance(document["eval_sign_in"], dict) else None
            )
        if document is None:
            raise CognitoSignInError(
                f"{path}: eval_sign_in is null: set eval_client_enabled = true in the stack and apply"
            )
        if not isinstance(document, dict):
            raise CognitoSignInError(f"{path}: want the JSON of `terraform output -json eval_sign_in`")
        found = document
    pool = user_pool_id or found.get("user_pool_id")
    client = client_id or found.get("client_id")
    if not pool or not client:
        raise CognitoSignInError(
            "a deployed stack needs --cognito FILE (terraform output -json eval_sign_in) or both "
            "--cognito-pool-id and --cognito-client-id"
        )
    if "_" not in str(pool):
        raise CognitoSignInError(f"user pool id {pool!r} is not <region>_<id>")
    return CognitoSettings(
        user_pool_id=str(pool),
        client_id=str(client),
        region=str(found.get("region") or str(pool).partition("_")[0]),
        scope=str(scope or found.get("scope") or DEFAULT_SCOPE),
        against=found.get("against"),
    )


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT this tool was just given, unverified: to route and to explain, never to trust."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def require_scope(access_token: str, scope: str) -> None:
    """Refuse, before any turn, a token the front door would answer 401: it lacks the API's scope."""
    if scope not in str(token_claims(access_token).get("scope", "")).split():
        raise CognitoSignInError(
            f"this token has no {scope}: is eval_client_enabled on, and is the client the eval client "
            "(terraform output eval_sign_in)? The web client's SRP tokens never carry it."
        )


# --- SRP-6a as Cognito does it --------------------------------------------------------------------


def _hex(value: int | str) -> str:
    """Hex with an even number of digits and no sign bit set (a leading 00 if the first is 8-f)."""
    text = format(value, "x") if isinstance(value, int) else value
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdefABCDEF" else text


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hash_of_hex(*parts: str) -> int:
    return int(_sha256_hex(bytes.fromhex("".join(parts))), 16)


K = _hash_of_hex(_hex(N), _hex(G))  # SRP-6a's multiplier


def password_exponent(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    """x = H(salt | H(pool name | user id ":" password)): the same on the client and in the verifier."""
    inner = _sha256_hex(f"{pool_name}{user_id}:{password}".encode())
    return _hash_of_hex(_hex(salt_hex), inner)


def scrambler(big_a: int, big_b: int) -> int:
    """u = H(A | B)."""
    return _hash_of_hex(_hex(big_a), _hex(big_b))


def session_key(shared_secret: int, u: int) -> bytes:
    """HKDF-SHA256 of the shared secret S with u as salt, 16 bytes."""
    prk = hmac.new(bytes.fromhex(_hex(u)), bytes.fromhex(_hex(shared_secret)), hashlib.sha256).digest()
    return hmac.new(prk, HKDF_INFO, hashlib.sha256).digest()[:16]


def cognito_timestamp(now: datetime) -> str:
    """`Sat Dec 5 21:04:27 UTC 2026`: English names, the day without a leading zero."""
    return f"{_DAYS[now.weekday()]} {_MONTHS[now.month - 1]} {now.day} {now:%H:%M:%S} UTC {now.year}"


def password_claim(pool_name: str, user_id: str, secret_block: str, timestamp: str, key: bytes) -> str:
    """The signature Cognito checks: HMAC of pool name, user id, the secret block and the time."""
    message = pool_name.encode() + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def srp_sign_in(
    idp: IdentityProvider,
    settings: CognitoSettings,
    username: str,
    password: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """USER_SRP_AUTH on the settings' client: Cognito's AuthenticationResult (tokens), or why not."""
    a = secrets.randbelow(N - 2) + 1
    big_a = pow(G, a, N)
    started = _call(
        idp.initiate_auth,
        username,
        settings,
        AuthFlow="USER_SRP_AUTH",
        ClientId=settings.client_id,
        AuthParameters={"USERNAME": username, "SRP_A": format(big_a, "x")},
    )
    if started.get("ChallengeName") != "PASSWORD_VERIFIER":
        raise CognitoSignInError(
            f"{username}: Cognito asked for {started.get('ChallengeName')}, not a password proof"
        )
    challenge = started["ChallengeParameters"]
    user_id = challenge["USER_ID_FOR_SRP"]
    big_b = int(challenge["SRP_B"], 16)
    u = scrambler(big_a, big_b)
    if big_b % N == 0 or u == 0:
        raise CognitoSignInError(f"{username}: Cognito's SRP values are invalid")
    x = password_exponent(settings.pool_name, user_id, password, challenge["SALT"])
    shared = pow(big_b - K * pow(G, x, N), a + u * x, N)
    timestamp = cognito_timestamp(now or datetime.now(UTC))
    signature = password_claim(
        settings.pool_name, user_id, challenge["SECRET_BLOCK"], timestamp, session_key(shared, u)
    )
    answered = _call(
        idp.respond_to_auth_challenge,
        username,
        settings,
        ClientId=settings.client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses={
            "USERNAME": challenge.get("USERNAME", username),
            "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SECRET_BLOCK": challenge["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": signature,
        },
        **({"Session": started["Session"]} if started.get("Session") else {}),
    )
    if "AuthenticationResult" in answered:
        result: dict[str, Any] = answered["AuthenticationResult"]
        return result
    name = answered.get("ChallengeName")
    if name == "NEW_PASSWORD_REQUIRED":
        raise CognitoSignInError(
            f"{username} must change a temporary password first: aws cognito-idp admin-set-user-password "
            f"--user-pool-id {settings.user_pool_id} --username {username} --password ... --permanent"
        )
    if name in MFA_CHALLENGES:
        raise CognitoSignInError(f"{username} is asked for MFA ({name}): eval signs in users without MFA")
    raise CognitoSignInError(f"{username}: Cognito asked for {name}, which eval does not answer")


def _call(operation: Any, username: str, settings: CognitoSettings, **request: Any) -> dict[str, Any]:
    """One cognito-idp call, its failures told as what to fix (never with the password or a token)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer: dict[str, Any] = operation(**request)
        return answer
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise CognitoSignInError(f"{username}: wrong user name or password ({message})") from None
        if code == "ResourceNotFoundException":
            raise CognitoSignInError(
                f"no app client {settings.client_id} in user pool {settings.user_pool_id} "
                f"({settings.region}): check --cognito / --cognito-client-id ({message})"
            ) from None
        raise CognitoSignInError(f"{username}: Cognito refused the sign-in: {code}: {message}") from None
    except BotoCoreError as exc:
        raise CognitoSignInError(f"cannot reach Cognito in {settings.region}: {exc}") from None


def identity_provider(settings: CognitoSettings) -> IdentityProvider:
    """An unsigned cognito-idp client: a public client's sign-in needs no AWS credentials."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    client: IdentityProvider = boto3.client(
        "cognito-idp", region_name=settings.region, config=Config(signature_version=UNSIGNED)
    )
    return client
