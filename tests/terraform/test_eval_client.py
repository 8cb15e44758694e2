"""The evaluation client (`eval_client_enabled`): a separate SRP-only app client, the pre token
generation trigger that gives its access tokens the API scopes, wired without a dependency cycle."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from agentarch.config import Env, EvalScopesSettings
from agentarch.dev.lint.hcl import TfModule, load_module, plain
from agentarch.dev.packaging.registry import FUNCTIONS
from tests.terraform.conftest import EXAMPLES, call_args, example, module_dir

WIRED = ("2-secure", "3-full")
_REFERENCE = re.compile(r"\b(module|local|var|aws_[a-z0-9_]+)\.([A-Za-z0-9_]+)")


def identity_resource(rtype: str, name: str) -> dict[str, Any]:
    body: dict[str, Any] = plain(module_dir("identity").resources[(rtype, name)].body)
    return body


def test_the_eval_client_is_off_by_default_and_allows_only_srp_and_refresh() -> None:
    identity = module_dir("identity")
    assert plain(identity.variables["eval_client_enabled"].body)["default"] is False
    client = identity_resource("aws_cognito_user_pool_client", "eval")
    assert client["count"] == "${var.eval_client_enabled ? 1 : 0}"
    assert sorted(client["explicit_auth_flows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    # a public client with no OAuth flow: it cannot ask the hosted UI for anything
    assert client["generate_secret"] is False
    assert client["allowed_oauth_flows_user_pool_client"] is False
    assert "allowed_oauth_flows" not in client and "allowed_oauth_scopes" not in client
    assert "callback_urls" not in client
    # short-lived tokens, and a user that does not exist looks like a wrong password
    assert (
        client["access_token_validity"] == client["id_token_validity"] == "${var.eval_token_validity_minutes}"
    )
    assert plain(identity.variables["eval_token_validity_minutes"].body)["default"] <= 60
    assert client["prevent_user_existence_errors"] == "ENABLED"
    # and the web client keeps the code flow with PKCE only
    web = identity_resource("aws_cognito_user_pool_client", "web")
    assert web["allowed_oauth_flows"] == ["code"]


def test_the_pool_sends_v2_events_to_the_named_trigger_and_moves_to_essentials() -> None:
    identity = module_dir("identity")
    pool = identity_resource("aws_cognito_user_pool", "this")
    assert pool["user_pool_tier"] == "${local.user_pool_tier}"
    tier = plain(identity.locals["user_pool_tier"][0])
    assert '"ESSENTIALS"' in tier and "var.eval_client_enabled" in tier
    (lambda_config,) = [d["lambda_config"] for d in pool["dynamic"] if "lambda_config" in d]
    assert lambda_config["for_each"] == "${var.eval_client_enabled ? [local.pre_token_generation_arn] : []}"
    (content,) = lambda_config["content"]
    (generation,) = content["pre_token_generation_config"]
    assert generation["lambda_version"] == "V2_0"
    # Cognito wants the legacy argument equal to the config's ARN when both are set
    assert generation["lambda_arn"] == content["pre_token_generation"] == "${lambda_config.value}"
    # the ARN is built from a name: nothing in the module refers to a Lambda function resource
    arn = plain(identity.locals["pre_token_generation_arn"][0])
    assert ":lambda:" in arn and ":function:${var.pre_token_generation_function_name}" in arn
    text = "\n".join(p.read_text(encoding="utf-8") for p in identity.files)
    assert "aws_lambda_function." not in text


@pytest.mark.parametrize("name", WIRED)
def test_the_example_wires_the_trigger_it_names_behind_a_variable_off_by_default(name: str) -> None:
    config = example(name)
    assert plain(config.variables["eval_client_enabled"].body)["default"] is False
    identity = call_args(config, "identity")
    sign_in = call_args(config, "eval_sign_in")
    assert sign_in["source"] == "../../modules/eval_sign_in"
    assert identity["eval_client_enabled"] == "${var.eval_client_enabled}"
    assert sign_in["count"] == "${var.eval_client_enabled ? 1 : 0}"
    # the pool names the very function the module creates
    function_name = plain(config.locals["eval_scopes_function_name"][0])
    assert sign_in["function_name"] == function_name
    assert identity["pre_token_generation_function_name"] == (
        "${var.eval_client_enabled ? local.eval_scopes_function_name : null}"
    )
    # the zip the build writes for the registry's eval_scopes handler
    assert sign_in["artifact_path"].endswith(f"/{FUNCTIONS['eval_scopes'].artifact}")
    # the eval client's id, the API's scopes and the pool, all from the identity module
    assert sign_in["eval_client_id"] == "${module.identity.eval_client_id}"
    assert sign_in["api_scopes"] == "${module.identity.api_scopes}"
    assert sign_in["user_pool_arn"] == "${module.identity.user_pool_arn}"
    # the sign-in settings eval reads come out as one output
    output = plain(config.outputs["eval_sign_in"].body)["value"]
    for key in ("against", "user_pool_id", "client_id", "region", "scope"):
        assert key in output


def test_the_eval_sign_in_module_runs_the_registry_handler_and_lets_only_its_pool_invoke_it() -> None:
    module = module_dir("eval_sign_in")
    trigger = plain(module.module_calls["function"].body)
    assert trigger["source"] == "../lambda_function"
    assert trigger["name"] == "${var.function_name}"
    # the function is the registry's eval_scopes handler, in the zip the build writes
    spec = FUNCTIONS["eval_scopes"]
    assert trigger["handler"] == spec.handler
    assert trigger["artifact_path"] == "${var.artifact_path}"
    assert trigger["timeout_seconds"] <= 5  # Cognito waits 5 s for a trigger
    # it gets exactly what its settings read: the eval client's id and the API's scopes
    environment = trigger["environment"]
    aliases = {str(f.validation_alias) for f in EvalScopesSettings.model_fields.values()}
    assert {k for k in environment if not k.startswith("POWERTOOLS_")} == aliases
    assert aliases <= {e.value for e in Env}
    assert environment["EVAL_CLIENT_ID"] == "${var.eval_client_id}"
    assert environment["EVAL_CLIENT_SCOPES"] == '${join(" ", var.api_scopes)}'
    # and only Cognito, from this pool, may invoke it
    permission = plain(module.resources[("aws_lambda_permission", "cognito")].body)
    assert permission["principal"] == "cognito-idp.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["source_arn"] == "${var.user_pool_arn}"
    assert permission["function_name"] == "${module.function.function_name}"


def references(config: TfModule) -> dict[str, set[str]]:
    """Which module call, resource or local each one of a root refers to (module-call granularity)."""
    nodes: dict[str, str] = {}
    for call, block in config.module_calls.items():
        nodes[f"module.{call}"] = json.dumps(plain(block.body))
    for (rtype, rname), block in config.resources.items():
        nodes[f"{rtype}.{rname}"] = json.dumps(plain(block.body))
    for local, (value, _) in config.locals.items():
        nodes[f"local.{local}"] = json.dumps(plain(value))
    return {
        node: {f"{kind}.{name}" for kind, name in _REFERENCE.findall(text)} & set(nodes) - {node}
        for node, text in nodes.items()
    }


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Everything `start` depends on, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


@pytest.mark.parametrize("name", WIRED)
def test_pool_trigger_and_client_form_no_dependency_cycle(name: str) -> None:
    # The trigger depends on the identity module (the eval client's id, the pool's ARN); the identity
    # module (pool, client) must then depend on nothing of the trigger's, or Terraform finds a cycle.
    graph = references(example(name))
    assert "module.identity" in reachable(graph, "module.eval_sign_in")
    assert "module.eval_sign_in" not in reachable(graph, "module.identity")


def test_the_cycle_check_sees_the_cycle_a_referenced_trigger_would_make(tmp_path: Path) -> None:
    # Given 3-full with the pool pointed at the function's ARN instead of its name
    copy = tmp_path / "3-full"
    shutil.copytree(EXAMPLES / "3-full", copy, ignore=shutil.ignore_patterns(".terraform*"))
    main = copy / "main.tf"
    text = main.read_text(encoding="utf-8")
    wired = "var.eval_client_enabled ? local.eval_scopes_function_name : null"
    assert wired in text
    main.write_text(text.replace(wired, "module.eval_sign_in[0].function_name"), encoding="utf-8")
    # Then the check sees identity depend on the trigger that depends on it
    graph = references(load_module(copy))
    assert "module.eval_sign_in" in reachable(graph, "module.identity")
    assert "module.identity" in reachable(graph, "module.eval_sign_in")
