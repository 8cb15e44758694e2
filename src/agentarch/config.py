"""Every environment variable the Lambdas and the agent read, and the settings models that read them.

This module is the one place that names environment variables. Terraform sets the same names
(a contract test compares them), and the local stack sets them for its own processes.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agentarch.core.decisions import PolicyMode
from agentarch.services.quotas import DEFAULT_POLICY, QuotaPolicy


class Env(StrEnum):
    """Environment variable names, grouped by who reads them."""

    # --- chat Lambda: how it reaches the agent runtime ---
    AGENT_RUNTIME_ARN = "AGENT_RUNTIME_ARN"
    AGENT_RUNTIME_QUALIFIER = "AGENT_RUNTIME_QUALIFIER"
    AGENTCORE_ENDPOINT_URL = "AGENTCORE_ENDPOINT_URL"  # unset on AWS; the local runtime endpoint locally
    AGENT_CONNECT_TIMEOUT_SECONDS = "AGENT_CONNECT_TIMEOUT_SECONDS"
    AGENT_READ_TIMEOUT_SECONDS = "AGENT_READ_TIMEOUT_SECONDS"
    AGENT_MAX_ATTEMPTS = "AGENT_MAX_ATTEMPTS"
    AGENT_TOTAL_TIMEOUT_SECONDS = "AGENT_TOTAL_TIMEOUT_SECONDS"  # one deadline for every attempt together

    # --- every HTTP Lambda ---
    ALLOWED_ORIGINS = "ALLOWED_ORIGINS"  # comma separated; the first is the CORS default origin
    MAX_BODY_BYTES = "MAX_BODY_BYTES"

    # --- storage (chat + conversations Lambdas, the agent) ---
    STORAGE_BACKEND = "STORAGE_BACKEND"  # unset (none), "aws" (DynamoDB + AgentCore Memory), "sqlite" (local)
    SQLITE_PATH = "SQLITE_PATH"
    CONVERSATIONS_TABLE = "CONVERSATIONS_TABLE"
    TICKETS_TABLE = "TICKETS_TABLE"  # the agent's create_ticket tool writes here
    LOCKS_TABLE = "LOCKS_TABLE"  # the kill switch (beside the audit trail): read before every turn and step
    MEMORY_ID = "MEMORY_ID"
    HISTORY_TURNS = "HISTORY_TURNS"
    CONVERSATION_EXPIRY_DAYS = "CONVERSATION_EXPIRY_DAYS"  # = Memory's event expiry: the index item's TTL
    DELETE_DEADLINE_SECONDS = "DELETE_DEADLINE_SECONDS"  # how long one DELETE may spend removing events

    # --- chat Lambda: per-user quotas and idempotent retries ---
    GOVERNANCE_BACKEND = "GOVERNANCE_BACKEND"  # "aws" (DynamoDB) or "sqlite" (local, at SQLITE_PATH)
    QUOTAS_TABLE = "QUOTAS_TABLE"
    IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
    CHAT_QUOTAS = "CHAT_QUOTAS"  # JSON: {"default": {limits}, "groups": {"<group>": {limits}}}
    # Model tokens one turn may spend: the quota reserves it at admission, the agent stops there.
    TURN_TOKEN_BUDGET = "TURN_TOKEN_BUDGET"  # noqa: S105 - a setting's name, not a secret
    # The runaway breaker (the agent): tool calls one turn may make, tool calls one session may make
    # (every turn together), and the wall time of one turn. Reaching one ends the turn with a sentence.
    TURN_MAX_TOOL_CALLS = "TURN_MAX_TOOL_CALLS"
    SESSION_MAX_TOOL_CALLS = "SESSION_MAX_TOOL_CALLS"
    TURN_MAX_SECONDS = "TURN_MAX_SECONDS"
    # ... and of one session (every turn together, as the conversation index counts them): model
    # tokens and the agent's wall time. Only where a conversation is stored (pattern 3, the local stack).
    SESSION_MAX_TOKENS = "SESSION_MAX_TOKENS"
    SESSION_MAX_SECONDS = "SESSION_MAX_SECONDS"
    TURN_OUTPUT_MAX_CHARS = "TURN_OUTPUT_MAX_CHARS"
    # --- the audit trail (chat Lambda and agent write, the audit Lambda reads) ---
    # Where the trail lives when the pattern keeps no conversations (pattern 2): "aws" or "sqlite";
    # unset, the trail follows STORAGE_BACKEND (pattern 3).
    AUDIT_BACKEND = "AUDIT_BACKEND"
    AUDIT_TABLE = "AUDIT_TABLE"  # DynamoDB table (STORAGE_BACKEND=aws); locally the SQLite file holds it
    AUDIT_RETENTION_DAYS = "AUDIT_RETENTION_DAYS"  # TTL of a session's records, from its first one
    AUDIT_KEY_ID = "AUDIT_KEY_ID"  # KMS HMAC key (GenerateMac) for argument digests: the agent, in AWS
    AUDIT_KEY_FILE = "AUDIT_KEY_FILE"  # the local stack's HMAC key file (0600, made when missing)
    AUDIT_ADMIN_GROUP = "AUDIT_ADMIN_GROUP"  # the Cognito group whose members may read the trail
    # --- the notary (its own Lambda and role; the audit reader reads its checkpoints; no writer does) ---
    NOTARY_KEY_ID = "NOTARY_KEY_ID"  # KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) that signs checkpoints
    NOTARY_BUCKET = "NOTARY_BUCKET"  # the Object Lock bucket of the signed checkpoints
    NOTARY_DIR = (
        "NOTARY_DIR"  # the local notary's directory (public key, checkpoints): the local audit Lambda's
    )

    # --- the agent (runtime) ---
    MODEL_PROVIDER = "MODEL_PROVIDER"  # "bedrock" or "offline"
    OFFLINE_MODEL_LATENCY_SECONDS = (
        "OFFLINE_MODEL_LATENCY_SECONDS"  # make the offline model as slow as a real one
    )
    BEDROCK_MODEL_ID = "BEDROCK_MODEL_ID"
    BEDROCK_REGION = "BEDROCK_REGION"
    AGENT_TELEMETRY = "AGENT_TELEMETRY"  # "on" (default): OpenInference spans of every turn; "off"
    JUDGE_MODEL_ID = "JUDGE_MODEL_ID"
    # The evaluator Lambda (online evaluations): tools that must only run once approved (comma-separated;
    # any tool seen waiting for approval counts too) and the budget of one turn.
    EVALUATOR_CONSEQUENTIAL_TOOLS = "EVALUATOR_CONSEQUENTIAL_TOOLS"
    EVALUATOR_TOKENS_PER_TURN = "EVALUATOR_TOKENS_PER_TURN"
    EVALUATOR_LATENCY_MS_PER_TURN = (
        "EVALUATOR_LATENCY_MS_PER_TURN"  # the Bedrock model the LLM-judge evaluators ask (`agentarch eval`)
    )
    # The eval scopes trigger (Cognito pre token generation, V2 event): the dedicated evaluation app
    # client whose access tokens get the API's scopes, and those scopes (space-separated).
    EVAL_CLIENT_ID = "EVAL_CLIENT_ID"
    EVAL_CLIENT_SCOPES = "EVAL_CLIENT_SCOPES"
    WEATHER_API_URL = "WEATHER_API_URL"
    WEATHER_TIMEOUT_SECONDS = "WEATHER_TIMEOUT_SECONDS"
    POLICY_MODE = "POLICY_MODE"  # ENFORCE (default) or LOG_ONLY: tool policy decisions recorded, not applied
    POLICY_DIR = "POLICY_DIR"  # a folder of Cedar policies + schema; unset: the packaged default
    # IAM (default): the caller is the chat Lambda and the payload's actor is trusted. JWT (patterns 0
    # and 1): a browser calls the runtime, so the payload names nobody the agent can trust.
    AGENT_INBOUND_AUTH = "AGENT_INBOUND_AUTH"
    # With JWT inbound auth, the runtime's authorizer (its discovery URL and allowed clients, as
    # Terraform's jwt_authorizer): the agent verifies the forwarded token again and takes the user from it.
    AGENT_JWT_DISCOVERY_URL = "AGENT_JWT_DISCOVERY_URL"
    AGENT_JWT_ALLOWED_CLIENTS = "AGENT_JWT_ALLOWED_CLIENTS"  # comma-separated app client ids

    # --- AWS standard (set by Lambda and AgentCore themselves) ---
    AWS_REGION = "AWS_REGION"
    AWS_DATA_PATH = "AWS_DATA_PATH"  # botocore reads the API descriptions shipped in a Lambda zip first

    # --- the local stack CLI ---
    STATE_DIR = "AGENTARCH_STATE_DIR"


# Defaults shared by the Python code, the local stack and Terraform's variables.
DEFAULT_MAX_BODY_BYTES = 32 * 1024
DEFAULT_DELETE_DEADLINE_SECONDS = 7.0  # a 10 s conversations Lambda minus room to answer
MESSAGE_MAX_CHARS = 4000
DEFAULT_TURN_TOKEN_BUDGET = 20_000  # a few tool calls with history; a turn's reservation of the daily quota
DEFAULT_TURN_MAX_TOOL_CALLS = 12  # more than any task of the eval suites needs
DEFAULT_SESSION_MAX_TOOL_CALLS = 200
DEFAULT_TURN_MAX_SECONDS = 120.0  # above the chat Lambda's deadline: a backstop for patterns 0 and 1
DEFAULT_SESSION_MAX_TOKENS = 2_000_000  # five default days of one user's quota, in one conversation
DEFAULT_SESSION_MAX_SECONDS = 3600.0  # an hour of the agent's time: hundreds of ordinary turns
API_SCOPE = "agentarch-api/chat"  # resource server identifier / scope name, required on API methods


class SettingsError(RuntimeError):
    """A required environment variable is missing or malformed."""


class _EnvSettings(BaseModel):
    """A settings model read from the environment by each field's alias (the variable's exact name).

    `Model()` reads `os.environ`; `Model.model_validate({...})` reads only what it is given. A plain
    pydantic model, not pydantic-settings: that library (and the argparse it imports for its CLI
    source) costs every Lambda's cold start and is not needed to read a few strings.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**(values or dict(os.environ)))


