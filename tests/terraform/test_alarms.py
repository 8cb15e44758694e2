"""Alerts of a deployed stack: the budget and the token alarm scoped to the stack, and the operational
alarms watching the metrics the Python code really emits, all on one SNS topic."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from agentarch.dev.lint.hcl import plain
from agentarch.handlers import http
from tests.terraform.conftest import ROOT, call_args, example, module_dir

STACKS = ("2-secure", "3-full")  # the patterns with spend_limits, so a topic


def resource(module: str, rtype: str, name: str) -> dict[str, Any]:
    return plain(module_dir(module).resources[(rtype, name)].body)  # type: ignore[no-any-return]


def squash(text: str) -> str:
    return " ".join(str(text).split())


# --- the budget counts one stack, under a name unique in the account -----------------------------


def test_the_budget_name_is_unique_per_stack_and_region() -> None:
    budget = resource("spend_limits", "aws_budgets_budget", "monthly")
    assert budget["name"] == "${var.name}-${data.aws_region.current.region}-monthly"


def test_the_budget_counts_the_stacks_tagged_costs_unless_asked_for_the_account() -> None:
    limits = module_dir("spend_limits")
    assert plain(limits.variables["budget_scope"].body)["default"] == "stack"
    (dynamic,) = [
        d["cost_filter"] for d in resource("spend_limits", "aws_budgets_budget", "monthly")["dynamic"]
    ]
    assert dynamic["for_each"] == '${var.budget_scope == "stack" ? [local.stack_tag_filter] : []}'
    assert dynamic["content"][0]["name"] == "TagKeyValue"
    # Budgets names a user tag "user:<key>$<value>"; HCL's format() leaves a lone $ alone
    assert (
        plain(limits.locals["stack_tag_filter"][0])
        == '${format("user:%s$%s", var.cost_allocation_tag_key, var.name)}'
    )
    key = plain(limits.variables["cost_allocation_tag_key"].body)["default"]
    assert "user:%s$%s" % (key, "agentarch-p3") == "user:agentarch-stack$agentarch-p3"  # noqa: UP031


@pytest.mark.parametrize("name", STACKS)
def test_every_resource_of_a_stack_carries_the_tag_its_budget_counts(name: str) -> None:
    config = example(name)
    tags = plain(config.locals["tags"][0])
    assert tags["agentarch-stack"] == "${var.name}"
    (provider,) = [b for b in config.others if b.kind == "provider"]
    assert plain(provider.body)["default_tags"][0]["tags"] == "${local.tags}"
    limits = call_args(config, "limits")
    assert limits["tags"] == tags and limits["budget_scope"] == "${var.budget_scope}"
    preconditions = resource("spend_limits", "aws_budgets_budget", "monthly")["lifecycle"][0]["precondition"]
    assert any(
        "lookup(var.tags, var.cost_allocation_tag_key, null) == var.name" in p["condition"]
        for p in preconditions
    )


def test_any_number_of_alert_emails_works_because_the_budget_notifies_the_topic() -> None:
    budget = resource("spend_limits", "aws_budgets_budget", "monthly")
    for notification in budget["notification"]:
        assert "subscriber_email_addresses" not in notification  # Budgets takes at most 10 of those
        assert notification["subscriber_sns_topic_arns"] == "${aws_sns_topic.alerts[*].arn}"
    assert resource("spend_limits", "aws_sns_topic", "alerts")["count"] == "${local.topic_enabled ? 1 : 0}"
    assert plain(module_dir("spend_limits").locals["topic_enabled"][0]) == "${length(var.alert_emails) > 0}"
    subscription = resource("spend_limits", "aws_sns_topic_subscription", "email")
    assert subscription["for_each"] == "${toset(var.alert_emails)}"


def test_budgets_and_cloudwatch_of_this_account_only_may_publish_to_the_topic() -> None:
    document = plain(module_dir("spend_limits").data[("aws_iam_policy_document", "alerts")].body)
    principals = {s["principals"][0]["identifiers"][0]: s for s in document["statement"]}
    assert set(principals) == {"budgets.amazonaws.com", "cloudwatch.amazonaws.com"}
    for statement in principals.values():
        assert statement["actions"] == ["SNS:Publish"]
        assert any(c["variable"] == "aws:SourceAccount" for c in statement["condition"])


def test_the_readmes_say_what_each_cap_covers() -> None:
    module = squash((ROOT / "terraform/modules/spend_limits/README.md").read_text(encoding="utf-8"))
    top = squash((ROOT / "README.md").read_text(encoding="utf-8"))
    for text in (module, top):
        assert "cost allocation tag" in text and "application inference profile" in text
        assert "payer account" in text and 'budget_scope = "account"' in text
        assert "per account, region and model" in text  # what the token alarm counts


# --- the operational alarms watch what the code emits --------------------------------------------


def alarms() -> dict[str, dict[str, Any]]:
    return {key[1]: plain(block.body) for key, block in module_dir("alarms").resources.items()}


def custom_metrics() -> set[str]:
    """The metric names the alarms read from the stack's own namespace."""
    names = set()
    for alarm in alarms().values():
        if alarm.get("namespace") == "${var.metrics_namespace}":
            names.add(alarm["metric_name"])
        for query in alarm.get("metric_query", []):
            for metric in query.get("metric", []):
                if metric["namespace"] == "${var.metrics_namespace}":
                    names.add(metric["metric_name"])
    return names


