"""The eval scopes trigger, fed Cognito's pre token generation events (version 2, as the developer
guide documents them): the API's scopes for the eval client's sign-ins and refreshes, nothing else."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from agentarch import config
from agentarch.dev.testing import LocalLambdaContext
from agentarch.handlers import eval_scopes

EVAL_CLIENT = "4evalclient0example0000000"
WEB_CLIENT = "7webclient00example000000"
SCOPES = "agentarch-api/chat agentarch-api/admin"


def v2_event(
    client_id: str, trigger_source: str = "TokenGeneration_Authentication", version: str = "2"
) -> dict[str, Any]:
    """A pre token generation event as Cognito sends it (V2_0): no override yet in the response."""
    return {
        "version": version,
        "triggerSource": trigger_source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_EXAMPLE12",
        "userName": "0a1b2c3d-eval-user",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "request": {
            "userAttributes": {"sub": "0a1b2c3d-eval-user", "email": "eval@example.com"},
            "groupConfiguration": {
                "groupsToOverride": ["users", "support"],
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
            "scopes": ["aws.cognito.signin.user.admin"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EVAL_CLIENT_ID", EVAL_CLIENT)
    monkeypatch.setenv("EVAL_CLIENT_SCOPES", SCOPES)
    config._cached.cache_clear()
    yield
    config._cached.cache_clear()


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = eval_scopes.lambda_handler(
        event, LocalLambdaContext(function_name="eval-scopes")
    )  # type: ignore[arg-type]
    return answer


def added(answer: dict[str, Any]) -> list[str]:
    details = answer["response"]["claimsAndScopeOverrideDetails"] or {}
    return list((details.get("accessTokenGeneration") or {}).get("scopesToAdd") or [])


@pytest.mark.parametrize(
    "source",
    [
        "TokenGeneration_Authentication",
        "TokenGeneration_NewPasswordChallenge",
        "TokenGeneration_RefreshTokens",
    ],
)
def test_the_eval_clients_sign_in_and_refresh_tokens_get_the_api_scopes(source: str) -> None:
    answer = invoke(v2_event(EVAL_CLIENT, source))
    assert added(answer) == SCOPES.split()
    # and nothing else of the token changes: no claim, no group, no ID token override
    details = answer["response"]["claimsAndScopeOverrideDetails"]
    assert set(details) == {"accessTokenGeneration"}
    assert set(details["accessTokenGeneration"]) == {"scopesToAdd"}


@pytest.mark.parametrize(
    "event",
    [
        v2_event(WEB_CLIENT),  # the web client signing in
        v2_event(WEB_CLIENT, "TokenGeneration_RefreshTokens"),
        v2_event(EVAL_CLIENT, "TokenGeneration_HostedAuth"),  # not a flow the eval client has
        v2_event(EVAL_CLIENT, "TokenGeneration_AuthenticateDevice"),
        v2_event(EVAL_CLIENT, version="1"),  # a V1 event cannot change access tokens
    ],
    ids=["web-sign-in", "web-refresh", "hosted-ui", "device", "version-1"],
)
def test_every_other_token_goes_back_to_cognito_untouched(event: dict[str, Any]) -> None:
    before = copy.deepcopy(event)
    assert invoke(event) == before


def test_an_override_already_in_the_response_is_kept() -> None:
    event = v2_event(EVAL_CLIENT)
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": {"team": "qa"}},
        "accessTokenGeneration": {"scopesToAdd": ["agentarch-api/chat"], "scopesToSuppress": ["openid"]},
    }
    answer = invoke(event)
    details = answer["response"]["claimsAndScopeOverrideDetails"]
    assert details["idTokenGeneration"] == {"claimsToAddOrOverride": {"team": "qa"}}
    assert details["accessTokenGeneration"]["scopesToSuppress"] == ["openid"]
    assert added(answer) == SCOPES.split()  # each scope once


def test_without_its_settings_the_trigger_changes_nothing_so_the_web_sign_in_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EVAL_CLIENT_ID")
    config._cached.cache_clear()
    event = v2_event(EVAL_CLIENT)
    before = copy.deepcopy(event)
    assert invoke(event) == before