class HttpSettings(_EnvSettings):
    """What every HTTP-facing Lambda reads."""

    allowed_origins: list[str] = Field(["*"], validation_alias=Env.ALLOWED_ORIGINS)
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0, validation_alias=Env.MAX_BODY_BYTES)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()] or ["*"]
        return value


class StorageSettings(_EnvSettings):
    """Where conversations and their messages live."""

    # Unset: no conversation storage (pattern 2). "aws": DynamoDB + AgentCore Memory. "sqlite": local stack.
    storage_backend: Literal["aws", "sqlite"] | None = Field(None, validation_alias=Env.STORAGE_BACKEND)
    sqlite_path: Path | None = Field(None, validation_alias=Env.SQLITE_PATH)
    conversations_table: str | None = Field(None, validation_alias=Env.CONVERSATIONS_TABLE)
    tickets_table: str | None = Field(None, validation_alias=Env.TICKETS_TABLE)
    memory_id: str | None = Field(None, validation_alias=Env.MEMORY_ID)
    history_turns: int = Field(10, ge=1, le=50, validation_alias=Env.HISTORY_TURNS)
    # Unset: index items never expire. Terraform sets it to Memory's event expiry, so a conversation
    # leaves the list when its history does.
    conversation_expiry_days: int | None = Field(
        None, ge=1, le=3650, validation_alias=Env.CONVERSATION_EXPIRY_DAYS
    )
    # A DELETE removes events in parallel until this deadline; what is left is removed by the next one.
    delete_deadline_seconds: float = Field(
        DEFAULT_DELETE_DEADLINE_SECONDS, gt=0, validation_alias=Env.DELETE_DEADLINE_SECONDS
    )
    aws_region: str | None = Field(None, validation_alias=Env.AWS_REGION)
    # The audit trail: with STORAGE_BACKEND=aws it needs AUDIT_TABLE; with sqlite it is in SQLITE_PATH.
    audit_backend: Literal["aws", "sqlite"] | None = Field(None, validation_alias=Env.AUDIT_BACKEND)
    audit_table: str | None = Field(None, validation_alias=Env.AUDIT_TABLE)
    audit_retention_days: int | None = Field(None, ge=1, le=3650, validation_alias=Env.AUDIT_RETENTION_DAYS)
    audit_key_id: str | None = Field(None, validation_alias=Env.AUDIT_KEY_ID)
    audit_key_file: Path | None = Field(None, validation_alias=Env.AUDIT_KEY_FILE)
    locks_table: str | None = Field(None, validation_alias=Env.LOCKS_TABLE)
    # The runtime whose sessions a new lock stops (StopRuntimeSession); unset: none are stopped.
    agent_runtime_arn: str | None = Field(None, validation_alias=Env.AGENT_RUNTIME_ARN)


