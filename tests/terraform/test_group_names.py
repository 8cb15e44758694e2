"""The identity module refuses the group names the Lambdas refuse: the HCL's rule is the Python one.

A group name with a comma or a bracket cannot be carried by the REST authorizer's flattened
`cognito:groups` claim, so `agentarch.core.identity` never reads it as a group; Terraform must not
create such a group in the first place.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentarch.core.identity import GROUP_NAME_PATTERN

VARIABLES = Path(__file__).resolve().parents[2] / "terraform/modules/identity/variables.tf"
NAMES = [
    "audit-admins",
    "support",
    "weather",
    "[audit-admins]",
    "ops audit-admins",
    "a,b",
    "x" * 129,
    "ümlaut",
    "",
]


def hcl_group_rules() -> list[re.Pattern[str]]:
    """Every `regex("…", …)` of the group variables' validations, as Python patterns."""
    text = VARIABLES.read_text()
    blocks = [
        text.split(f'variable "{name}"', 1)[1].split("\nvariable ", 1)[0]
        for name in ("groups", "audit_admin_group")
    ]
    found = [m for block in blocks for m in re.findall(r'regex\("((?:[^"\\]|\\.)*)"', block)]
    return [re.compile(pattern.encode().decode("unicode_escape")) for pattern in found]


@pytest.mark.parametrize("name", NAMES)
def test_terraform_and_the_lambdas_agree_on_every_group_name(name: str) -> None:
    rules = hcl_group_rules()

    assert len(rules) == 2  # the groups map's names, and the audit admin group
    for rule in rules:
        assert bool(rule.fullmatch(name)) == bool(GROUP_NAME_PATTERN.fullmatch(name)), (rule.pattern, name)
