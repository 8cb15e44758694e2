"""Only the chat Lambda's role may invoke the runtime of patterns 2 and 3: an explicit Deny for every
other principal in a resource policy on the runtime (an Allow alone grants nothing new in one account)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentarch.dev.lint.hcl import plain
from tests.terraform.conftest import ROOT, call_args, example, module_dir

INVOKE = "bedrock-agentcore:InvokeAgentRuntime"
CHAT_ROLE = "arn:aws:iam::123456789012:role/agentarch-p3-chat-role"


def statements() -> dict[str, dict[str, Any]]:
    document = plain(module_dir("agent_runtime").data[("aws_iam_policy_document", "invokers")].body)
    return {s["sid"]: s for s in document["statement"]}


def denied(principal_arn: str, invokers: list[str]) -> bool:
    """Whether the policy's Deny applies to `principal_arn` calling InvokeAgentRuntime, evaluated the
    way IAM does for ArnNotEquals on aws:PrincipalArn (no wildcards in the values here)."""
    deny = statements()["DenyEveryOtherPrincipal"]
    assert deny["effect"] == "Deny" and INVOKE in plain(
        module_dir("agent_runtime").locals["invoke_actions"][0]
    )
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    (condition,) = deny["condition"]
    assert condition["test"] == "ArnNotEquals" and condition["variable"] == "aws:PrincipalArn"
    assert condition["values"] == "${var.invoker_role_arns}"
    return principal_arn not in invokers


def test_the_deny_refuses_every_principal_but_the_invokers() -> None:
    assert not denied(CHAT_ROLE, [CHAT_ROLE])
    assert denied("arn:aws:iam::123456789012:role/admin-with-bedrock-agentcore-star", [CHAT_ROLE])
    assert denied("arn:aws:iam::123456789012:user/developer", [CHAT_ROLE])


def test_the_policy_sits_on_the_runtime_and_exists_exactly_when_asked() -> None:
    runtime = module_dir("agent_runtime")
    policy = plain(runtime.resources[("aws_bedrockagentcore_resource_policy", "runtime")].body)
    assert policy["resource_arn"] == "${aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn}"
    assert policy["policy"] == "${data.aws_iam_policy_document.invokers[0].json}"
    assert policy["count"] == "${var.restrict_invokers ? 1 : 0}"  # a bool: known at plan
    for statement in statements().values():
        assert statement["resources"] == ["${aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn}"]
    assert plain(runtime.variables["restrict_invokers"].body)["default"] is False


def test_the_resource_type_is_in_the_projects_provider_schema_subset() -> None:
    subset = json.loads((ROOT / "terraform/schema/aws-provider.subset.json").read_text(encoding="utf-8"))
    node = subset["resources"]["aws_bedrockagentcore_resource_policy"]
    assert {name for name, spec in node["args"].items() if spec["required"]} == {"resource_arn", "policy"}


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_the_secure_patterns_let_only_the_chat_role_invoke(name: str) -> None:
    config = example(name)
    runtime = call_args(config, "runtime")
    assert runtime["restrict_invokers"] is True
    assert runtime["invoker_role_arns"] == ["${module.chat.role_arn}"]
    # the role named is the one whose policy grants InvokeAgentRuntime on this runtime
    grants = [s for s in call_args(config, "chat")["policy_statements"] if INVOKE in s["actions"]]
    assert grants and all("${module.runtime.runtime_arn}" in s["resources"] for s in grants)


def test_the_passthrough_pattern_does_not_restrict_by_role() -> None:
    assert "restrict_invokers" not in call_args(example("1-passthrough"), "runtime")