class AuditApiSettings(StorageSettings):
    """What the audit Lambda reads: the store, and who may read it."""

    audit_admin_group: str = Field(
        "audit-admins", min_length=1, max_length=128, validation_alias=Env.AUDIT_ADMIN_GROUP
    )
    # The notary's checkpoints, read-only, for each session's verification state: in AWS its bucket
    # and its key (kms:Verify); locally its directory. Unset: the view shows the chains alone.
    notary_bucket: str | None = Field(None, min_length=3, validation_alias=Env.NOTARY_BUCKET)
    notary_key_id: str | None = Field(None, min_length=1, validation_alias=Env.NOTARY_KEY_ID)
    notary_dir: Path | None = Field(None, validation_alias=Env.NOTARY_DIR)


class NotarySettings(_EnvSettings):
    """What the notary Lambda reads: its signing key and its write-once bucket."""

    notary_key_id: str = Field(min_length=1, validation_alias=Env.NOTARY_KEY_ID)
    notary_bucket: str = Field(min_length=3, validation_alias=Env.NOTARY_BUCKET)
    aws_region: str | None = Field(None, validation_alias=Env.AWS_REGION)


class EvaluatorSettings(_EnvSettings):
    """What the evaluator Lambda reads: which tools are consequential, and one turn's budget."""

    consequential_tools_text: str = Field("", validation_alias=Env.EVALUATOR_CONSEQUENTIAL_TOOLS)
    tokens_per_turn: int = Field(20_000, ge=1, validation_alias=Env.EVALUATOR_TOKENS_PER_TURN)
    latency_ms_per_turn: float = Field(20_000, gt=0, validation_alias=Env.EVALUATOR_LATENCY_MS_PER_TURN)

    @property
    def consequential_tools(self) -> tuple[str, ...]:
        """The tools named, in order."""
        return tuple(t.strip() for t in self.consequential_tools_text.split(",") if t.strip())


