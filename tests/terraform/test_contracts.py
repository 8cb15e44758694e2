"""HCL ↔ Python contracts: env var names, handler paths, IAM actions, routes, scope, timeouts, tables.

The Terraform and the Python code are written by different people at different times; these tests
fail the moment one side changes a name the other relies on.
"""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pytest
from pydantic import BaseModel

from agentarch import config
from agentarch.config import Env
from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.hcl import plain
from agentarch.dev.lint.model import Tree, load_tree
from agentarch.dev.lint.rules import run_rules
from agentarch.dev.packaging.registry import FUNCTIONS
from tests.terraform import code_contracts
from tests.terraform.code_contracts import boto3_actions, library_actions, source_actions
from tests.terraform.conftest import EXAMPLE_NAMES, EXAMPLES, call_args, example, module_dir, resolve

ENV_NAMES = {e.value for e in Env}
LAMBDA_SETTINGS: dict[str, tuple[type[BaseModel], ...]] = {
    "chat": (config.ChatSettings, config.GovernanceSettings),
    "conversations": (config.HttpSettings, config.StorageSettings),
    "audit": (config.HttpSettings, config.AuditApiSettings),
    "evaluator": (config.EvaluatorSettings,),
}
RUNTIME_SETTINGS = (config.AgentSettings, config.StorageSettings)
HANDLER_MODULES = {
    "chat": "agentarch.handlers.chat",
    "conversations": "agentarch.handlers.conversations",
    "audit": "agentarch.handlers.audit",
    "evaluator": "agentarch.handlers.evaluator",
}
MODEL_ACTIONS = {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
AGENT_ENTRY = "agentarch.agent.app"
TICKETS_ADAPTER = "agentarch.adapters.aws_tickets"  # the agent's create_ticket tool writes through it
# Set by the agent_runtime module from its own variables, never through environment_variables.
MODULE_RUNTIME_ENV = {
    "AWS_REGION",
    "POLICY_MODE",
    "POLICY_DIR",
    "AGENT_INBOUND_AUTH",
    "AGENT_JWT_DISCOVERY_URL",
    "AGENT_JWT_ALLOWED_CLIENTS",
}
CHECKED_PREFIXES = ("dynamodb:", "bedrock-agentcore:", "bedrock:", "kms:")
MEMORY_KEY_ACTIONS = {"kms:Decrypt", "kms:GenerateDataKey"}  # only with memory_kms_key_arn

# What the brief for each function says it receives, per example (pattern 3 adds storage).
EXPECTED_CHAT_ENV = {
    "AGENT_RUNTIME_ARN",
    "AGENT_RUNTIME_QUALIFIER",
    "AGENT_CONNECT_TIMEOUT_SECONDS",
    "AGENT_READ_TIMEOUT_SECONDS",
    "AGENT_MAX_ATTEMPTS",
    "AGENT_TOTAL_TIMEOUT_SECONDS",
    "ALLOWED_ORIGINS",
    "MAX_BODY_BYTES",
    # per-user quotas and idempotent retries, in every pattern with a chat Lambda
    "GOVERNANCE_BACKEND",
    "QUOTAS_TABLE",
    "IDEMPOTENCY_TABLE",
    "CHAT_QUOTAS",
}
EXPECTED_STORAGE_ENV = {  # no HISTORY_TURNS: only the agent reloads history
    "STORAGE_BACKEND",
    "CONVERSATIONS_TABLE",
    "MEMORY_ID",
    "CONVERSATION_EXPIRY_DAYS",
    "AUDIT_TABLE",  # turn records; no AUDIT_KEY_ID: a turn record digests nothing
    "AUDIT_RETENTION_DAYS",
    "LOCKS_TABLE",  # the kill switch, read before each new turn
}
EXPECTED_AUDIT_ENV = {
    "ALLOWED_ORIGINS",
    "MAX_BODY_BYTES",
    "STORAGE_BACKEND",
    "AUDIT_TABLE",
    "AUDIT_ADMIN_GROUP",
    "LOCKS_TABLE",  # the kill switch's routes
    "AGENT_RUNTIME_ARN",  # a new lock stops the scope's sessions in flight (StopRuntimeSession)
    "NOTARY_BUCKET",  # the checkpoints, read-only: each session's verification state
    "NOTARY_KEY_ID",  # kms:GetPublicKey, to check their signatures
}
EXPECTED_CONVERSATIONS_ENV = {
    "ALLOWED_ORIGINS",
    "MAX_BODY_BYTES",
    "STORAGE_BACKEND",
    "CONVERSATIONS_TABLE",
    "MEMORY_ID",
    "DELETE_DEADLINE_SECONDS",
}
EXPECTED_RUNTIME_ENV = {"MODEL_PROVIDER", "BEDROCK_MODEL_ID", "BEDROCK_REGION"}
# Pattern 2 keeps the audit trail without conversations: the writers name its backend themselves.
EXPECTED_TRAIL_ONLY_ENV = {"AUDIT_BACKEND", "AUDIT_TABLE", "AUDIT_RETENTION_DAYS", "LOCKS_TABLE"}


def lambda_calls(name: str, behind_front_door: bool = True) -> dict[str, dict[str, Any]]:
    """Module calls of lambda_function in one example, by function role (chat, conversations): the
    front door's (with an execute-api permission), or, with `behind_front_door=False`, every one."""
    cfg = example(name)
    return {
        call: args
        for call, block in cfg.module_calls.items()
        if block.body.get("source") == "../../modules/lambda_function"
        and (
            (args := call_args(cfg, call)).get("api_gateway_execution_arn")
            or args.get("api_gateway_source_arn")
            or not behind_front_door
        )
    }


@lru_cache(maxsize=8)
def evaluated(name: str) -> Tree:
    """One example as `agentarch lint` evaluates it."""
    return load_tree(EXAMPLES / name)


def rule_findings(name: str, *rules: str) -> list[Finding]:
    """What the `agentarch lint` rules `rules` (the checks users run on their own trees) find in one example."""
    return run_rules(evaluated(name), set(rules))


def required_fields(models: tuple[type[BaseModel], ...]) -> set[str]:
    """Env names of settings fields without a default: the function cannot start without them."""
    names = set()
    for model in models:
        for field in model.model_fields.values():
            if field.is_required():
                names.add(str(field.validation_alias))
    return names


# --- environment variables ---------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_env_name_set_in_hcl_is_one_the_python_code_reads(name: str) -> None:
    for call, args in lambda_calls(name).items():
        unknown = {
            k for k in args.get("environment", {}) if k not in ENV_NAMES and not k.startswith("POWERTOOLS_")
        }
        assert unknown == set(), (
            f"{name}: module.{call} sets names agentarch.config.Env does not have: {unknown}"
        )
    runtime_env = call_args(example(name), "runtime").get("environment_variables", {})
    assert set(runtime_env) <= ENV_NAMES, (
        f"{name}: runtime env names not in Env: {set(runtime_env) - ENV_NAMES}"
    )


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_required_setting_is_set(name: str) -> None:
    for call, args in lambda_calls(name).items():
        missing = required_fields(LAMBDA_SETTINGS[call]) - set(args.get("environment", {}))
        assert missing == set(), f"{name}: module.{call} lacks required settings {missing}"
    runtime_env = call_args(example(name), "runtime").get("environment_variables", {})
    assert required_fields(RUNTIME_SETTINGS) - set(runtime_env) == set()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_each_function_gets_exactly_its_environment(name: str) -> None:
    with_storage = name == "3-full"
    calls = lambda_calls(name)
    if "chat" in calls:
        env = {k for k in calls["chat"]["environment"] if not k.startswith("POWERTOOLS_")}
        trail_only = EXPECTED_TRAIL_ONLY_ENV if name == "2-secure" else set()
        assert env == EXPECTED_CHAT_ENV | (EXPECTED_STORAGE_ENV if with_storage else trail_only)
        assert calls["chat"]["environment"]["AGENT_RUNTIME_ARN"] == "${module.runtime.runtime_arn}"
    if "conversations" in calls:
        env = {k for k in calls["conversations"]["environment"] if not k.startswith("POWERTOOLS_")}
        assert env == EXPECTED_CONVERSATIONS_ENV
    if "audit" in calls:
        env = {k for k in calls["audit"]["environment"] if not k.startswith("POWERTOOLS_")}
        assert env == EXPECTED_AUDIT_ENV
    runtime_env = call_args(example(name), "runtime")["environment_variables"]
    expected_runtime = EXPECTED_RUNTIME_ENV | (
        {
            "STORAGE_BACKEND",
            "MEMORY_ID",
            "HISTORY_TURNS",
            "TICKETS_TABLE",
            "CONVERSATIONS_TABLE",  # the session's call counts, counted as each call runs
            "AUDIT_TABLE",
            "AUDIT_RETENTION_DAYS",
            "AUDIT_KEY_ID",
            "LOCKS_TABLE",  # the kill switch, read before each model call and tool call
        }
        if with_storage
        else EXPECTED_TRAIL_ONLY_ENV | {"AUDIT_KEY_ID"}
        if name == "2-secure"
        else set()
    )
    assert set(runtime_env) == expected_runtime
    if with_storage:
        assert runtime_env["TICKETS_TABLE"] == "${module.data.tickets_table_name}"
        for call in ("chat", "conversations"):  # only the agent writes tickets
            assert "TICKETS_TABLE" not in calls[call]["environment"], call
    if with_storage:
        for env in (calls["chat"]["environment"], calls["conversations"]["environment"], runtime_env):
            assert env["STORAGE_BACKEND"] == "aws"


def test_runtime_environment_is_never_an_empty_map() -> None:
    # The provider fails on {}: the module always sets AWS_REGION and POLICY_MODE, so it never is.
    locals_ = module_dir("agent_runtime").locals
    assert plain(locals_["environment_variables"][0]) == (
        "${merge({AWS_REGION = local.region}, var.environment_variables, "
        '{POLICY_MODE = var.policy_mode, AGENT_INBOUND_AUTH = var.jwt_authorizer == null ? "IAM" : "JWT"}, '
        "{for name, value in {POLICY_DIR = var.policy_dir} : name => value if value != null}, "
        "var.jwt_authorizer == null ? {} : {AGENT_JWT_DISCOVERY_URL = var.jwt_authorizer.discovery_url, "
        'AGENT_JWT_ALLOWED_CLIENTS = join(",", var.jwt_authorizer.allowed_clients)})}'
    )
    assert (
        plain(module_dir("agent_runtime").resources[("aws_bedrockagentcore_agent_runtime", "this")].body)[
            "environment_variables"
        ]
        == "${local.environment_variables}"
    )


def test_the_tool_policy_settings_of_the_runtime_module_are_the_ones_the_agent_reads() -> None:
    from agentarch.core.decisions import PolicyMode

    variables = {k: plain(v.body) for k, v in module_dir("agent_runtime").variables.items()}
    agent = config.AgentSettings.model_fields
    # Names the module sets itself are Env names, and a caller cannot override them by hand
    assert MODULE_RUNTIME_ENV <= ENV_NAMES
    (guard,) = variables["environment_variables"]["validation"]
    assert (
        '["POLICY_MODE", "POLICY_DIR", "AGENT_INBOUND_AUTH", "AGENT_JWT_DISCOVERY_URL", "AGENT_JWT_ALLOWED_CLIENTS"]'
        in guard["condition"]
    )
    # policy_mode: the agent's modes and default, validated in the module
    (mode_check,) = variables["policy_mode"]["validation"]
    assert 'contains(["ENFORCE", "LOG_ONLY"], var.policy_mode)' in mode_check["condition"]
    assert {m.value for m in PolicyMode} == {"ENFORCE", "LOG_ONLY"}
    assert variables["policy_mode"]["default"] == agent["policy_mode"].default == PolicyMode.ENFORCE
    # policy_dir: null (unset) is the agent's "packaged default"
    assert variables["policy_dir"]["default"] is None and agent["policy_dir"].default is None
    # JWT inbound auth exactly when the runtime trusts user tokens (patterns 0 and 1)
    assert agent["inbound_auth"].default == "IAM"
    for name in EXAMPLE_NAMES:
        args = call_args(example(name), "runtime")
        assert args["policy_mode"] == "${var.policy_mode}", name
        assert plain(example(name).variables["policy_mode"].body)["default"] == "ENFORCE", name
        assert not MODULE_RUNTIME_ENV & set(args.get("environment_variables", {})), name
        assert ("jwt_authorizer" in args) == (name in ("0-direct", "1-passthrough")), name


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_one_max_body_bytes_value_feeds_waf_and_the_lambdas(name: str) -> None:
    cfg = example(name)
    assert plain(cfg.module_calls["front_door"].body)["max_body_bytes"] == "${local.max_body_bytes}"
    for call, args in lambda_calls(name).items():
        assert args["environment"]["MAX_BODY_BYTES"] == "${tostring(local.max_body_bytes)}", call
    assert plain(cfg.locals["max_body_bytes"][0]) == config.DEFAULT_MAX_BODY_BYTES
    assert (
        plain(module_dir("front_door").variables["max_body_bytes"].body)["default"]
        == config.DEFAULT_MAX_BODY_BYTES
    )


# --- handlers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_each_handler_string_imports(name: str) -> None:
    for call, args in lambda_calls(name).items():
        handler = args["handler"]
        assert handler == f"{HANDLER_MODULES[call]}.lambda_handler"
        module_name, _, function = handler.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            pytest.skip(f"{module_name} is not written yet ({exc})")
        assert callable(getattr(module, function)), handler


def test_lambda_defaults_are_python_3_13_on_arm64() -> None:
    variables = {k: plain(v.body) for k, v in module_dir("lambda_function").variables.items()}
    assert variables["runtime"]["default"] == "python3.13"
    assert variables["architecture"]["default"] == "arm64"
    runtime_vars = {k: plain(v.body) for k, v in module_dir("agent_runtime").variables.items()}
    assert runtime_vars["python_runtime"]["default"] == "PYTHON_3_13"
    assert runtime_vars["entry_point"]["default"] == ["main.py"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_artifacts_are_the_zips_agentarch_build_writes(name: str) -> None:
    cfg = example(name)
    assert (
        plain(cfg.locals["artifacts_dir"][0])
        == '${coalesce(var.artifacts_dir, "${path.root}/../../../lambda_build/dist")}'
    )
    assert call_args(cfg, "runtime")["artifact_path"] == "${local.artifacts_dir}/agent.zip"
    for call, args in lambda_calls(name).items():
        assert args["artifact_path"] == f"${{local.artifacts_dir}}/{call}.zip"
    key = plain(module_dir("agent_runtime").locals["artifact_key"][0])
    assert key == "agent/${var.name}/${filesha256(var.artifact_path)}.zip", (
        "the S3 key must carry the runtime's name and the content hash"
    )


# --- IAM ---------------------------------------------------------------------------------------


def granted_by_lambda(name: str, call: str) -> set[str]:
    statements = lambda_calls(name)[call].get("policy_statements", [])
    return {a for s in statements for a in s["actions"] if a.startswith(CHECKED_PREFIXES)}


def granted_to_runtime(name: str) -> set[str]:
    module = module_dir("agent_runtime")
    literal: set[str] = set()
    for (rtype, _), block in module.data.items():
        if rtype != "aws_iam_policy_document":
            continue
        body = plain(block.body)
        statements = list(body.get("statement", []))
        statements += [d["statement"]["content"][0] for d in body.get("dynamic", []) if "statement" in d]
        for statement in statements:
            actions = statement.get("actions", [])
            if isinstance(actions, list):
                literal.update(a for a in actions if a.startswith(CHECKED_PREFIXES))
    args = call_args(example(name), "runtime")
    if args.get("bedrock_model_id") is None:
        literal -= MODEL_ACTIONS
    if args.get("memory_arn") is None or args.get("memory_kms_key_arn") is None:
        literal -= MEMORY_KEY_ACTIONS
    if args.get("memory_arn") is not None:
        literal.update(args.get("memory_actions", []))
    for statement in args.get("policy_statements", []):
        literal.update(a for a in statement["actions"] if a.startswith(CHECKED_PREFIXES))
    return literal


def test_chat_may_invoke_only_its_runtime() -> None:
    for name in ("2-secure", "3-full"):
        statements = lambda_calls(name)["chat"]["policy_statements"]
        invoke = [s for s in statements if "bedrock-agentcore:InvokeAgentRuntime" in s["actions"]]
        assert len(invoke) == 1
        assert invoke[0]["actions"] == ["bedrock-agentcore:InvokeAgentRuntime"]
        assert invoke[0]["resources"] == [
            "${module.runtime.runtime_arn}",
            "${module.runtime.runtime_arn}/runtime-endpoint/*",
        ]


def test_full_pattern_grants_exactly_the_boto3_calls_the_code_makes() -> None:
    expected = {
        "chat": boto3_actions("agentarch.handlers.chat"),
        "conversations": boto3_actions("agentarch.handlers.conversations"),
        "audit": boto3_actions("agentarch.handlers.audit"),
    }
    for call, derived in expected.items():
        granted = granted_by_lambda("3-full", call)
        assert granted == derived, (
            f"module.{call}: grant {sorted(derived - granted)}, remove {sorted(granted - derived)}"
        )
    derived_runtime = boto3_actions(AGENT_ENTRY) | MODEL_ACTIONS
    granted_runtime = granted_to_runtime("3-full")
    assert granted_runtime == derived_runtime, (
        f"runtime: grant {sorted(derived_runtime - granted_runtime)}, remove {sorted(granted_runtime - derived_runtime)}"
    )


QUOTA_ACTIONS = source_actions(code_contracts.module_path("agentarch.adapters.aws_quotas"), "dynamodb")  # type: ignore[arg-type]
IDEMPOTENCY_ACTIONS = library_actions("aws_lambda_powertools.utilities.idempotency.DynamoDBPersistenceLayer")


def audit_table_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if any("module.audit_trail.table_arn" in r for r in s["resources"])]


def test_the_audit_table_is_append_only_for_every_role() -> None:
    cfg = example("3-full")
    roles = {call: args.get("policy_statements", []) for call, args in lambda_calls("3-full").items()}
    roles["runtime"] = call_args(cfg, "runtime")["policy_statements"]
    granted: dict[str, set[str]] = {}
    for role, statements in roles.items():
        for statement in audit_table_statements(statements):
            actions = set(statement["actions"])
            granted[role] = granted.get(role, set()) | actions
            assert actions <= {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan"}, (
                f"{role}: {sorted(actions)} on the audit table"
            )
            if "dynamodb:PutItem" in actions:
                assert actions == {"dynamodb:PutItem"}
                assert statement.get("conditions") == "${module.audit_trail.put_conditions}"
    assert granted == {
        "chat": {"dynamodb:PutItem", "dynamodb:Query"},  # turn records
        "runtime": {"dynamodb:PutItem", "dynamodb:Query"},  # tool-call records
        "audit": {
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:Scan",
        },  # GET /api/audit, its verification state; lock and unlock records
    }
    conditions = plain(module_dir("audit").outputs["put_conditions"].body)["value"]
    attributes = next(c for c in conditions if c["variable"] == "dynamodb:Attributes")
    adapter = importlib.import_module("agentarch.adapters.aws_audit")
    assert attributes["test"] == "ForAllValues:StringEquals"
    assert plain(module_dir("audit").locals["item_attributes"][0]) == [
        *adapter.ITEM_ATTRIBUTES[:-1],
        "${local.expiry_attribute}",
    ]
    writer_code = boto3_actions("agentarch.handlers.chat") | boto3_actions(AGENT_ENTRY)
    assert not writer_code & {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} - (
        boto3_actions("agentarch.adapters.aws_conversations")
    ), "the audit adapter must never update or delete"
    assert not boto3_actions("agentarch.adapters.aws_audit") & {
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }


def test_audit_table_matches_the_dynamodb_adapter() -> None:
    table = plain(module_dir("audit").resources[("aws_dynamodb_table", "audit")].body)
    adapter = importlib.import_module("agentarch.adapters.aws_audit")
    assert (table["hash_key"], table["range_key"]) == ("session_id", "seq")
    assert {a["name"]: a["type"] for a in table["attribute"]} == {
        "session_id": "S",
        "seq": "N",
        "actor_id": "S",
        "recorded_at": "S",
        "day": "S",
    }
    indexes = {
        g["name"]: (g["hash_key"], g["range_key"], g["projection_type"])
        for g in table["global_secondary_index"]
    }
    locals_ = module_dir("audit").locals
    assert plain(locals_["by_actor_index"][0]) == adapter.BY_ACTOR_INDEX
    assert plain(locals_["by_day_index"][0]) == adapter.BY_DAY_INDEX
    assert indexes == {
        "${local.by_actor_index}": ("actor_id", "recorded_at", "ALL"),
        "${local.by_day_index}": ("day", "recorded_at", "ALL"),
    }
    assert plain(locals_["expiry_attribute"][0]) == adapter.EXPIRY_ATTRIBUTE
    assert table["ttl"][0]["attribute_name"] == "${local.expiry_attribute}"
    assert table["point_in_time_recovery"][0]["enabled"] == "${var.point_in_time_recovery}"


def test_the_audit_lambda_reads_the_admin_group_cognito_creates() -> None:
    env = lambda_calls("3-full")["audit"]["environment"]
    assert env["AUDIT_ADMIN_GROUP"] == "${module.identity.audit_admin_group}"
    group = plain(module_dir("identity").resources[("aws_cognito_user_group", "audit_admins")].body)
    assert group["name"] == "${var.audit_admin_group}"
    named = call_args(example("3-full"), "identity")[
        "audit_admin_group"
    ]  # the module creates none unless named
    assert named == config.AuditApiSettings.model_fields["audit_admin_group"].default


# What a reader of the kill switch calls (`LockGate` → `DynamoLockStore.get_many`); writing and listing
# locks is the audit Lambda's or an admin's.
LOCK_READ_ACTIONS = {"dynamodb:BatchGetItem"}


@pytest.mark.parametrize("name", ["0-direct", "1-passthrough", "2-secure"])
def test_patterns_without_storage_grant_no_more_than_the_code_needs(name: str) -> None:
    """Patterns 0 and 1 grant the model only; pattern 2 adds its quotas, its audit trail and the
    kill switch's read."""
    if name == "2-secure":  # and the audit trail's append (PutItem) and chain head (Query)
        locks_adapter = code_contracts.module_path("agentarch.adapters.aws_locks")
        assert locks_adapter is not None and source_actions(locks_adapter, "dynamodb") >= LOCK_READ_ACTIONS
        assert granted_by_lambda(name, "chat") == {
            "bedrock-agentcore:InvokeAgentRuntime",
            *QUOTA_ACTIONS,
            *IDEMPOTENCY_ACTIONS,
            "dynamodb:PutItem",
            "dynamodb:Query",
            *LOCK_READ_ACTIONS,
        }
        assert granted_to_runtime(name) == MODEL_ACTIONS | LOCK_READ_ACTIONS | {
            "dynamodb:PutItem",
            "dynamodb:Query",
            "kms:GenerateMac",
        }
        return
    assert granted_to_runtime(name) == MODEL_ACTIONS


@pytest.mark.parametrize(
    ("name", "table"), [("2-secure", "kill_switch.table"), ("3-full", "data.locks_table")]
)
def test_the_chat_lambda_and_the_runtime_only_read_the_locks_table(name: str, table: str) -> None:
    """The kill switch in the patterns with a chat Lambda: both readers get LOCKS_TABLE and BatchGetItem
    on that one table, nothing more (pattern 2 has no audit Lambda: an admin's CLI writes it)."""
    arn, table_name = f"${{module.{table}_arn}}", f"${{module.{table}_name}}"
    runtime = call_args(example(name), "runtime")
    readers = {"chat": lambda_calls(name)["chat"], "runtime": runtime}
    for reader, args in readers.items():
        env = args.get("environment") or args["environment_variables"]
        assert env["LOCKS_TABLE"] == table_name, reader
        on_locks = [s for s in args["policy_statements"] if arn in s["resources"]]
        assert [(s["actions"], s["resources"]) for s in on_locks] == [(sorted(LOCK_READ_ACTIONS), [arn])], (
            reader
        )


def test_the_runtime_writes_tickets_only_to_the_tickets_table_and_no_lambda_does() -> None:
    statements = call_args(example("3-full"), "runtime")["policy_statements"]
    tickets = [s for s in statements if "${module.data.tickets_table_arn}" in s["resources"]]
    assert tickets == [
        {
            "sid": "Tickets",
            "actions": sorted(boto3_actions(TICKETS_ADAPTER)),
            "resources": ["${module.data.tickets_table_arn}"],
        }
    ]
    assert tickets[0]["actions"] == ["dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"]
    for call in ("chat", "conversations"):
        for statement in lambda_calls("3-full")[call]["policy_statements"]:
            assert "${module.data.tickets_table_arn}" not in statement["resources"], call


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_quota_and_idempotency_tables_get_exactly_their_callers_actions(name: str) -> None:
    statements = {s["sid"]: s for s in lambda_calls(name)["chat"]["policy_statements"]}

    assert (
        set(statements["QuotaCounters"]["actions"])
        == QUOTA_ACTIONS
        == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    )
    assert statements["QuotaCounters"]["resources"] == ["${module.limits.quotas_table_arn}"]
    assert set(statements["IdempotencyRecords"]["actions"]) == IDEMPOTENCY_ACTIONS
    assert statements["IdempotencyRecords"]["resources"] == ["${module.limits.idempotency_table_arn}"]
    assert {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"} <= IDEMPOTENCY_ACTIONS


def test_model_permissions_are_scoped_to_the_model_and_its_inference_profile() -> None:
    statements = [
        d["statement"]["content"][0]
        for d in plain(module_dir("agent_runtime").data[("aws_iam_policy_document", "runtime")].body)[
            "dynamic"
        ]
    ]
    model = next(s for s in statements if s["sid"] == "InvokeModel")
    assert model["resources"] == "${local.model_arns}"
    arns = plain(module_dir("agent_runtime").locals["model_arns"][0])
    assert (
        "inference-profile/${var.bedrock_model_id}" in arns
        and "foundation-model/${local.base_model_id}" in arns
    )


# --- routes, scope, auth -----------------------------------------------------------------------


def resolver_routes(module_name: str) -> set[tuple[str, str]]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        pytest.skip(f"{module_name} is not written yet ({exc})")
    paths = module.app.get_openapi_schema().paths or {}
    routes = set()
    for path, item in paths.items():
        for method in ("get", "post", "put", "patch", "delete"):
            if getattr(item, method, None) is not None:
                routes.add((method.upper(), path))
    return routes


def front_door_routes(name: str) -> dict[str, set[tuple[str, str]]]:
    """Routes of an example's front door, grouped by the function they reach."""
    routes = call_args(example(name), "front_door")["routes"]
    grouped: dict[str, set[tuple[str, str]]] = {}
    for route in routes.values():
        target = route.get("lambda_invoke_arn") or route.get("http_uri")
        match = re.match(r"^\$\{module\.(\w+)\.(invoke_arn|invocation_url)\}$", target)
        assert match, target
        grouped.setdefault(match.group(1), set()).add((route["method"], route["path"]))
    return grouped


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_front_door_routes_match_the_resolvers(name: str) -> None:
    grouped = front_door_routes(name)
    assert set(grouped) == set(lambda_calls(name))
    for function, routes in grouped.items():
        assert routes == resolver_routes(HANDLER_MODULES[function]), f"{name}: {function}"
        assert routes == set(FUNCTIONS[function].routes), f"{name}: {function} (the registry)"


def test_passthrough_forwards_post_api_chat_and_the_token_to_the_runtime() -> None:
    assert front_door_routes("1-passthrough") == {"runtime": {("POST", "/api/chat")}}
    route = call_args(example("1-passthrough"), "front_door")["routes"]["chat"]
    assert route["integration"] == "http"
    # the page's {"message", "session_id"} becomes the runtime's {"prompt", "session_id"}
    assert "\"prompt\": $input.json('$.message')" in route["request_template"]
    integration = plain(module_dir("front_door").resources[("aws_api_gateway_integration", "route")].body)
    assert (
        '"integration.request.header.Authorization" = "method.request.header.Authorization"'
        in (integration["request_parameters"])
    )


def test_api_scope_is_the_one_the_python_code_expects() -> None:
    variables = {k: plain(v.body) for k, v in module_dir("identity").variables.items()}
    scope = f"{variables['resource_server_identifier']['default']}/{variables['api_scope_name']['default']}"
    assert scope == config.API_SCOPE
    for name in ("1-passthrough", "2-secure", "3-full"):
        assert call_args(example(name), "front_door")["authorization_scopes"] == [
            "${module.identity.api_scope}"
        ]


def test_every_api_method_requires_the_authorizer_and_the_scope_and_options_does_not() -> None:
    for name in ("1-passthrough", "2-secure", "3-full"):
        assert rule_findings(name, "method-without-authorizer", "authorizer-without-scopes") == [], name
    resources = module_dir("front_door").resources
    route = plain(resources[("aws_api_gateway_method", "route")].body)
    assert route["authorization"] == "${each.value.authorization}"
    routes_type = plain(module_dir("front_door").variables["routes"].body)["type"]
    assert 'authorization = optional(string, "COGNITO_USER_POOLS")' in " ".join(routes_type.split())
    assert (
        "coalesce(each.value.authorization_scopes, var.authorization_scopes)" in route["authorization_scopes"]
    )
    for name in ("1-passthrough", "2-secure", "3-full"):
        for route_args in call_args(example(name), "front_door")["routes"].values():
            assert "authorization" not in route_args and "authorization_scopes" not in route_args, name
    options = plain(resources[("aws_api_gateway_method", "options")].body)
    assert options["authorization"] == "NONE" and options["http_method"] == "OPTIONS"


@pytest.mark.parametrize("name", ["0-direct", "1-passthrough"])
def test_insecure_patterns_trust_access_tokens_of_the_web_client(name: str) -> None:
    authorizer = call_args(example(name), "runtime")["jwt_authorizer"]
    assert authorizer == {
        "discovery_url": "${module.identity.discovery_url}",
        "allowed_clients": ["${module.identity.client_id}"],
    }


@pytest.mark.parametrize(("name", "rule"), [("0-direct", "no-front-door"), ("1-passthrough", "bypass-gap")])
def test_insecure_patterns_are_the_ones_the_lint_rules_flag(name: str, rule: str) -> None:
    assert [f.rule for f in rule_findings(name, "bypass-gap", "no-front-door")] == [rule]


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_secure_patterns_use_iam_auth_on_the_runtime(name: str) -> None:
    assert "jwt_authorizer" not in call_args(example(name), "runtime")
    assert rule_findings(name, "bypass-gap", "no-front-door") == []


# --- timeouts ----------------------------------------------------------------------------------


def timeout_defaults() -> dict[str, float]:
    """Defaults of the timeout_chain module's variables."""
    return {k: float(plain(v.body)["default"]) for k, v in module_dir("timeout_chain").variables.items()}


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_timeout_chain_defaults_match_the_python_defaults_and_hold(name: str) -> None:
    defaults = timeout_defaults()
    fields = config.ChatSettings.model_fields
    assert defaults["agent_read_seconds"] == fields["agent_read_timeout_seconds"].default
    assert defaults["agent_connect_seconds"] == fields["agent_connect_timeout_seconds"].default
    assert defaults["agent_max_attempts"] == fields["agent_max_attempts"].default
    assert defaults["agent_total_seconds"] == fields["agent_total_timeout_seconds"].default
    assert defaults["api_integration_ms"] == 29000
    assert rule_findings(name, "timeout-chain") == []  # integration > Lambda > the agent call's deadline
    conditions = " ".join(
        p["condition"]
        for o in module_dir("timeout_chain").outputs.values()
        for p in plain(o.body).get("precondition", [])
    )
    assert "var.api_integration_ms > var.lambda_seconds * 1000" in conditions
    cfg = example(name)
    assert plain(cfg.module_calls["timeouts"].body)["source"] == "../../modules/timeout_chain"
    args = call_args(cfg, "chat")
    assert args["timeout_seconds"] == "${module.timeouts.chat_lambda_seconds}"
    # streamed answers: the stream's own timeout above the streaming Lambda's, which is above the agent's
    assert "var.stream_integration_ms > var.stream_lambda_seconds * 1000" in conditions
    assert "var.stream_lambda_seconds >= var.agent_total_seconds + local.answer_margin_seconds" in conditions
    assert call_args(cfg, "front_door")["stream_timeout_ms"] == "${module.timeouts.stream_integration_ms}"
    assert plain(cfg.module_calls["timeouts"].body)["streaming"] == "${var.chat_streaming}"
    env = args["environment"]
    assert env["AGENT_TOTAL_TIMEOUT_SECONDS"] == "${tostring(module.timeouts.agent_total_seconds)}"
    assert env["AGENT_CONNECT_TIMEOUT_SECONDS"] == "${tostring(module.timeouts.agent_connect_seconds)}"
    assert env["AGENT_READ_TIMEOUT_SECONDS"] == "${tostring(module.timeouts.agent_read_seconds)}"
    assert env["AGENT_MAX_ATTEMPTS"] == "${tostring(module.timeouts.agent_max_attempts)}"
    assert call_args(cfg, "front_door")["integration_timeout_ms"] == "${module.timeouts.api_integration_ms}"


# --- data and names ----------------------------------------------------------------------------


def test_conversation_table_matches_the_dynamodb_adapter() -> None:
    table = plain(module_dir("data").resources[("aws_dynamodb_table", "conversations")].body)
    assert table["hash_key"] == "session_id"
    assert {a["name"]: a["type"] for a in table["attribute"]} == {
        "session_id": "S",
        "actor_id": "S",
        "updated_at": "S",
        "sweep": "S",
        "deleted_at": "S",
    }
    gsi, sweep = table["global_secondary_index"]
    assert (gsi["hash_key"], gsi["range_key"], gsi["projection_type"]) == ("actor_id", "updated_at", "ALL")
    assert (sweep["hash_key"], sweep["range_key"], sweep["projection_type"]) == (
        "sweep",
        "deleted_at",
        "INCLUDE",
    )
    assert sweep["non_key_attributes"] == ["actor_id"]  # what the sweep reads besides the keys
    index_name = plain(module_dir("data").locals["conversations_index"][0])
    sweep_name = plain(module_dir("data").locals["sweep_index"][0])
    try:
        adapter = importlib.import_module("agentarch.adapters.aws_conversations")
    except ModuleNotFoundError:
        pytest.skip("the DynamoDB adapter is not written yet")
    assert index_name == adapter.BY_ACTOR_INDEX
    assert sweep_name == adapter.BY_SWEEP_INDEX
    assert table["point_in_time_recovery"][0]["enabled"] == "${var.point_in_time_recovery}"


def test_tickets_table_is_the_one_the_dynamodb_adapter_writes(aws_credentials: None) -> None:
    import boto3
    from moto import mock_aws

    from agentarch.adapters.aws_tickets import DynamoTicketStore
    from agentarch.services.tickets import Ticket

    table = plain(module_dir("data").resources[("aws_dynamodb_table", "tickets")].body)
    conversations = plain(module_dir("data").resources[("aws_dynamodb_table", "conversations")].body)
    # Protected as the conversation index is: PITR, encryption, deletion protection
    for setting in ("point_in_time_recovery", "server_side_encryption", "deletion_protection_enabled"):
        assert table[setting] == conversations[setting], setting
    assert table["name"] == "${var.name}-tickets"

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(  # the table exactly as the HCL declares it
            TableName="tickets",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attribute"]
            ],
            KeySchema=[{"AttributeName": table["hash_key"], "KeyType": "HASH"}],
        )
        store = DynamoTicketStore("tickets", client=client)
        mine = {"ticket_id": "t-1", "actor_id": "alice", "session_id": "s" * 40}
        first = Ticket(
            **mine,
            title="VPN down",
            severity="high",
            body="since 9am",
            created_at=datetime(2026, 11, 26, tzinfo=UTC),
        )
        replay = Ticket(
            **mine, title="other", severity="low", body="again", created_at=datetime(2026, 11, 27, tzinfo=UTC)
        )

        # A ticket is created once; a replay of the same id finds it instead of writing another
        assert store.create_once(first) == (first, True)
        assert store.create_once(replay) == (first, False)
        assert client.scan(TableName="tickets")["Count"] == 1


def test_quota_and_idempotency_tables_match_their_adapters() -> None:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from agentarch.adapters import aws_quotas

    tables = module_dir("spend_limits").resources
    quotas = plain(tables[("aws_dynamodb_table", "quotas")].body)
    idempotency = plain(tables[("aws_dynamodb_table", "idempotency")].body)
    powertools = DynamoDBPersistenceLayer(table_name="t", boto3_client=object())  # type: ignore[arg-type]

    assert quotas["hash_key"] == "id" and list(aws_quotas.counter_key("a", "2026-01-01")) == ["id"]
    assert (
        plain(module_dir("spend_limits").locals["quotas_expiry_attribute"][0]) == aws_quotas.EXPIRY_ATTRIBUTE
    )
    assert quotas["ttl"][0]["attribute_name"] == "${local.quotas_expiry_attribute}"
    assert idempotency["hash_key"] == powertools.key_attr
    assert [a["name"] for a in idempotency["attribute"]] == [powertools.key_attr]
    assert (
        plain(module_dir("spend_limits").locals["idempotency_expiry_attribute"][0]) == powertools.expiry_attr
    )
    for table in (quotas, idempotency):
        assert table["point_in_time_recovery"][0]["enabled"] == "${var.point_in_time_recovery}"
        assert table["server_side_encryption"][0]["kms_key_arn"] == "${var.kms_key_arn}"


@pytest.mark.parametrize("name", ["2-secure", "3-full"])
def test_the_chat_lambda_reservation_is_a_variable_and_lint_warns_while_it_is_off(name: str) -> None:
    """Off by default (a new account cannot reserve any, issue 21): lint keeps saying so, as a warning."""
    chat = lambda_calls(name)["chat"]
    assert chat["reserved_concurrent_executions"] == "${var.chat_reserved_concurrency}"
    found = rule_findings(name, "no-reserved-concurrency")
    assert found and {f.severity for f in found} == {"warning"}


@pytest.mark.parametrize("module", ["agent_runtime", "agent_memory"])
def test_agentcore_names_refuse_hyphens(module: str) -> None:
    (validation,) = plain(module_dir(module).variables["name"].body)["validation"]
    assert "^[a-zA-Z][a-zA-Z0-9_]{0,47}$" in validation["condition"]
    pattern = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,47}$")
    for name in EXAMPLE_NAMES:
        default = plain(example(name).variables["name"].body)["default"]
        assert pattern.match(default.replace("-", "_") + "_memory"), default


# --- what the web page reads -------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_outputs_the_web_config_the_page_reads(name: str) -> None:
    from agentarch.dev.cli.web_config import COGNITO_KEYS, OUTPUT_NAME

    value = resolve(example(name), plain(example(name).outputs[OUTPUT_NAME].body)["value"])
    assert set(value) == {"pattern", "api_url", "runtime_url", "runtime_arn", "cognito"}
    assert value["pattern"] == int(name[0])
    assert set(value["cognito"]) == set(COGNITO_KEYS)
    if name == "0-direct":
        assert value["api_url"] is None
        # the full invocation URL, as the example's `runtime_url` output and the local stack give it
        assert (
            value["runtime_url"]
            == "${module.runtime.invocation_url}"
            == plain(example(name).outputs["runtime_url"].body)["value"]
        )
        assert value["runtime_arn"] == "${module.runtime.runtime_arn}"
    else:
        # the page calls <api_url>/chat and <api_url>/conversations; the routes live under /api
        assert value["api_url"] == "${module.front_door.api_url}/api"
        assert value["runtime_url"] is None and value["runtime_arn"] is None
