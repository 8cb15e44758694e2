"""The deployer's IAM table (terraform/examples/README.md) covers every resource type the examples
declare, with the actions creating, reading and deleting each one needs: an example that gains a type
the table does not name, or a row that loses an action, fails here."""

from __future__ import annotations

import fnmatch
import re

import pytest

from tests.terraform.addresses import ROOTS, declared_types
from tests.terraform.conftest import EXAMPLES

# What `terraform apply` and `destroy` call for each type (service:Action), from the AWS provider's
# CRUD of that resource; the table may list more. Data sources that call no AWS API are in NO_CALL.
NEEDS = {
    "aws_iam_role": ["iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:PassRole", "iam:CreateServiceLinkedRole"],
    "aws_iam_role_policy": ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    "aws_iam_role_policy_attachment": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
    "aws_cognito_*": ["cognito-idp:*"],
    "aws_bedrockagentcore_agent_runtime": ["bedrock-agentcore:CreateAgentRuntime", "bedrock-agentcore:DeleteAgentRuntime"],
    "aws_bedrockagentcore_memory*": ["bedrock-agentcore:CreateMemory", "bedrock-agentcore:DeleteMemory"],
    "aws_bedrockagentcore_evaluator": ["bedrock-agentcore:CreateEvaluator", "bedrock-agentcore:DeleteEvaluator"],
    "aws_bedrockagentcore_online_evaluation_config": [
        "bedrock-agentcore:CreateOnlineEvaluationConfig",
        "bedrock-agentcore:DeleteOnlineEvaluationConfig",
    ],
    "aws_bedrockagentcore_resource_policy": ["bedrock-agentcore:PutResourcePolicy", "bedrock-agentcore:DeleteResourcePolicy"],
    "aws_s3_*": ["s3:CreateBucket", "s3:DeleteBucket", "s3:PutObject"],
    "aws_lambda_function": ["lambda:CreateFunction", "lambda:DeleteFunction", "lambda:PutFunctionConcurrency"],
    "aws_lambda_permission": ["lambda:AddPermission", "lambda:RemovePermission"],
    "aws_lambda_event_source_mapping": ["lambda:CreateEventSourceMapping", "lambda:DeleteEventSourceMapping"],
    "aws_s3_bucket_object_lock_configuration": ["s3:PutBucketObjectLockConfiguration"],
    "aws_api_gateway_*": ["apigateway:POST", "apigateway:DELETE", "apigateway:PATCH"],
    "aws_wafv2_*": ["wafv2:CreateWebACL", "wafv2:AssociateWebACL", "wafv2:PutLoggingConfiguration"],
    "aws_cloudwatch_log_group": ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy"],
    "aws_cloudwatch_metric_alarm": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
    "aws_cloudwatch_event_rule": ["events:PutRule", "events:DeleteRule"],
    "aws_cloudwatch_event_target": ["events:PutTargets", "events:RemoveTargets"],
    "aws_dynamodb_table": ["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTimeToLive"],
    "aws_sns_topic": ["sns:CreateTopic", "sns:DeleteTopic"],
    "aws_sns_topic_policy": ["sns:SetTopicAttributes"],
    "aws_sns_topic_subscription": ["sns:Subscribe", "sns:Unsubscribe"],
    "aws_budgets_budget": ["budgets:ModifyBudget", "budgets:ViewBudget"],
    "aws_kms_key": ["kms:CreateKey", "kms:ScheduleKeyDeletion"],
    "data.aws_caller_identity": ["sts:GetCallerIdentity"],
    "data.aws_servicequotas_service_quota": ["servicequotas:GetServiceQuota"],
}  # fmt: skip
NO_CALL = {"data.aws_iam_policy_document", "data.aws_region", "data.aws_partition"}


def table() -> list[tuple[list[str], str]]:
    """(type patterns, actions text) of each row of the deployer table."""
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## IAM the deployer needs") :]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows.append((re.findall(r"`([\w.*]+)`", cells[1]), cells[2]))
    return rows


def row_for(rtype: str) -> str:
    """The actions of the one row whose types cover `rtype`."""
    matches = [actions for patterns, actions in table() if any(fnmatch.fnmatch(rtype, p) for p in patterns)]
    assert len(matches) == 1, f"{rtype} is covered by {len(matches)} rows of the deployer table"
    return matches[0]


def lists(actions: str, action: str) -> bool:
    """Whether the row grants `service:Action`, written in full or as `Action` after its service's prefix."""
    service, name = action.split(":", 1)
    return f"`{action}`" in actions or (f"`{service}:" in actions and f"`{name}`" in actions)


def declared(name: str) -> set[str]:
    types = declared_types(EXAMPLES / name)
    return types["resource"] | {f"data.{t}" for t in types["data"]}


@pytest.mark.parametrize("name", ROOTS)
def test_the_table_covers_every_type_the_example_declares(name: str) -> None:
    for rtype in sorted(declared(name) - NO_CALL):
        assert row_for(rtype), rtype


@pytest.mark.parametrize("name", ROOTS)
def test_each_row_lists_the_actions_its_types_need(name: str) -> None:
    for rtype in sorted(declared(name) - NO_CALL):
        needs = [a for pattern, actions in NEEDS.items() if fnmatch.fnmatch(rtype, pattern) for a in actions]
        assert needs, f"{rtype}: add what creating and deleting it calls to NEEDS"
        row = row_for(rtype)
        missing = [a for a in needs if not lists(row, a)]
        assert not missing, f"{rtype}: the deployer table lacks {missing}"


def test_the_table_reports_what_the_issue_found_missing() -> None:
    """Budgets, SNS, CloudWatch alarms, kms:CreateKey, DynamoDB, the AgentCore service-linked role."""
    for rtype in (
        "aws_budgets_budget",
        "aws_sns_topic",
        "aws_cloudwatch_metric_alarm",
        "aws_kms_key",
        "aws_dynamodb_table",
    ):
        assert rtype in declared("3-full")
        assert row_for(rtype)
    assert lists(row_for("aws_iam_role"), "iam:CreateServiceLinkedRole")
    assert lists(row_for("aws_kms_key"), "kms:CreateKey")


def test_an_undeclared_type_would_fail() -> None:
    with pytest.raises(AssertionError, match="covered by 0 rows"):
        row_for("aws_sqs_queue")


def test_a_new_accounts_default_apply_is_documented_step_by_step() -> None:
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## A new account, step by step") :]
    section = section[: section.index("\n## ", 3)]
    # in this order: deployer, concurrency quota, model access, apply, alerts, first user in groups
    order = [
        "aws sts get-caller-identity",
        "L-B99A9384",
        "bedrock-runtime converse",
        "terraform apply",
        "confirm",
        "admin-add-user-to-group",
    ]
    positions = [section.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "chat_reserved_concurrency = -1" in section and "throttling" in section
    groups = re.search(r"for GROUP in ([^;]+);", section)
    policy = (EXAMPLES.parent.parent / "src/agentarch/agent/policies/tools.cedar").read_text(encoding="utf-8")
    assert groups and set(re.findall(r'Agentarch::Group::"([^"]+)"', policy)) <= set(groups.group(1).split())
    assert "#iam-the-deployer-needs" in section
