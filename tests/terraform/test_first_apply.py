"""What would break or misbehave on a real first `apply` — names, quotas, ordering, IAM, destroy — held statically.

Each test names the item it holds. They read the parsed HCL (python-hcl2) and, where a condition
decides, evaluate it the way Terraform would for the cases that matter.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentarch import config
from agentarch.adapters.agent_runtime import AgentRuntimeClient, AgentUnavailable, RuntimeTarget
from agentarch.dev.lint.hcl import plain
from tests.terraform.conftest import EXAMPLE_NAMES, ROOT, call_args, example, module_dir

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


def body(module: str, rtype: str, name: str) -> dict[str, Any]:
    return plain(module_dir(module).resources[(rtype, name)].body)  # type: ignore[no-any-return]


def local(module: str, name: str) -> Any:
    return plain(module_dir(module).locals[name][0])


def squash(text: str) -> str:
    return " ".join(str(text).split())


def validations(cfg_variables: dict[str, Any], name: str) -> list[dict[str, str]]:
    return plain(cfg_variables[name].body).get("validation", [])  # type: ignore[no-any-return]


def first_regex(condition: str) -> re.Pattern[str]:
    """The first `regex("...", ...)` pattern of a condition, as Python compiles it (RE2 subset)."""
    match = re.search(r'regex\("((?:[^"\\]|\\.)*)"', condition)
    assert match, condition
    return re.compile(match.group(1).replace("\\\\", "\\"))


# --- 1. pattern 1 calls the runtime by id and account ------------------------------------------


def test_1_runtime_module_outputs_the_id_based_invoke_uri() -> None:
    value = plain(module_dir("agent_runtime").outputs["invocation_url"].body)["value"]
    assert value == (
        "https://bedrock-agentcore.${local.region}.amazonaws.com/runtimes/"
        "${aws_bedrockagentcore_agent_runtime.this.agent_runtime_id}/invocations"
        "?qualifier=DEFAULT&accountId=${local.account_id}"
    )
    assert "urlencode" not in value and "agent_runtime_arn" not in value


def test_1_pattern_1_integration_uri_is_the_id_based_one() -> None:
    route = call_args(example("1-passthrough"), "front_door")["routes"]["chat"]
    assert route["http_uri"] == "${module.runtime.invocation_url}"


# --- 2. the account-wide API Gateway logging role is not in the reusable module -----------------


def test_2_front_door_sets_no_account_level_setting() -> None:
    fd = module_dir("front_door")
    assert not [key for key in fd.resources if key[0] in ("aws_api_gateway_account", "aws_iam_role")]
    assert "manage_account_cloudwatch_role" not in fd.variables
    for name in EXAMPLE_NAMES:
        assert not [key for key in example(name).resources if key[0] == "aws_api_gateway_account"], name


def test_2_account_logging_is_its_own_one_time_root() -> None:
    account = example("account-logging")
    assert ("aws_api_gateway_account", "this") in account.resources
    assert "once" in (ROOT / "terraform/examples/account-logging/README.md").read_text().lower()


def test_2_front_door_works_with_logging_off() -> None:
    stage = body("front_door", "aws_api_gateway_stage", "this")
    assert "access_log_settings" not in stage, "access logs must be a dynamic block"
    dynamic = {next(iter(d)): d[next(iter(d))] for d in stage["dynamic"]}
    assert dynamic["access_log_settings"]["for_each"] == "${var.logging_enabled ? [1] : []}"
    assert "depends_on" not in stage
    settings = body("front_door", "aws_api_gateway_method_settings", "all")["settings"][0]
    assert settings["logging_level"] == '${var.logging_enabled ? var.execution_logging_level : "OFF"}'
    for name in ("1-passthrough", "2-secure", "3-full"):
        assert call_args(example(name), "front_door")["logging_enabled"] == "${var.api_gateway_logging}"
        assert plain(example(name).variables["api_gateway_logging"].body)["default"] is False, name


# --- 3. WAF body rules count on the chat route and block elsewhere -------------------------------

FREE_TEXT_RULES = {"CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"}


def test_3_common_rule_set_body_rules_count_only_on_relaxed_routes() -> None:
    labels = local("front_door", "free_text_body_rules")
    assert set(labels) == FREE_TEXT_RULES
    # each rule's label as AWS documents it: awswaf:managed:aws:core-rule-set:<Rule>_Body
    assert all(
        labels[r] == f"awswaf:managed:aws:core-rule-set:{r.removesuffix('_BODY')}_Body" for r in labels
    )
    count_rules = squash(local("front_door", "crs_count_rules"))
    assert count_rules == (
        '${concat(["SizeRestrictions_BODY"], local.relaxed ? keys(local.free_text_body_rules) : [])}'
    )
    acl = body("front_door", "aws_wafv2_web_acl", "this")
    crs = [r for r in acl["rule"] if r["name"] == "AWSManagedRulesCommonRuleSet"]
    assert len(crs) == 1 and "scope_down_statement" not in str(crs[0])  # one copy, on every path
    (label_rule,) = [d["rule"] for d in acl["dynamic"] if "rule" in d]
    assert label_rule["for_each"] == "${local.relaxed ? [1] : []}"
    content = label_rule["content"][0]
    assert content["priority"] > crs[0]["priority"]  # labels exist only after the rule set ran
    assert "block" in content["action"][0]
    (both,) = content["statement"][0]["and_statement"]
    (labelled, elsewhere) = both["statement"]
    (any_label,) = labelled["or_statement"][0]["dynamic"]
    assert any_label["statement"]["for_each"] == "${values(local.free_text_body_rules)}"
    assert any_label["statement"]["content"][0]["label_match_statement"][0]["scope"] == "LABEL"
    regex = elsewhere["not_statement"][0]["statement"][0]["regex_match_statement"][0]
    assert regex["regex_string"] == "${local.relaxed_path_regex}" and "uri_path" in regex["field_to_match"][0]


def test_3_relaxed_path_regex_matches_the_chat_route_behind_a_stage_only() -> None:
    # The HCL builds ^(/[^/]+)?(<paths>)/?$ ; evaluate it for the chat route.
    template = local("front_door", "relaxed_path_regex")
    assert template.startswith("^(/[^/]+)?(") and template.endswith(")/?$")
    pattern = re.compile("^(/[^/]+)?(/api/chat)/?$")
    assert pattern.match("/prod/api/chat") and pattern.match("/api/chat")
    assert not pattern.match("/prod/api/conversations") and not pattern.match("/prod/api/chat/x")


@pytest.mark.parametrize("name", ["1-passthrough", "2-secure", "3-full"])
def test_3_the_chat_route_relaxes_the_body_rules_and_no_other(name: str) -> None:
    routes = call_args(example(name), "front_door")["routes"]
    assert routes["chat"]["relax_waf_body_rules"] is True
    assert all("relax_waf_body_rules" not in r for key, r in routes.items() if key != "chat")


def test_3_readme_says_what_body_inspection_above_16_kb_costs() -> None:
    text = (ROOT / "terraform/modules/front_door/README.md").read_text()
    assert "16 KB" in text and "additional 16 KB" in text


# --- 4. artifacts: a key per runtime, the new build before the old one goes --------------------


def test_4_artifact_key_is_per_runtime_and_per_build() -> None:
    assert local("agent_runtime", "artifact_key") == "agent/${var.name}/${filesha256(var.artifact_path)}.zip"


def test_4_artifact_object_is_created_before_the_previous_is_destroyed() -> None:
    obj = body("agent_runtime", "aws_s3_object", "agent")
    assert obj["lifecycle"] == [{"create_before_destroy": True}]


# --- 5. the runtime's log group is managed --------------------------------------------------------


def test_5_runtime_log_group_is_declared_with_retention_and_kms() -> None:
    group = body("agent_runtime", "aws_cloudwatch_log_group", "runtime")
    assert group["retention_in_days"] == "${var.log_retention_days}"
    assert group["kms_key_id"] == "${var.log_kms_key_arn}"
    assert local("agent_runtime", "log_group_name") == (
        "/aws/bedrock-agentcore/runtimes/${aws_bedrockagentcore_agent_runtime.this.agent_runtime_id}-DEFAULT"
    )
    output = plain(module_dir("agent_runtime").outputs["log_group_name"].body)["value"]
    assert (
        output == "${var.create_log_group ? aws_cloudwatch_log_group.runtime[0].name : local.log_group_name}"
    )
    assert plain(module_dir("agent_runtime").variables["create_log_group"].body)["default"] is True


def test_5_a_brought_role_that_may_create_log_groups_can_leave_the_group_to_the_service() -> None:
    """The race (issue 21): the managed group is named after the runtime's id, so it is created after
    the runtime; a brought role with logs:CreateLogGroup lets the service win. The module says so and
    lets such a caller opt out; the existing state moves to the counted address."""
    runtime = module_dir("agent_runtime")
    group = body("agent_runtime", "aws_cloudwatch_log_group", "runtime")
    assert group["count"] == "${var.create_log_group ? 1 : 0}"
    moves = [plain(b.body) for b in runtime.others if b.kind == "moved"]
    assert {
        "from": "${aws_cloudwatch_log_group.runtime}",
        "to": "${aws_cloudwatch_log_group.runtime[0]}",
    } in moves
    text = runtime.resources[("aws_cloudwatch_log_group", "runtime")].file.read_text(encoding="utf-8")
    assert "ResourceAlreadyExistsException" in text and "create_log_group = false" in text


def test_5_the_runtime_role_cannot_create_an_unmanaged_log_group() -> None:
    document = plain(module_dir("agent_runtime").data[("aws_iam_policy_document", "runtime")].body)
    actions = {a for s in document["statement"] for a in s["actions"]}
    assert "logs:CreateLogGroup" not in actions


# --- 6. AWS_REGION in the runtime's environment --------------------------------------------------


def test_6_runtime_environment_always_has_aws_region() -> None:
    env = local("agent_runtime", "environment_variables")
    # first in the merge, so a caller may override it but the map always has it
    assert env.startswith("${merge({AWS_REGION = local.region}, var.environment_variables, ")
    runtime = body("agent_runtime", "aws_bedrockagentcore_agent_runtime", "this")
    assert runtime["environment_variables"] == "${local.environment_variables}"


# --- 7. pattern 1 sends the client's session id; 401/403 become 401 -----------------------------


def test_7_pattern_1_sends_the_validated_session_id_in_the_runtime_header() -> None:
    template = call_args(example("1-passthrough"), "front_door")["routes"]["chat"]["request_template"]
    assert f"$context.requestOverride.header.{SESSION_HEADER} = $sid" in template
    match = re.search(r'\$sid\.matches\("([^"]+)"\)', template)
    assert match, "the session id must be validated before it is used"
    # the same pattern the chat Lambda and the runtime accept
    from agentarch.core.sessions import SESSION_ID_PATTERN

    assert match.group(1) == SESSION_ID_PATTERN.pattern
    assert "#set($sid = $context.requestId)" in template


def test_7_runtime_401_and_403_become_401_and_other_errors_502() -> None:
    statuses = local("front_door", "mapped_statuses")
    assert set(statuses) == {"200", "401", "502"}
    unauthorized = re.compile(statuses["401"]["pattern"].replace("\\\\", "\\"))
    other = re.compile(statuses["502"]["pattern"].replace("\\\\", "\\"))
    for status in ("401", "403"):
        assert unauthorized.fullmatch(status) and not other.fullmatch(status)
    for status in ("400", "404", "409", "429", "500", "502", "503", "504"):
        assert other.fullmatch(status) and not unauthorized.fullmatch(status), status
    assert statuses["401"]["code"] == "unauthorized"


def test_7_readme_does_not_call_the_passthrough_a_proxy_integration() -> None:
    for path in (
        ROOT / "terraform/modules/front_door/README.md",
        ROOT / "terraform/examples/1-passthrough/README.md",
    ):
        text = squash(path.read_text().lower())
        assert "proxy integration to the runtime" not in text
        assert "not a proxy" in text, path


# --- 8. the timeout chain holds for the client's real worst case --------------------------------


def _hcl_to_python(expression: Any) -> str:
    expr = str(expression).removeprefix("${").removesuffix("}")
    expr = re.sub(r"(?:var|local)\.(\w+)", r"t['\1']", expr)
    expr = re.sub(r"!(?!=)", " not ", expr)
    return expr.replace("&&", " and ").replace("||", " or ")


def _chain_conditions() -> tuple[dict[str, float], list[str], dict[str, str]]:
    """The timeout_chain module: variable defaults, every condition, and its locals, as Python."""
    chain = module_dir("timeout_chain")
    defaults = {name: float(plain(v.body)["default"]) for name, v in chain.variables.items()}  # bool: 0/1
    conditions = [
        _hcl_to_python(v["condition"])
        for b in chain.variables.values()
        for v in plain(b.body).get("validation", [])
    ]
    conditions += [
        _hcl_to_python(p["condition"])
        for b in chain.outputs.values()
        for p in plain(b.body).get("precondition", [])
    ]
    locals_ = {name: _hcl_to_python(plain(value)) for name, (value, _) in chain.locals.items()}
    return defaults, conditions, locals_


def _worst_case_client_seconds(t: dict[str, float]) -> float:
    """The longest the real client takes when every attempt fails as late as it can."""
    if "agent_total_seconds" not in t:  # a client without a deadline: every attempt in full, plus backoff
        attempts = int(t["agent_max_attempts"])
        pauses = sum(min(0.2 * 2 ** (a - 1), 1.0) for a in range(1, attempts))
        return attempts * (t["agent_connect_seconds"] + t["agent_read_seconds"]) + pauses
    now = [0.0]
    attempt_seconds = t["agent_connect_seconds"] + t["agent_read_seconds"]

    class LateFailure:
        def invoke_agent_runtime(self, **_: Any) -> Any:
            from botocore.exceptions import ClientError

            now[0] += attempt_seconds - 0.001
            raise ClientError({"Error": {"Code": "InternalServerException"}}, "InvokeAgentRuntime")

    def sleep(seconds: float) -> None:
        now[0] += seconds

    target = RuntimeTarget(
        runtime_arn="arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a-abcdefghij",
        qualifier="DEFAULT",
        region="us-east-1",
        endpoint_url=None,
        connect_timeout_seconds=t["agent_connect_seconds"],
        read_timeout_seconds=t["agent_read_seconds"],
        max_attempts=int(t["agent_max_attempts"]),
        total_timeout_seconds=t["agent_total_seconds"],
    )
    client = AgentRuntimeClient(target, LateFailure(), clock=lambda: now[0], sleep=sleep)
    with pytest.raises(AgentUnavailable):
        client.invoke({}, "s" * 40)
    return now[0]


def test_8_every_timeout_chain_the_checks_accept_ends_before_the_lambda_is_killed() -> None:
    defaults, conditions, locals_ = _chain_conditions()
    accepted = 0
    for lambda_seconds in (10, 20, 28):
        for read in (5, 10, 20, 25):
            for connect in (1, 3, 5):
                for attempts in (1, 2, 3, 5):
                    for total in (10, 20, 25, 26, 30):
                        t: dict[str, Any] = {
                            **defaults,
                            "lambda_seconds": lambda_seconds,
                            "agent_read_seconds": read,
                        }
                        t |= {
                            "agent_connect_seconds": connect,
                            "agent_max_attempts": attempts,
                            "agent_total_seconds": total,
                        }
                        for name, expression in locals_.items():
                            t[name] = eval(expression, {}, {"t": t})
                        if not all(eval(c, {}, {"t": t}) for c in conditions):
                            continue
                        accepted += 1
                        worst = _worst_case_client_seconds(t)
                        # one second at least for the Lambda to answer 504 itself
                        assert worst + 1 <= lambda_seconds, (t, worst)
    assert accepted > 0
    assert (
        defaults["agent_total_seconds"]
        == config.ChatSettings.model_fields["agent_total_timeout_seconds"].default
    )


def test_8_the_old_formula_would_have_let_two_attempts_outlive_the_lambda() -> None:
    # lambda 28 > read 20 + connect 3 * attempts 2 held, yet two late 5xx answers take 46 s
    old = {"agent_connect_seconds": 3.0, "agent_read_seconds": 20.0, "agent_max_attempts": 2.0}
    assert 28 > 20 + 3 * 2
    assert _worst_case_client_seconds(old) > 28


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_8_the_chat_lambda_gets_the_total_deadline(name: str) -> None:
    env = call_args(example(name), "chat")["environment"]
    assert env["AGENT_TOTAL_TIMEOUT_SECONDS"] == "${tostring(module.timeouts.agent_total_seconds)}"


# --- 9. the conversations Lambda timeout is a setting; DELETE has a deadline within it -----------


def test_9_conversations_timeout_is_configurable_and_the_delete_deadline_fits_in_it() -> None:
    args = call_args(example("3-full"), "conversations")
    assert args["timeout_seconds"] == "${module.timeouts.conversations_lambda_seconds}"
    assert (
        args["environment"]["DELETE_DEADLINE_SECONDS"]
        == "${tostring(module.timeouts.delete_deadline_seconds)}"
    )
    chain = module_dir("timeout_chain")
    variable = plain(chain.variables["conversations_lambda_seconds"].body)
    (validation,) = variable["validation"]
    assert "var.conversations_lambda_seconds >= 10" in validation["condition"]
    assert "var.conversations_lambda_seconds <= 28" in validation["condition"]
    assert variable["default"] <= 28
    assert local("timeout_chain", "delete_deadline_seconds") == (
        "${var.conversations_lambda_seconds - local.delete_margin_seconds}"
    )


# --- 10. the conversation index expires with Memory's events ------------------------------------


def test_10_conversation_index_has_a_ttl_the_adapter_writes() -> None:
    table = body("data", "aws_dynamodb_table", "conversations")
    assert table["ttl"] == [{"attribute_name": "${local.expiry_attribute}", "enabled": True}]
    from agentarch.adapters import aws_conversations

    assert local("data", "expiry_attribute") == aws_conversations.EXPIRY_ATTRIBUTE


def test_10_the_chat_lambda_expires_items_with_memorys_event_expiry() -> None:
    cfg = example("3-full")
    assert call_args(cfg, "memory")["event_expiry_days"] == 30  # local.memory_event_expiry_days
    env = call_args(cfg, "chat")["environment"]
    assert env["CONVERSATION_EXPIRY_DAYS"] == "${tostring(local.memory_event_expiry_days)}"


# --- 11. a change to anything the stage serves redeploys it --------------------------------------


def test_11_deployment_triggers_cover_authorizer_validators_and_resources() -> None:
    triggers = squash(body("front_door", "aws_api_gateway_deployment", "this")["triggers"]["redeployment"])
    for piece in (
        "aws_api_gateway_authorizer.cognito",
        "aws_api_gateway_request_validator.parameters",
        "aws_api_gateway_resource.level1",
        "aws_api_gateway_resource.level2",
        "aws_api_gateway_resource.level3",
        "aws_api_gateway_resource.level4",
        "aws_api_gateway_method.route",
        "aws_api_gateway_method.options",
        "aws_api_gateway_integration.route",
        "aws_api_gateway_integration.options",
        "aws_api_gateway_method_response.mapped",
        "aws_api_gateway_integration_response.mapped",
        "aws_api_gateway_integration_response.options",
        "aws_api_gateway_gateway_response.this",
    ):
        assert piece in triggers, piece


# --- 12. names that pass validation also pass apply ----------------------------------------------


def test_12_lambda_role_names_fit_and_never_collide_across_regions() -> None:
    """IAM is global: a fixed <name>-role collided for one stack name in two regions (issue 21). The
    role takes a prefix IAM completes with a unique suffix; IAM caps name_prefix at 38 characters."""
    (validation,) = validations(module_dir("lambda_function").variables, "name")
    pattern = first_regex(validation["condition"])
    assert pattern.match("a" * 64) and not pattern.match("a" * 65)  # Lambda's own limit
    role = plain(module_dir("lambda_function").resources[("aws_iam_role", "this")].body)
    assert "name" not in role and role["name_prefix"] == "${substr(var.name, 0, 37)}-"
    assert len("a" * 37 + "-") <= 38
    assert role["lifecycle"][0]["create_before_destroy"] is True  # the function never points at no role


def test_12_cognito_domain_prefix_is_refused_when_too_long_or_reserved() -> None:
    (validation,) = validations(module_dir("identity").variables, "domain_prefix")
    assert '!can(regex("aws|amazon|cognito", var.domain_prefix))' in validation["condition"]
    shape = first_regex(validation["condition"])
    assert shape.match("a" * 63) and not shape.match("a" * 64)
    # the name-derived prefix is cut to fit 63 with the account id, and checked before apply
    derived = local("identity", "derived_prefix")
    assert derived.startswith('${trim(substr(lower(replace(var.name, "_", "-")), 0, 50), "-")}-')
    assert 50 + 1 + 12 <= 63
    domain = body("identity", "aws_cognito_user_pool_domain", "this")
    (precondition,) = domain["lifecycle"][0]["precondition"]
    assert "length(local.domain_prefix) <= 63" in precondition["condition"]
    assert '!can(regex("aws|amazon|cognito", local.domain_prefix))' in precondition["condition"]


def test_12_derived_names_of_the_examples_fit() -> None:
    # Examples cap name at 24 characters: "<name>-conversations" is the longest Lambda name.
    for name in ("2-secure", "3-full"):
        (validation,) = validations(example(name).variables, "name")
        assert "{2,23}" in validation["condition"]
    assert len("a" * 24 + "-conversations") <= 59


# --- 13. KMS: keys the roles need, and the key policy logs need ----------------------------------


def test_13_memory_cmk_is_granted_to_the_runtime_through_the_service_only() -> None:
    document = plain(module_dir("agent_runtime").data[("aws_iam_policy_document", "runtime")].body)
    statements = [next(iter(d.values()))["content"][0] for d in document["dynamic"] if "statement" in d]
    key = next(s for s in statements if s.get("sid") == "MemoryKey")
    assert set(key["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert key["resources"] == ["${var.memory_kms_key_arn}"]
    assert key["condition"][0]["variable"] == "kms:ViaService"


def test_13_readmes_document_the_key_policies() -> None:
    lambda_readme = (ROOT / "terraform/modules/lambda_function/README.md").read_text()
    assert "logs.<region>.amazonaws.com" in lambda_readme
    memory_readme = (ROOT / "terraform/modules/agent_memory/README.md").read_text()
    assert "kms:ViaService" in memory_readme and "kms:GenerateDataKey" in memory_readme


# --- the example READMEs say what a first apply needs ---------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_readme_covers_what_a_first_apply_needs(name: str) -> None:
    text = squash((ROOT / "terraform/examples" / name / "README.md").read_text())
    shared = squash((ROOT / "terraform/examples/README.md").read_text())
    # the first user without an e-mailed temporary password
    assert "--message-action SUPPRESS" in text and "admin-set-user-password" in text and "--permanent" in text
    # agentarch lives in the repository's .venv
    assert ".venv/bin/agentarch" in text
    # the deployer's IAM, remote state and the account-level logging step, here or in the shared notes
    assert "../README.md" in text and "account-logging" in text
    assert "IAM the deployer needs" in shared and 'backend "s3"' in shared
    assert "iam:PassRole" in shared.replace("`", "") or "PassRole" in shared
    assert "aws apigateway get-account" in shared


# --- issue 21: a throttled chat Lambda answers the same, retryable, status in AWS and locally ----


def _local_throttled_answer() -> tuple[int, str, dict[str, str]]:
    """(status, code, headers) the local front door gives when a function answers 429 (throttled)."""
    import ast

    source = (ROOT / "src/agentarch/dev/local/frontdoor.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and "status_code == 429" in ast.unparse(node.test):
            call = node.body[0].value  # type: ignore[attr-defined]
            args = [ast.literal_eval(a) for a in call.args[1:] if not isinstance(a, ast.Name)]
            return args[0], args[1], args[3] if len(args) > 3 else {}
    raise AssertionError("the local front door no longer maps a throttled function")


def test_throttled_lambda_answers_alike_in_aws_and_locally_and_invites_a_retry() -> None:
    from agentarch.handlers.http import ERROR_STATUSES, GATEWAY_STATUSES

    failure = plain(module_dir("front_door").locals["gateway_responses"][0])["INTEGRATION_FAILURE"]
    params = body("front_door", "aws_api_gateway_gateway_response", "this")["response_parameters"]
    status, code, headers = _local_throttled_answer()
    assert (int(failure["status"]), failure["code"]) == (status, code)
    assert status == 503 and "Retry-After" in headers  # clients and SDKs retry a 503
    assert "INTEGRATION_FAILURE" in params["gatewayresponse.header.Retry-After"]
    assert status in GATEWAY_STATUSES and f"`{code}`" in ERROR_STATUSES[status]
    assert f"| {status} | `{code}` |" in (ROOT / "README.md").read_text(encoding="utf-8")


# --- issue 21: the default apply works on a new account (concurrency quota 10) -------------------


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_the_chat_lambda_reserves_nothing_by_default_and_the_stage_throttling_caps(name: str) -> None:
    default = plain(example(name).variables["chat_reserved_concurrency"].body)["default"]
    assert default == -1
    assert (
        call_args(example(name), "chat")["reserved_concurrent_executions"]
        == "${var.chat_reserved_concurrency}"
    )
    fd = module_dir("front_door")
    assert plain(fd.variables["throttling_rate_limit"].body)["default"] > 0
    readme = squash((ROOT / f"terraform/examples/{name}/README.md").read_text())
    assert "L-B99A9384" in readme and "throttling" in readme


def test_a_reservation_the_account_cannot_hold_is_refused_at_plan() -> None:
    quota = module_dir("lambda_function").data[("aws_servicequotas_service_quota", "concurrency")].body
    assert plain(quota)["quota_code"] == "L-B99A9384"
    assert plain(quota)["count"] == "${var.reserved_concurrent_executions > 0 ? 1 : 0}"
    conditions = [
        p["condition"]
        for p in body("lambda_function", "aws_lambda_function", "this")["lifecycle"][0]["precondition"]
    ]
    assert any("servicequotas_service_quota.concurrency" in c and ">= 100" in c for c in conditions)


# --- issue 21: the first user gets the groups the default tool policy names -----------------------


def _policy_groups() -> set[str]:
    text = (ROOT / "src/agentarch/agent/policies/tools.cedar").read_text(encoding="utf-8")
    return set(re.findall(r'Agentarch::Group::"([^"]+)"', text))


def test_the_identity_module_creates_every_group_the_default_policy_names() -> None:
    groups = plain(module_dir("identity").variables["groups"].body)["default"]
    assert _policy_groups() and _policy_groups() <= set(groups)


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_the_readme_puts_the_first_user_in_the_policys_groups(name: str) -> None:
    readme = (ROOT / f"terraform/examples/{name}/README.md").read_text(encoding="utf-8")
    loop = re.search(r"for GROUP in ([^;]+);", readme)
    assert loop and "admin-add-user-to-group" in readme
    assert _policy_groups() <= set(loop.group(1).split())


# --- issue 21: the audit admin group exists only where an audit route does ------------------------


def test_the_audit_admin_group_is_created_only_when_named() -> None:
    identity = module_dir("identity")
    group = plain(identity.resources[("aws_cognito_user_group", "audit_admins")].body)
    assert group["count"] == "${var.audit_admin_group == null ? 0 : 1}"
    assert plain(identity.variables["audit_admin_group"].body)["default"] is None
    for name in ("0-direct", "1-passthrough", "2-secure"):
        assert "audit_admin_group" not in call_args(example(name), "identity"), name
    assert call_args(example("3-full"), "identity")["audit_admin_group"] == "audit-admins"
    assert call_args(example("3-full"), "audit")["environment"]["AUDIT_ADMIN_GROUP"] == (
        "${module.identity.audit_admin_group}"
    )
