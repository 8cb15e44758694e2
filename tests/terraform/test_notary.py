"""The audit notary in Terraform: the writers' IAM has no path to its key or its bucket, its own role
has exactly what its code calls, and its bucket is write-once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentarch.dev.lint.hcl import plain
from tests.terraform.code_contracts import boto3_actions
from tests.terraform.conftest import call_args, example, module_dir

NOTARY_OUTPUTS = (
    "notary_key_arn",
    "checkpoint_bucket_arn",
    "checkpoint_bucket_name",
    "notary_policy_statements",
)
SIGNING_OR_WRITING = (
    "kms:Sign",
    "kms:*",
    "s3:PutObject",
    "s3:*",
    "s3:DeleteObject",
    "s3:PutObjectRetention",
    "*",
)
STACKS = ("2-secure", "3-full")


READER = "audit"  # GET /api/audit: reads the checkpoints and checks their signatures (kms:Verify), no more
READER_GRANTS = {
    "${module.audit_trail.checkpoint_bucket_arn}/checkpoints/*": ["s3:GetObject"],
    "${module.audit_trail.checkpoint_bucket_arn}": ["s3:ListBucket"],
    "${module.audit_trail.notary_key_arn}": ["kms:Verify"],
}


def writer_statements(name: str) -> dict[str, list[dict[str, Any]]]:
    """Every role of the example but the notary's and its reader's: the Lambdas and the runtime."""
    cfg = example(name)
    roles = {
        call: call_args(cfg, call).get("policy_statements", [])
        for call, block in cfg.module_calls.items()
        if block.body.get("source") == "../../modules/lambda_function" and call not in {"notary", READER}
    }
    roles["runtime"] = call_args(cfg, "runtime").get("policy_statements", [])
    return roles


@pytest.mark.parametrize("name", STACKS)
def test_no_writer_role_may_use_the_notary_key_or_write_its_bucket(name: str) -> None:
    roles = writer_statements(name)
    assert {"chat", "runtime"} <= set(roles)
    for role, statements in roles.items():
        text = json.dumps(statements)
        for output in NOTARY_OUTPUTS:
            assert f"module.audit_trail.{output}" not in text, f"{role} is granted something of the notary's"
        for statement in statements:
            if statement.get("effect", "Allow") != "Allow":
                continue
            wildcard = any(r == "*" or r.startswith("arn:aws:s3:::*") for r in statement["resources"])
            risky = [a for a in statement["actions"] if a in SIGNING_OR_WRITING or a.endswith(":*")]
            assert not (wildcard and risky), f"{role}: {risky} on {statement['resources']}"
    # and the runtime module grants nothing of KMS Sign or S3 writes of its own beyond its artifact bucket
    module = module_dir("agent_runtime")
    for (rtype, _), block in module.data.items():
        if rtype == "aws_iam_policy_document":
            assert "kms:Sign" not in json.dumps(plain(block.body))


def test_the_audit_reader_may_read_checkpoints_and_check_signatures_and_nothing_else_of_the_notarys() -> None:
    statements = call_args(example("3-full"), READER)["policy_statements"]
    notarys = {
        resource: statement["actions"]
        for statement in statements
        for resource in statement["resources"]
        if any(f"module.audit_trail.{output}" in resource for output in NOTARY_OUTPUTS)
    }
    assert notarys == READER_GRANTS
    assert not {a for s in statements for a in s["actions"]} & set(SIGNING_OR_WRITING)
    code = boto3_actions("agentarch.handlers.audit")
    assert {a for a in code if a.startswith("kms:")} == {"kms:Verify"}  # what its code calls of KMS
    env = call_args(example("3-full"), READER)["environment"]
    assert (env["NOTARY_BUCKET"], env["NOTARY_KEY_ID"]) == (
        "${module.audit_trail.checkpoint_bucket_name}",
        "${module.audit_trail.notary_key_arn}",
    )


@pytest.mark.parametrize("name", STACKS)
def test_the_notary_role_gets_exactly_what_its_code_calls_and_its_stream(name: str) -> None:
    args = call_args(example(name), "notary")
    assert args["policy_statements"] == "${module.audit_trail.notary_policy_statements}"
    assert args["handler"] == "agentarch.handlers.notary.lambda_handler"
    assert args["stream_sources"]["audit"]["event_source_arn"] == "${module.audit_trail.stream_arn}"
    assert args["stream_sources"]["audit"]["batching_window_seconds"] <= 60  # signs at least every minute
    statements = plain(module_dir("audit").outputs["notary_policy_statements"].body)["value"]
    granted = {a for s in statements for a in s["actions"]}
    code = boto3_actions("agentarch.handlers.notary")
    assert {a for a in granted if a.startswith(("kms:", "s3:"))} == {
        "kms:Sign",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
    }
    assert {a for a in code if a.startswith("kms:")} <= granted
    stream = next(s for s in statements if s["sid"] == "AuditStream")
    assert set(stream["actions"]) == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    alarms = call_args(example(name), "alarms")
    assert alarms["stream_consumers"] == {"notary": "${module.notary.function_name}"}


def test_the_checkpoint_bucket_is_write_once_and_the_key_signs_with_p256() -> None:
    audit = module_dir("audit")
    key = plain(audit.resources[("aws_kms_key", "notary")].body)
    assert (key["key_usage"], key["customer_master_key_spec"]) == ("SIGN_VERIFY", "ECC_NIST_P256")
    bucket = plain(audit.resources[("aws_s3_bucket", "checkpoints")].body)
    assert bucket["object_lock_enabled"] is True
    lock = plain(audit.resources[("aws_s3_bucket_object_lock_configuration", "checkpoints")].body)
    assert lock["rule"][0]["default_retention"][0]["mode"] == "${var.checkpoint_retention_mode}"
    mode = plain(audit.variables["checkpoint_retention_mode"].body)
    assert mode["default"] == "GOVERNANCE"
    table = plain(audit.resources[("aws_dynamodb_table", "audit")].body)
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
