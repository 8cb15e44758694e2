"""Eval scopes trigger: the API's scopes in the access tokens of the dedicated evaluation client.

`agentarch eval --against` signs in to a deployed stack with USER_SRP_AUTH on a separate app client
(Terraform's `eval_client_enabled`). Access tokens from InitiateAuth/RespondToAuthChallenge never
carry custom scopes, and the front door's methods require `<resource server>/chat`; Cognito's pre
token generation trigger (event version 2, which needs the Essentials or Plus feature plan) may add
scopes to an access token (`claimsAndScopeOverrideDetails.accessTokenGeneration.scopesToAdd`).

The trigger runs for every token the pool issues, so it changes nothing but the one case it exists
for: an access token issued to `EVAL_CLIENT_ID` (the event's `callerContext.clientId`) by a sign-in,
a new-password answer or a refresh. Every other event — the web client's code flow, another client,
another trigger source, a version 1 event — goes back to Cognito untouched, and so does every event
when the function's settings are missing: a broken trigger must not stop the web app's sign-in.
Nothing the user typed decides anything here; the client id is Cognito's.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from agentarch.config import EvalScopesSettings, SettingsError, cached
from agentarch.handlers.observability import logger

# Where a user signs in or refreshes through the API (the SRP flow eval uses); the hosted UI's
# TokenGeneration_HostedAuth is the web client's code flow and never concerns the eval client.
SCOPED_TRIGGER_SOURCES = frozenset(
    {
        "TokenGeneration_Authentication",
        "TokenGeneration_NewPasswordChallenge",
        "TokenGeneration_RefreshTokens",
    }
)
# Versions whose response may change access tokens (3 adds machine-to-machine grants to 2).
ACCESS_TOKEN_EVENT_VERSIONS = frozenset({"2", "3"})


def scopes_to_add(event: dict[str, Any], settings: EvalScopesSettings) -> tuple[str, ...]:
    """The scopes this event's access token gets: the API's for the eval client, none otherwise."""
    caller = event.get("callerContext")
    if not isinstance(caller, dict) or caller.get("clientId") != settings.eval_client_id:
        return ()
    if str(event.get("version")) not in ACCESS_TOKEN_EVENT_VERSIONS:
        return ()
    if event.get("triggerSource") not in SCOPED_TRIGGER_SOURCES:
        return ()
    return settings.scopes


def add_scopes(event: dict[str, Any], scopes: tuple[str, ...]) -> dict[str, Any]:
    """The event with `scopes` added to the access token, keeping any override already there."""
    response = event.get("response")
    if not isinstance(response, dict):
        response = event["response"] = {}
    details = response.get("claimsAndScopeOverrideDetails")
    if not isinstance(details, dict):
        details = response["claimsAndScopeOverrideDetails"] = {}
    access = details.get("accessTokenGeneration")
    if not isinstance(access, dict):
        access = details["accessTokenGeneration"] = {}
    already = [s for s in access.get("scopesToAdd") or [] if isinstance(s, str)]
    access["scopesToAdd"] = already + [s for s in scopes if s not in already]
    return event


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point: Cognito's pre token generation trigger (V2_0)."""
    try:
        settings = cached(EvalScopesSettings)
    except SettingsError as exc:
        logger.error("eval scopes trigger misconfigured; tokens left unchanged", extra={"problem": str(exc)})
        return event
    scopes = scopes_to_add(event, settings)
    if not scopes:
        return event
    logger.info(
        "API scopes added to an eval client token", extra={"trigger_source": event.get("triggerSource")}
    )
    return add_scopes(event, scopes)