class EvalScopesSettings(_EnvSettings):
    """What the eval scopes trigger reads: the one app client it serves, and the scopes it adds."""

    eval_client_id: str = Field(min_length=1, max_length=128, validation_alias=Env.EVAL_CLIENT_ID)
    scopes_text: str = Field(min_length=1, validation_alias=Env.EVAL_CLIENT_SCOPES)

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes named, in order."""
        return tuple(self.scopes_text.split())


class ChatSettings(HttpSettings):
    """What the chat Lambda reads to reach the agent runtime."""

    agent_runtime_arn: str = Field(min_length=20, validation_alias=Env.AGENT_RUNTIME_ARN)
    agent_runtime_qualifier: str = Field("DEFAULT", validation_alias=Env.AGENT_RUNTIME_QUALIFIER)
    agentcore_endpoint_url: str | None = Field(None, validation_alias=Env.AGENTCORE_ENDPOINT_URL)
    agent_connect_timeout_seconds: float = Field(
        3.0, gt=0, validation_alias=Env.AGENT_CONNECT_TIMEOUT_SECONDS
    )
    agent_read_timeout_seconds: float = Field(20.0, gt=0, validation_alias=Env.AGENT_READ_TIMEOUT_SECONDS)
    agent_max_attempts: int = Field(2, ge=1, le=5, validation_alias=Env.AGENT_MAX_ATTEMPTS)
    # Every attempt together ends by this deadline (a retry starts only if a whole attempt still fits),
    # kept below the Lambda timeout so the Lambda answers 504 itself instead of being killed (502).
    agent_total_timeout_seconds: float = Field(25.0, gt=0, validation_alias=Env.AGENT_TOTAL_TIMEOUT_SECONDS)
    aws_region: str | None = Field(None, validation_alias=Env.AWS_REGION)

    @model_validator(mode="after")
    def _one_attempt_fits_the_deadline(self) -> ChatSettings:
        one_attempt = self.agent_connect_timeout_seconds + self.agent_read_timeout_seconds
        if self.agent_total_timeout_seconds >= one_attempt:
            return self
        if "agent_total_timeout_seconds" in self.model_fields_set:
            raise ValueError(
                f"{Env.AGENT_TOTAL_TIMEOUT_SECONDS} must be at least "
                f"{Env.AGENT_CONNECT_TIMEOUT_SECONDS} + {Env.AGENT_READ_TIMEOUT_SECONDS} ({one_attempt:g})"
            )
        # Unset, with a longer read timeout (the local stack's --agent-read-timeout): one whole attempt.
        object.__setattr__(self, "agent_total_timeout_seconds", one_attempt)  # the model is frozen
        return self


class GovernanceSettings(_EnvSettings):
    """Where the chat Lambda counts each user's daily quota and keeps idempotency records."""

    # Unset: neither quotas nor idempotency. Terraform (patterns 2 and 3) and the local stack always
    # set it; a contract test holds the examples to that.
    governance_backend: Literal["aws", "sqlite"] | None = Field(None, validation_alias=Env.GOVERNANCE_BACKEND)
    sqlite_path: Path | None = Field(None, validation_alias=Env.SQLITE_PATH)
    quotas_table: str | None = Field(None, validation_alias=Env.QUOTAS_TABLE)
    idempotency_table: str | None = Field(None, validation_alias=Env.IDEMPOTENCY_TABLE)
    chat_quotas: QuotaPolicy = Field(DEFAULT_POLICY, validation_alias=Env.CHAT_QUOTAS)
    turn_token_budget: int = Field(
        DEFAULT_TURN_TOKEN_BUDGET, ge=100, le=10_000_000, validation_alias=Env.TURN_TOKEN_BUDGET
    )
    # A streamed turn's answer stops here, with a `stopped` event (the JSON route is bounded by the budget).
    turn_output_max_chars: int = Field(
        20_000, ge=100, le=1_000_000, validation_alias=Env.TURN_OUTPUT_MAX_CHARS
    )
    aws_region: str | None = Field(None, validation_alias=Env.AWS_REGION)

    @field_validator("chat_quotas", mode="before")
    @classmethod
    def _parse_quotas(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError('must be JSON: {"default": {limits}, "groups": {...}}') from None
        return value


class AgentSettings(_EnvSettings):
    """What the agent reads inside the runtime."""

    model_provider: Literal["bedrock", "offline"] | None = Field(None, validation_alias=Env.MODEL_PROVIDER)
    bedrock_model_id: str | None = Field(None, validation_alias=Env.BEDROCK_MODEL_ID)
    offline_model_latency_seconds: float = Field(
        0.0, ge=0, le=60, validation_alias=Env.OFFLINE_MODEL_LATENCY_SECONDS
    )
    bedrock_region: str | None = Field(None, validation_alias=Env.BEDROCK_REGION)
    aws_region: str | None = Field(None, validation_alias=Env.AWS_REGION)
    weather_api_url: str = Field("https://api.weather.gov", validation_alias=Env.WEATHER_API_URL)
    weather_timeout_seconds: float = Field(5.0, gt=0, validation_alias=Env.WEATHER_TIMEOUT_SECONDS)
    policy_mode: PolicyMode = Field(PolicyMode.ENFORCE, validation_alias=Env.POLICY_MODE)
    policy_dir: Path | None = Field(None, validation_alias=Env.POLICY_DIR)
    inbound_auth: Literal["IAM", "JWT"] = Field("IAM", validation_alias=Env.AGENT_INBOUND_AUTH)
    jwt_discovery_url: str | None = Field(None, validation_alias=Env.AGENT_JWT_DISCOVERY_URL)
    jwt_allowed_clients_text: str = Field("", validation_alias=Env.AGENT_JWT_ALLOWED_CLIENTS)
    telemetry: Literal["on", "off"] = Field("on", validation_alias=Env.AGENT_TELEMETRY)
    # The cap of a turn whose caller reserved none (patterns 0 and 1, where the browser calls).
    turn_token_budget: int = Field(
        DEFAULT_TURN_TOKEN_BUDGET, ge=100, le=10_000_000, validation_alias=Env.TURN_TOKEN_BUDGET
    )
    turn_max_tool_calls: int = Field(
        DEFAULT_TURN_MAX_TOOL_CALLS, ge=1, le=1000, validation_alias=Env.TURN_MAX_TOOL_CALLS
    )
    session_max_tool_calls: int = Field(
        DEFAULT_SESSION_MAX_TOOL_CALLS, ge=1, le=100_000, validation_alias=Env.SESSION_MAX_TOOL_CALLS
    )
    turn_max_seconds: float = Field(
        DEFAULT_TURN_MAX_SECONDS, gt=0, le=3600, validation_alias=Env.TURN_MAX_SECONDS
    )
    session_max_tokens: int = Field(
        DEFAULT_SESSION_MAX_TOKENS, ge=100, le=1_000_000_000, validation_alias=Env.SESSION_MAX_TOKENS
    )
    session_max_seconds: float = Field(
        DEFAULT_SESSION_MAX_SECONDS, gt=0, le=30 * 24 * 3600, validation_alias=Env.SESSION_MAX_SECONDS
    )

    @property
    def jwt_allowed_clients(self) -> tuple[str, ...]:
        """The app clients whose access tokens the agent accepts (JWT inbound auth)."""
        return tuple(c.strip() for c in self.jwt_allowed_clients_text.split(",") if c.strip())

    @property
    def resolved_provider(self) -> Literal["bedrock", "offline"]:
        """Bedrock when a model id is configured (or asked for), the offline model otherwise."""
        if self.model_provider is not None:
            return self.model_provider
        return "bedrock" if self.bedrock_model_id else "offline"


SettingsT = TypeVar("SettingsT", bound=_EnvSettings)


def load(model: type[SettingsT]) -> SettingsT:
    """Read one settings model from the environment, failing fast with the variable names at fault."""
    try:
        return model()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            info = model.model_fields.get(field)
            name = info.validation_alias if info is not None and info.validation_alias else field
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError(f"{model.__name__} is not configured: " + "; ".join(problems)) from None


@cache
def _cached(model: type[_EnvSettings]) -> _EnvSettings:
    return load(model)


def cached(model: type[SettingsT]) -> SettingsT:
    """Settings read once per process (a Lambda execution environment, the runtime)."""
    return _cached(model)  # type: ignore[return-value]
