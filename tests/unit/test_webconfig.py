"""`agentarch web-config`: the page's settings from `terraform output -json`, or a clear error."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from agentarch.dev.cli.web_config import WebConfigError, web_config_from_terraform_output, write_web_config

COGNITO = {
    "domain": "agentarch-p2-123456789012.auth.us-east-1.amazoncognito.com",
    "client_id": "4abc",
    "region": "us-east-1",
    "redirect_uri": "http://localhost:8000/",
    "logout_uri": "http://localhost:8000/",
    "scope": "openid email profile agentarch-api/chat",
}


def terraform_output(value: dict[str, Any]) -> dict[str, Any]:
    """What `terraform output -json` prints: every output wrapped with its type and sensitivity."""
    return {
        "web_config": {"sensitive": False, "type": ["object", {}], "value": value},
        "user_pool_id": {"sensitive": False, "type": "string", "value": "us-east-1_abc"},
    }


def test_secure_pattern_config_has_the_api_url_and_the_cognito_settings() -> None:
    outputs = terraform_output(
        {
            "pattern": 2,
            "api_url": "https://x.execute-api.us-east-1.amazonaws.com/prod/api/",
            "runtime_url": None,
            "runtime_arn": None,
            "cognito": COGNITO,
        }
    )
    config = web_config_from_terraform_output(outputs)
    assert config == {
        "pattern": 2,
        "insecure": False,
        "api_url": "https://x.execute-api.us-east-1.amazonaws.com/prod/api",
        "cognito": COGNITO,
    }


def test_direct_pattern_config_carries_the_runtime_endpoint_and_arn_instead() -> None:
    url = "https://bedrock-agentcore.us-east-1.amazonaws.com"
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agentarch_p0-AbCdEfGhIj"
    config = web_config_from_terraform_output(
        terraform_output(
            {"pattern": 0, "api_url": None, "runtime_url": url, "runtime_arn": arn, "cognito": COGNITO}
        )
    )
    assert config["pattern"] == 0
    assert config["insecure"] is True
    assert (config["runtime_url"], config["runtime_arn"]) == (url, arn)
    assert config["api_url"] is None


def test_pattern_0_without_the_runtime_arn_is_refused() -> None:
    value = {
        "pattern": 0,
        "api_url": None,
        "runtime_url": "https://e",
        "runtime_arn": None,
        "cognito": COGNITO,
    }
    with pytest.raises(WebConfigError, match=r"web_config\.runtime_arn is missing or empty"):
        web_config_from_terraform_output(terraform_output(value))


def test_missing_web_config_output_names_what_is_there() -> None:
    with pytest.raises(WebConfigError, match=r"no 'web_config' \(outputs present: user_pool_id\)"):
        web_config_from_terraform_output({"user_pool_id": {"type": "string", "value": "x"}})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_url": None}, "web_config.api_url is missing or empty"),
        ({"pattern": 7}, "pattern must be 0, 1, 2 or 3"),
        ({"cognito": {**COGNITO, "client_id": ""}}, "web_config.cognito.client_id is missing or empty"),
        ({"cognito": None}, "web_config.cognito is missing"),
    ],
)
def test_incomplete_output_is_refused_with_the_missing_key(change: dict[str, Any], message: str) -> None:
    value = {"pattern": 1, "api_url": "https://a/prod", "runtime_url": None, "cognito": COGNITO, **change}
    with pytest.raises(WebConfigError, match=message):
        web_config_from_terraform_output(terraform_output(value))


def test_unwrapped_values_are_accepted_too() -> None:
    value = {"pattern": 3, "api_url": "https://a/prod", "runtime_url": None, "cognito": COGNITO}
    assert web_config_from_terraform_output({"web_config": value})["pattern"] == 3


def test_write_from_a_file_creates_the_config_file(tmp_path: Path) -> None:
    source = tmp_path / "outputs.json"
    value = {"pattern": 3, "api_url": "https://a/prod", "runtime_url": None, "cognito": COGNITO}
    source.write_text(json.dumps(terraform_output(value)), encoding="utf-8")
    target = tmp_path / "web" / "config.json"
    write_web_config(source, target)
    assert json.loads(target.read_text(encoding="utf-8")) == {
        "pattern": 3,
        "insecure": False,
        "api_url": "https://a/prod",
        "cognito": COGNITO,
    }


def test_write_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"pattern": 1, "api_url": "https://a/prod", "runtime_url": None, "cognito": COGNITO}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(terraform_output(value))))
    config = write_web_config("-", tmp_path / "config.json")
    assert config["pattern"] == 1


def test_not_json_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(WebConfigError, match=r"is not JSON .*terraform output -json"):
        write_web_config(io.StringIO("Error: No outputs found"), tmp_path / "config.json")
    with pytest.raises(WebConfigError, match="cannot read"):
        write_web_config(tmp_path / "absent.json", tmp_path / "config.json")
    assert not (tmp_path / "config.json").exists()