def emitted_metrics() -> set[str]:
    """Every metric name the handlers publish: add_metric(name="...") and ApiError's `metric`."""
    names: set[str] = set()
    for path in (ROOT / "src/agentarch/handlers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_metric":
                for keyword in node.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        names.add(str(keyword.value.value))
    for cls in vars(http).values():
        if isinstance(cls, type) and issubclass(cls, http.ApiError) and cls.metric:
            names.add(cls.metric)
    return names


def test_the_alarms_cover_the_signals_that_matter() -> None:
    found = alarms()
    assert found["api_5xx"]["namespace"] == "AWS/ApiGateway" and found["api_5xx"]["metric_name"] == "5XXError"
    assert (
        found["throttles"]["metric_name"] == "Throttles"
        and found["throttles"]["for_each"] == "${var.function_names}"
    )
    assert custom_metrics() == {"QuotaChargeFailures", "AgentErrors", "AgentTimeouts"}
    for alarm in found.values():
        assert alarm["alarm_actions"] == alarm["ok_actions"] == "${local.actions}"
        assert "Alarms and what to do" in alarm["alarm_description"]
        assert alarm["treat_missing_data"] == "notBreaching"


def test_every_metric_an_alarm_reads_is_one_the_python_code_emits() -> None:
    assert custom_metrics() <= emitted_metrics()
    assert http.BadGateway.metric == "AgentErrors" and http.GatewayTimeout.metric == "AgentTimeouts"


@pytest.mark.parametrize("name", STACKS)
def test_the_alarms_read_the_namespace_and_service_the_chat_function_publishes_to(name: str) -> None:
    config = example(name)
    args = call_args(config, "alarms")
    chat_env = call_args(config, "chat")["environment"]
    assert args["metrics_namespace"] == chat_env["POWERTOOLS_METRICS_NAMESPACE"] == "agentarch/${var.name}"
    default_service = plain(module_dir("alarms").variables["chat_service_name"].body)["default"]
    assert chat_env["POWERTOOLS_SERVICE_NAME"] == default_service
    assert args["alarm_topic_arn"] == "${module.limits.alerts_topic_arn}"
    # a Throttles alarm for every function on the request path (the optional evaluator, behind a
    # count and called by AgentCore Evaluations, not by users, has none)
    functions = {
        call
        for call, block in config.module_calls.items()
        if plain(block.body)["source"].endswith("lambda_function") and "count" not in plain(block.body)
    }
    assert set(args["function_names"]) == functions
    assert all(v == f"${{module.{k}.function_name}}" for k, v in args["function_names"].items())


def test_the_chat_function_emits_quota_charge_failures_where_the_alarm_looks() -> None:
    """Run the chat handler's uncharged-turn path in a fresh process with the stack's environment and
    read the EMF record Powertools prints: the namespace, the dimension and the name of the alarm."""
    script = (
        "import contextlib, io\n"
        "from agentarch.handlers import chat\n"
        "from agentarch.handlers.observability import metrics\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    chat._uncharged(12)\n"
        "    metrics.flush_metrics()\n"
        "print(out.getvalue())\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "POWERTOOLS_METRICS_NAMESPACE": "agentarch/demo",
        "POWERTOOLS_SERVICE_NAME": "chat",
    }
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    records = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"_aws"')]
    (record,) = records
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    alarm = alarms()["quota_charge_failures"]
    assert directive["Namespace"] == "agentarch/demo"
    assert [m["Name"] for m in directive["Metrics"]] == [alarm["metric_name"]]
    assert directive["Dimensions"] == [list(plain(module_dir("alarms").locals["chat_dimensions"][0]))]
    assert record["service"] == "chat"


def test_the_readme_has_a_runbook_entry_for_every_alarm() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Alarms and what to do") :]
    section = section[: section.index("\n## ", 3)]
    for alarm in alarms().values():
        suffix = alarm["alarm_name"].split("}-", 1)[1].replace("${each.key}", "<function>")
        assert f"`<name>-{suffix}`" in section, suffix
    assert section.count("1. ") >= len(alarms())  # first things to check, numbered
