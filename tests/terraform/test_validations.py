"""Variable validations that refuse, at plan, what the apply would refuse later (or get wrong):
evaluated here the way Terraform would, on the values that matter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentarch.dev.lint.hcl import plain
from tests.terraform.conftest import ROOT, call_args, example, module_dir

# Keys Lambda reserves and sets itself ("Defined runtime environment variables", Lambda developer guide).
LAMBDA_RESERVED = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
}  # fmt: skip


def validations(module: str, variable: str) -> list[str]:
    body = plain(module_dir(module).variables[variable].body)
    return [v["condition"] for v in body.get("validation", [])]


def regexes(condition: str) -> list[re.Pattern[str]]:
    """Every `regex("...", ...)` of a condition, as Python compiles it (RE2 subset)."""
    found = re.findall(r'regex\("((?:[^"\\]|\\.)*)"', condition)
    return [re.compile(p.replace("\\\\", "\\")) for p in found]


def handler_accepted(handler: str, runtime: str) -> bool:
    """The two handler validations evaluated for (handler, runtime)."""
    shape, python = validations("lambda_function", "handler")
    assert "\\\\S{1,128}" in shape and 'startswith(var.runtime, "python")' in python
    (any_runtime,) = regexes(shape)
    (python_shape,) = regexes(python)
    ok = bool(any_runtime.fullmatch(handler))
    return ok and (not runtime.startswith("python") or bool(python_shape.fullmatch(handler)))


@pytest.mark.parametrize(
    ("handler", "runtime"),
    [
        ("agentarch.handlers.chat.lambda_handler", "python3.13"),
        ("index.handler", "nodejs22.x"),
        ("com.example.Handler::handleRequest", "java21"),
        ("MyAssembly::MyNamespace.Function::Handler", "dotnet8"),
        ("bootstrap", "provided.al2023"),
        ("function.handler", "ruby3.4"),
    ],
)
def test_every_runtimes_handler_form_is_accepted(handler: str, runtime: str) -> None:
    assert handler_accepted(handler, runtime)


@pytest.mark.parametrize(
    ("handler", "runtime"),
    [("bootstrap", "python3.13"), ("has space.handler", "nodejs22.x"), ("a" * 129, "provided.al2023")],
)
def test_a_handler_the_runtime_cannot_load_is_refused(handler: str, runtime: str) -> None:
    assert not handler_accepted(handler, runtime)


def test_every_reserved_lambda_environment_key_is_refused() -> None:
    names, reserved = validations("lambda_function", "environment")
    listed = set(re.findall(r'"([A-Z_][A-Z0-9_]*)"', reserved))
    assert listed == LAMBDA_RESERVED
    (name_shape,) = regexes(names)
    assert name_shape.fullmatch("POWERTOOLS_SERVICE_NAME") and not name_shape.fullmatch("1BAD")


def test_no_example_sets_a_reserved_key_on_a_lambda() -> None:
    for name in ("2-secure", "3-full", "reuse"):
        config = example(name)
        for call, block in config.module_calls.items():
            if plain(block.body)["source"].endswith("lambda_function"):
                env: dict[str, Any] = call_args(config, call).get("environment", {})
                assert not set(env) & LAMBDA_RESERVED, (name, call)


def policy_dir_accepted(value: str) -> bool:
    (condition,) = validations("agent_runtime", "policy_dir")
    (shape,) = regexes(condition)
    assert '!startswith(var.policy_dir, "/")' in condition
    assert '!contains(split("/", var.policy_dir), "..")' in condition
    return bool(shape.fullmatch(value)) and not value.startswith("/") and ".." not in value.split("/")


@pytest.mark.parametrize("value", ["policies", "custom/policies", "./policies", "policies..v2"])
def test_policy_dir_accepts_a_folder_inside_the_zip(value: str) -> None:
    assert policy_dir_accepted(value)


@pytest.mark.parametrize("value", ["../policies", "policies/../../etc", "/etc", ".."])
def test_policy_dir_refuses_a_path_out_of_the_zip(value: str) -> None:
    assert not policy_dir_accepted(value)


# --- the Lambda invoke permissions are no wider than the routes each function serves ----------------


def front_door_routes(name: str) -> dict[str, set[str]]:
    """For each Lambda module call, the METHOD/path (parameters as *) of the routes that reach it."""
    routes = call_args(example(name), "front_door")["routes"]
    served: dict[str, set[str]] = {}
    for route in routes.values():
        call = re.fullmatch(r"\$\{module\.(\w+)\.invoke_arn\}", route.get("lambda_invoke_arn", ""))
        if call:
            path = re.sub(r"\{[^}]+\}", "*", route["path"])
            served.setdefault(call.group(1), set()).add(f"{route['method']}{path}")
    return served


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_each_function_may_be_invoked_by_exactly_its_routes(name: str) -> None:
    config = example(name)
    for call, served in front_door_routes(name).items():
        args = call_args(config, call)
        assert "api_gateway_source_arn" not in args, f"{call}: one wildcard permission"
        assert args["api_gateway_execution_arn"] == "${module.front_door.execution_arn}"
        assert set(args["api_gateway_routes"].values()) == served, call


def test_the_route_permission_is_scoped_to_the_method_and_path() -> None:
    permission = plain(module_dir("lambda_function").resources[("aws_lambda_permission", "api_route")].body)
    assert permission["for_each"] == "${var.api_gateway_routes}"
    assert permission["source_arn"] == "${var.api_gateway_execution_arn}/*/${each.value}"
    (condition,) = validations("lambda_function", "api_gateway_routes")
    (shape,) = regexes(condition)
    assert shape.fullmatch("POST/api/chat") and shape.fullmatch("GET/api/conversations/*")
    assert not shape.fullmatch("*/api/*") and not shape.fullmatch("POST")


def test_readme_mentions_the_role_prefix() -> None:
    text = (ROOT / "terraform/modules/lambda_function/README.md").read_text(encoding="utf-8")
    assert "<name>-role" not in text
