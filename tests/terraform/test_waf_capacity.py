"""The web ACL the front door creates stays within the 1,500 WCU its price includes.

The capacity is summed from the parsed HCL the way AWS WAF counts it: each managed rule group at the
capacity AWS publishes for it, each statement at its documented base cost plus text
transformations, a `dynamic` block once per element its `for_each` can have at most. A statement type
or a managed rule group missing from the tables below fails the test, so a new rule is counted or
the tables are extended (with their source).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agentarch.dev.lint.hcl import TfModule, load_module, plain
from tests.terraform.conftest import module_dir

# WCU included in a web ACL's base price; above it every 500 WCU are billed extra
# (https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html).
INCLUDED_WCU = 1500

# Capacities of AWS managed rule groups, as the AWS WAF Developer Guide lists them ("VendorName: AWS,
# Name: ..., WCU: ..."): https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
# (core rule set, known bad inputs) and .../aws-managed-rule-groups-ip-rep.html (IP reputation list).
MANAGED_RULE_GROUP_WCU = {
    ("AWS", "AWSManagedRulesCommonRuleSet"): 700,
    ("AWS", "AWSManagedRulesKnownBadInputsRuleSet"): 200,
    ("AWS", "AWSManagedRulesAmazonIpReputationList"): 25,
    ("AWS", "AWSManagedRulesAnonymousIpList"): 50,
    ("AWS", "AWSManagedRulesSQLiRuleSet"): 200,
}

# Base cost of the match statements (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statements-match.html):
# each text transformation other than NONE adds 10, inspecting the JSON body doubles the base.
MATCH_BASE_WCU = {
    "label_match_statement": 1,
    "regex_match_statement": 3,
    "size_constraint_statement": 1,
    "geo_match_statement": 1,
    "ip_set_reference_statement": 1,
}
RATE_BASED_WCU = 2  # plus its scope-down statement (waf-rule-statement-type-rate-based.html)
LOGICAL = ("and_statement", "or_statement", "not_statement")  # the WCU of what they combine


def _expression(value: Any) -> str:
    text = str(value).strip()
    return text[2:-1].strip() if text.startswith("${") and text.endswith("}") else text


def _split_top(text: str, separator: str) -> list[str]:
    """`text` split on `separator` where it is outside brackets and strings."""
    parts, depth, start, quoted = [], 0, 0, False
    for i, char in enumerate(text):
        if char == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif not quoted and depth == 0 and char == separator:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def most_instances(value: Any, module: TfModule) -> int:
    """The most elements a `for_each` can have: literals, locals, keys()/values(), `c ? a : b`."""
    if isinstance(value, (list, dict)):
        return len(value)
    expr = _expression(value)
    question = _split_top(expr, "?")
    if len(question) == 2:
        branches = _split_top(question[1], ":")
        assert len(branches) == 2, f"cannot read the conditional {expr!r}"
        return max(most_instances(b, module) for b in branches)
    local = re.fullmatch(r"(?:keys|values)?\(?local\.(\w+)\)?", expr)
    if local:
        return most_instances(module.locals[local.group(1)][0], module)
    if expr.startswith("[") and expr.endswith("]"):
        inner = expr[1:-1].strip()
        return 0 if not inner else len([p for p in _split_top(inner, ",") if p.strip()])
    raise AssertionError(f"cannot tell how many elements {expr!r} has: count this rule by hand")


def _blocks(body: dict[str, Any], name: str, module: TfModule) -> list[tuple[int, dict[str, Any]]]:
    """(instances, body) of every static or dynamic `name` block directly in `body`."""
    found = [(1, block) for block in body.get(name, [])]
    for dynamic in body.get("dynamic", []):
        if name in dynamic:
            spec = dynamic[name]
            found.append((most_instances(spec["for_each"], module), spec["content"][0]))
    return found


def _transformations(body: dict[str, Any]) -> int:
    return sum(1 for t in body.get("text_transformation", []) if str(t.get("type")) != "NONE")


def statement_wcu(statement: dict[str, Any], module: TfModule) -> int:
    """WCU of one statement block; alternatives chosen by `dynamic` blocks count as the dearest."""
    kinds = [key for key in statement if key.endswith("_statement")]
    kinds += [next(iter(d)) for d in statement.get("dynamic", []) if next(iter(d)).endswith("_statement")]
    assert kinds, f"a statement with no statement type: {statement}"
    costs = []
    for kind in kinds:
        for instances, body in _blocks(statement, kind, module):
            costs.append(instances and _kind_wcu(kind, body, module))
    return max(costs)


def _nested(body: dict[str, Any], name: str, module: TfModule) -> int:
    return sum(n * statement_wcu(b, module) for n, b in _blocks(body, name, module))


def _kind_wcu(kind: str, body: dict[str, Any], module: TfModule) -> int:
    if kind in LOGICAL:
        return _nested(body, "statement", module)
    if kind == "managed_rule_group_statement":
        key = (str(body["vendor_name"]), str(body["name"]))
        assert key in MANAGED_RULE_GROUP_WCU, f"add {key}'s published capacity to MANAGED_RULE_GROUP_WCU"
        return MANAGED_RULE_GROUP_WCU[key] + _nested(body, "scope_down_statement", module)
    if kind == "rate_based_statement":
        return RATE_BASED_WCU + _nested(body, "scope_down_statement", module)
    assert kind in MATCH_BASE_WCU, f"add the WCU of {kind} to MATCH_BASE_WCU"
    fields = body.get("field_to_match", [{}])[0]
    base = MATCH_BASE_WCU[kind] * (2 if "json_body" in fields else 1)
    return base + 10 * _transformations(body)


def web_acl_wcu(module: TfModule) -> dict[str, int]:
    """WCU per rule of the module's aws_wafv2_web_acl.this, at the most rules its dynamics make."""
    acl = plain(module.resources[("aws_wafv2_web_acl", "this")].body)
    per_rule: dict[str, int] = {}
    for instances, rule in _blocks(acl, "rule", module):
        per_rule[str(rule["name"])] = instances * statement_wcu(rule["statement"][0], module)
    return per_rule


def test_the_front_doors_web_acl_stays_within_the_wcu_its_price_includes() -> None:
    per_rule = web_acl_wcu(module_dir("front_door"))
    assert sum(per_rule.values()) <= INCLUDED_WCU, per_rule
    # one copy of the common rule set; the free-text body rules are acted on by their labels
    assert per_rule["AWSManagedRulesCommonRuleSet"] == 700


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${local.relaxed ? [1] : []}", 1),
        ('${x == 0 ? [{a = "b"}] : [{a = "c, d"}, {a = "e"}]}', 2),
        ("${values(local.free_text_body_rules)}", 4),
        ([1, 2, 3], 3),
    ],
)
def test_the_counter_reads_the_most_elements_a_for_each_can_have(expression: Any, expected: int) -> None:
    assert most_instances(expression, module_dir("front_door")) == expected


def test_the_sum_sees_the_overrun_of_the_two_copy_acl_main_had() -> None:
    """The web ACL as main had it (two copies of the common rule set scoped by path) came to 1,634."""
    per_rule = web_acl_wcu(load_module(Path(__file__).parent / "fixtures" / "waf_two_copies"))
    assert sum(per_rule.values()) == 1634 > INCLUDED_WCU
