"""Keys, log encryption and names that must not collide: held over every .tf file of the tree."""

from __future__ import annotations

import re
from typing import Any

from agentarch.dev.lint.hcl import TfModule, load_module, plain, terraform_dirs
from tests.terraform.conftest import ROOT, module_dir

SKIP = re.compile(r"#\s*checkov:skip=CKV_AWS_7:(?P<reason>.+)")


def tree() -> list[TfModule]:
    return [load_module(path) for path in terraform_dirs(ROOT) if "fixtures" not in path.parts]


def resources(rtype: str) -> list[tuple[TfModule, str, dict[str, Any]]]:
    return [
        (module, name, plain(block.body))
        for module in tree()
        for (kind, name), block in module.resources.items()
        if kind == rtype
    ]


# --- KMS: rotation on wherever KMS can rotate ------------------------------------------------------


def test_every_key_kms_can_rotate_is_created_with_rotation_on() -> None:
    """KMS rotates symmetric encryption keys only (automatic and on-demand); an HMAC or asymmetric
    key cannot rotate, and its file says so. Today the one key is the audit trail's HMAC key."""
    keys = resources("aws_kms_key")
    assert keys
    for module, name, key in keys:
        spec = key.get("customer_master_key_spec", "SYMMETRIC_DEFAULT")
        usage = key.get("key_usage", "ENCRYPT_DECRYPT")
        if spec == "SYMMETRIC_DEFAULT" and usage == "ENCRYPT_DECRYPT":
            assert key.get("enable_key_rotation") is True, f"{module.path.name}: aws_kms_key.{name}"
        else:
            text = module.resources[("aws_kms_key", name)].file.read_text(encoding="utf-8")
            assert SKIP.search(text), f"{module.path.name}: say why aws_kms_key.{name} cannot rotate"


def test_every_log_group_takes_a_kms_key() -> None:
    groups = resources("aws_cloudwatch_log_group")
    assert {(m.path.name, n) for m, n, _ in groups} >= {("front_door", "access"), ("front_door", "waf")}
    for module, name, group in groups:
        assert str(group.get("kms_key_id", "")).startswith("${var."), f"{module.path.name}: {name}"


def test_the_api_log_groups_take_the_front_doors_log_key_and_waf_keeps_its_name_prefix() -> None:
    fd = module_dir("front_door")
    waf = plain(fd.resources[("aws_cloudwatch_log_group", "waf")].body)
    access = plain(fd.resources[("aws_cloudwatch_log_group", "access")].body)
    assert waf["kms_key_id"] == access["kms_key_id"] == "${var.log_kms_key_arn}"
    assert waf["name"].startswith("aws-waf-logs-")  # WAF logs only to groups named so
    assert "logs.<region>.amazonaws.com" in plain(fd.variables["log_kms_key_arn"].body)["description"]


# --- names that are global to the account --------------------------------------------------------


def test_every_iam_role_is_named_by_prefix() -> None:
    """IAM roles are global: a fixed name from the stack's name collides in a second region."""
    roles = resources("aws_iam_role")
    assert len(roles) >= 3
    for module, name, role in roles:
        assert "name" not in role and "name_prefix" in role, f"{module.path.name}: aws_iam_role.{name}"
