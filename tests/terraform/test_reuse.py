"""A platform team can reuse the modules: an existing pool, bucket or role, and its own routes.

Every opening is a typed, validated variable whose default keeps the patterns' behaviour; the
`reuse` root configuration uses them all and passes every static check the project runs (the lint
and checkov tests walk every directory under terraform/, this one included).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentarch.config import Env
from agentarch.dev.lint.hcl import plain
from tests.terraform.conftest import OTHER_ROOTS, call_args, example, module_dir

ROLES = {
    "agent_runtime": ("aws_iam_role", "runtime"),
    "lambda_function": ("aws_iam_role", "this"),
}


def variable(module: str, name: str) -> dict[str, Any]:
    return plain(module_dir(module).variables[name].body)  # type: ignore[no-any-return]


def test_the_reuse_configuration_is_one_of_the_checked_roots() -> None:
    assert "reuse" in OTHER_ROOTS
    assert set(example("reuse").module_calls) == {
        "identity",
        "assistant",
        "triage",
        "chat",
        "status",
        "front_door",
    }


# --- identity ------------------------------------------------------------------------------------


def test_identity_can_adopt_an_existing_pool_client_and_resource_server() -> None:
    identity = module_dir("identity")
    for key, flag in (
        (("aws_cognito_user_pool", "this"), "local.create_pool"),
        (("aws_cognito_user_pool_client", "web"), "local.create_client"),
        (("aws_cognito_resource_server", "api"), "var.create_resource_server"),
        (("aws_cognito_user_pool_domain", "this"), "local.create_domain"),
    ):
        assert plain(identity.resources[key].body)["count"] == f"${{{flag} ? 1 : 0}}", key
    assert variable("identity", "existing_user_pool")["default"] is None
    assert variable("identity", "existing_client_id")["default"] is None
    assert variable("identity", "create_resource_server")["default"] is True
    args = call_args(example("reuse"), "identity")
    assert args["existing_user_pool"] == "${var.user_pool}"


def test_identity_offers_more_than_one_scope() -> None:
    assert variable("identity", "additional_scopes")["default"] == {}
    server = plain(module_dir("identity").resources[("aws_cognito_resource_server", "api")].body)
    assert "scope" in next(iter(server["dynamic"][0]))
    scopes = plain(module_dir("identity").locals["api_scopes"][0])
    assert scopes.startswith("${concat([local.api_scope]")
    routes = call_args(example("reuse"), "front_door")["routes"]
    assert routes["triage"]["authorization_scopes"] == ["${module.identity.api_scopes[1]}"]


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", sorted(ROLES))
def test_every_created_role_takes_a_permissions_boundary_and_can_be_brought(module: str) -> None:
    role = plain(module_dir(module).resources[ROLES[module]].body)
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    assert role["count"] == "${local.create_role ? 1 : 0}"
    assert variable(module, "permissions_boundary_arn")["default"] is None
    assert variable(module, "role_arn")["default"] is None
    assert variable(module, "role_arn")["validation"]


def test_the_account_logging_role_takes_a_boundary_too() -> None:
    role = plain(example("account-logging").resources[("aws_iam_role", "apigw_cloudwatch")].body)
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"


def test_reuse_puts_the_boundary_on_every_role_it_creates() -> None:
    for call in ("assistant", "triage", "chat", "status"):
        assert (
            call_args(example("reuse"), call)["permissions_boundary_arn"] == "${var.permissions_boundary_arn}"
        ), call


@pytest.mark.parametrize("module", ["lambda_function", "agent_runtime"])
def test_policy_statements_keep_their_conditions_and_effect(module: str) -> None:
    type_ = " ".join(variable(module, "policy_statements")["type"].split())
    assert 'effect = optional(string, "Allow")' in type_
    assert (
        "conditions = optional(list(object({test = string, variable = string, values = list(string)})), [])"
        in type_
    )
    document = plain(
        module_dir(module)
        .data[("aws_iam_policy_document", "this" if module == "lambda_function" else "runtime")]
        .body
    )
    extra = [
        next(iter(d.values()))["content"][0]
        for d in document["dynamic"]
        if "statement" in d and next(iter(d.values()))["for_each"] == "${var.policy_statements}"
    ]
    (statement,) = extra
    assert statement["effect"] == "${statement.value.effect}"
    assert next(iter(statement["dynamic"][0].values()))["for_each"] == "${statement.value.conditions}"
    conditions = call_args(example("reuse"), "assistant")["policy_statements"][0]["conditions"]
    assert conditions[0]["variable"] == "aws:RequestedRegion"


def test_a_brought_runtime_role_gets_the_policy_as_an_output() -> None:
    assert "policy_json" in module_dir("agent_runtime").outputs
    policy = plain(module_dir("agent_runtime").resources[("aws_iam_role_policy", "runtime")].body)
    assert policy["count"] == "${local.create_role ? 1 : 0}"


# --- front door ----------------------------------------------------------------------------------


def test_front_door_can_use_a_central_web_acl() -> None:
    fd = module_dir("front_door")
    for key in (
        ("aws_wafv2_web_acl", "this"),
        ("aws_cloudwatch_log_group", "waf"),
        ("aws_wafv2_web_acl_logging_configuration", "this"),
    ):
        assert plain(fd.resources[key].body)["count"] == "${local.create_web_acl ? 1 : 0}", key
    association = plain(fd.resources[("aws_wafv2_web_acl_association", "this")].body)
    assert association["web_acl_arn"] == "${local.web_acl_arn}"
    assert call_args(example("reuse"), "front_door")["web_acl_arn"] == "${var.web_acl_arn}"


def test_every_allowed_origin_gets_cors() -> None:
    echo = plain(module_dir("front_door").locals["cors_echo"][0])
    assert "jsonencode(var.allowed_origins)" in echo and "$allowed.contains($origin)" in echo
    assert "Access-Control-Allow-Origin = $origin" in echo
    options = plain(
        module_dir("front_door").resources[("aws_api_gateway_integration_response", "options")].body
    )
    assert "local.cors_echo" in options["response_templates"]
    gateway = plain(module_dir("front_door").resources[("aws_api_gateway_gateway_response", "this")].body)
    assert (
        "method.request.header.Origin"
        in gateway["response_parameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
    )
    assert call_args(example("reuse"), "front_door")["allowed_origins"] == "${var.web_origins}"


def test_routes_choose_their_authorization() -> None:
    (validation,) = [v for v in variable("front_door", "routes")["validation"] if "AWS_IAM" in v["condition"]]
    assert '["COGNITO_USER_POOLS", "AWS_IAM", "NONE"]' in validation["condition"]
    routes = call_args(example("reuse"), "front_door")["routes"]
    assert routes["status"]["authorization"] == "NONE"
    assert "authorization" not in routes["chat"]


# --- the Lambda module for any function ----------------------------------------------------------


def test_lambda_module_accepts_other_runtimes_and_leaves_out_botocore_data() -> None:
    (validation,) = variable("lambda_function", "runtime")["validation"]
    for runtime in ("python3.13", "nodejs22.x", "java21", "provided.al2023"):
        assert f'"{runtime}"' in validation["condition"], runtime
    assert variable("lambda_function", "botocore_data_path")["default"] is True
    environment = plain(module_dir("lambda_function").locals["environment"][0])
    assert environment.startswith("${merge(var.botocore_data_path ? {AWS_DATA_PATH")
    status = call_args(example("reuse"), "status")
    assert (status["runtime"], status["botocore_data_path"]) == ("nodejs22.x", False)
    assert "powertools_layer_version" not in status


def test_reuse_sets_only_environment_names_the_code_reads() -> None:
    env = call_args(example("reuse"), "chat")["environment"]
    names = {e.value for e in Env}
    assert {k for k in env if not k.startswith("POWERTOOLS_")} <= names


def test_two_runtimes_share_a_bucket_without_sharing_an_object() -> None:
    triage = call_args(example("reuse"), "triage")
    assert triage["artifact_bucket_name"] == "${module.assistant.artifact_bucket}"
    key = plain(module_dir("agent_runtime").locals["artifact_key"][0])
    assert re.search(r"\$\{var\.name\}", key)
    assert call_args(example("reuse"), "assistant")["name"] != triage["name"]
