"""The one registry of deployables: each function, its routes and the patterns that have it.

`agentarch build` builds from it, the local stack (`agentarch dev`) runs and routes from it, and the
Terraform contract tests hold the examples' route maps and the resolvers to it. Adding a Lambda or a
route is one edit here (plus the resolver's decorator, which a test keeps equal to these routes).

Which agentarch modules go into a zip is not listed: the build follows the handler's imports (see
`imports.py`), and `allowed_packages` only says which subpackages of agentarch that graph may reach;
anything else is a build error, not a silent include.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# --- the targets (Terraform agrees: terraform/modules/lambda_function, terraform/modules/agent_runtime) ---
TARGET_PYTHON = (3, 13)
LAMBDA_RUNTIME = "python3.13"
LAMBDA_ARCHITECTURE = "arm64"
AGENT_RUNTIME = "PYTHON_3_13"
AGENT_ENTRY_POINT = "main.py"
# Where `agentarch build --policies DIR` puts a team's own Cedar tool policies inside the agent zip
# (beside main.py); main.py points POLICY_DIR at it. Without the flag the zip carries agentarch's
# default policy as package data (agentarch/agent/policies/) and POLICY_DIR stays unset.
AGENT_POLICY_DIR = "policies"
AGENT_POLICY_FILES = ("*.cedarschema", "*.cedar")  # what the agent reads from a policy folder
# The Lambda Web Adapter's entry in a streaming function's zip: the function's `handler` when its
# routes stream (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap runs it), serving the ASGI app on $PORT.
STREAM_ENTRY_POINT = "run.sh"
STREAM_PORT = 8080  # AWS_LWA_PORT / PORT: where the adapter finds the app

# Wheels are picked for CPython 3.13 on linux aarch64 with glibc up to 2.28 (Lambda's and the runtime's
# Amazon Linux 2023 has 2.34, so every tag listed here runs there). pip does not widen manylinux_2_x
# tags by itself, so each one is named.
MANYLINUX_GLIBC_MINORS = range(17, 29)
WHEEL_PLATFORMS = (
    "manylinux2014_aarch64",
    *(f"manylinux_2_{minor}_aarch64" for minor in MANYLINUX_GLIBC_MINORS),
)
WHEEL_ABIS = ("cp313", "abi3", "none")

# The public Powertools v3 layer (AWSLambdaPowertoolsPythonV3-python313-arm64) is built with
# `pip install aws-lambda-powertools[all]` and then drops boto3 and its dependencies, which the
# Lambda runtime already has. The build derives both sets from these roots (see `dependencies.py`).
POWERTOOLS_LAYER_ROOT = "aws-lambda-powertools[all]"
LAMBDA_RUNTIME_SDK_ROOT = "boto3"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-arm64"

# botocore service models shipped inside a Lambda zip, and where the function finds them. The
# function's environment must set AWS_DATA_PATH to this path (Terraform does), so the API model the
# tests ran against is the one used, whatever botocore the Lambda runtime happens to carry.
BOTOCORE_DATA_DIR = "botocore_data"
LAMBDA_TASK_ROOT = "/var/task"
LAMBDA_AWS_DATA_PATH = f"{LAMBDA_TASK_ROOT}/{BOTOCORE_DATA_DIR}"

# What no deployable may carry, whatever imports say: everything that only runs on a laptop (the
# local stack, SQLite, the CLI, lint, packaging, the page, the pytest plugin, the test models) lives
# under this one package, and no deployable module imports it (a structure test holds them to that).
DEV_PACKAGE = "agentarch.dev"
NEVER_DEPLOYED = (DEV_PACKAGE,)


@dataclass(frozen=True)
class FunctionSpec:
    """One deployable: its entry module, what it may contain, and what it needs beyond its imports."""

    name: str
    kind: Literal["lambda", "agent"]
    entry_module: str
    entry_callable: str
    artifact: str
    description: str
    allowed_packages: tuple[str, ...]
    extra_requirements: tuple[str, ...] = ()
    botocore_models: tuple[str, ...] = ()
    package_data: tuple[str, ...] = ()  # non-Python files it needs, as globs under src/ (like package-data)
    environment: dict[str, str] = field(default_factory=dict)
    routes: tuple[tuple[str, str], ...] = ()  # (METHOD, /path/{param}) served through the front door
    min_pattern: int = 0  # the first pattern (0-3) whose architecture has this function
    optional: bool = False  # deployed only where its feature is switched on; never in the local stack
    # A function that can stream its answer (API Gateway STREAM integration): the generator the local
    # Lambda host runs for InvokeWithResponseStream, the routes that stream, and the ASGI app the
    # Lambda Web Adapter serves in AWS through the zip's `run.sh` (module:attribute).
    stream_entry: str = ""
    stream_routes: tuple[tuple[str, str], ...] = ()
    stream_app: str = ""

    @property
    def stream_entry_module(self) -> str:
        """The module of the streaming entry (its imports go into the zip too), or ''."""
        return self.stream_entry.rpartition(".")[0]

    @property
    def handler(self) -> str:
        """`module.function`, as Lambda's `handler` setting wants it."""
        return f"{self.entry_module}.{self.entry_callable}"

    def may_contain(self, module: str) -> bool:
        """Whether an agentarch module is inside the subpackages this function may carry."""
        if module == "agentarch":
            return True
        if any(module == banned or module.startswith(banned + ".") for banned in NEVER_DEPLOYED):
            return False
        return any(module == allowed or module.startswith(allowed + ".") for allowed in self.allowed_packages)


_LAMBDA_PACKAGES = (
    "agentarch.core",
    "agentarch.handlers",
    "agentarch.services",
    "agentarch.adapters",
    "agentarch.config",
)

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            name="chat",
            kind="lambda",
            entry_module="agentarch.handlers.chat",
            entry_callable="lambda_handler",
            artifact="chat.zip",
            description="chat Lambda: POST /api/chat (quotas, idempotency, the agent with IAM auth), GET /api/usage",
            allowed_packages=_LAMBDA_PACKAGES,
            botocore_models=("bedrock-agentcore",),
            environment={"AWS_DATA_PATH": LAMBDA_AWS_DATA_PATH},
            routes=(("POST", "/api/chat"), ("GET", "/api/usage")),
            min_pattern=2,
            stream_entry="agentarch.handlers.chat_stream.stream_handler",
            stream_routes=(("POST", "/api/chat"),),
            stream_app="agentarch.handlers.chat_stream:app",
            extra_requirements=("uvicorn",),
        ),
        FunctionSpec(
            name="conversations",
            kind="lambda",
            entry_module="agentarch.handlers.conversations",
            entry_callable="lambda_handler",
            artifact="conversations.zip",
            description="conversations Lambda: list, read and delete a user's conversations",
            allowed_packages=_LAMBDA_PACKAGES,
            botocore_models=("bedrock-agentcore",),
            environment={"AWS_DATA_PATH": LAMBDA_AWS_DATA_PATH},
            routes=(
                ("GET", "/api/conversations"),
                ("GET", "/api/conversations/{session_id}"),
                ("DELETE", "/api/conversations/{session_id}"),
            ),
            min_pattern=3,
        ),
        FunctionSpec(
            name="audit",
            kind="lambda",
            entry_module="agentarch.handlers.audit",
            entry_callable="lambda_handler",
            artifact="audit.zip",
            description="audit Lambda: GET /api/audit, the audit trail, and /api/admin/locks, the kill switch, "
            "for the admin group",
            allowed_packages=_LAMBDA_PACKAGES,
            botocore_models=("bedrock-agentcore",),
            environment={"AWS_DATA_PATH": LAMBDA_AWS_DATA_PATH},
            routes=(
                ("GET", "/api/audit"),
                ("GET", "/api/admin/locks"),
                ("POST", "/api/admin/locks"),
                ("DELETE", "/api/admin/locks"),
            ),
            min_pattern=3,
        ),
        FunctionSpec(
            name="notary",
            kind="lambda",
            entry_module="agentarch.handlers.notary",
            entry_callable="lambda_handler",
            artifact="notary.zip",
            description="notary Lambda: signs the audit trail's chain heads from its DynamoDB stream (no route)",
            allowed_packages=_LAMBDA_PACKAGES,
            min_pattern=2,
        ),
        FunctionSpec(
            name="evaluator",
            kind="lambda",
            entry_module="agentarch.handlers.evaluator",
            entry_callable="lambda_handler",
            artifact="evaluator.zip",
            description="evaluator Lambda: the trajectory checks as an AgentCore Evaluations code-based evaluator",
            allowed_packages=_LAMBDA_PACKAGES,
            min_pattern=3,
            optional=True,
        ),
        FunctionSpec(
            name="eval_scopes",
            kind="lambda",
            entry_module="agentarch.handlers.eval_scopes",
            entry_callable="lambda_handler",
            artifact="eval_scopes.zip",
            description=(
                "eval scopes Lambda: Cognito pre token generation trigger adding the API scopes "
                "to the eval client's access tokens"
            ),
            allowed_packages=_LAMBDA_PACKAGES,
            min_pattern=2,
            optional=True,
        ),
        FunctionSpec(
            name="agent",
            kind="agent",
            entry_module="agentarch.agent.app",
            entry_callable="main",
            artifact="agent.zip",
            description="agent code for AgentCore Runtime direct code deploy (linux aarch64 wheels)",
            allowed_packages=(
                "agentarch.core",
                "agentarch.agent",
                "agentarch.services",
                "agentarch.adapters",
                "agentarch.config",
            ),
            package_data=tuple(f"agentarch/agent/policies/{files}" for files in AGENT_POLICY_FILES),
        ),
    )
}

MANIFEST = "manifest.json"


def lambdas_of_pattern(pattern: int) -> list[FunctionSpec]:
    """The Lambda functions behind a pattern's front door (the notary, fed by a stream, runs locally as
    a thread of the stack: agentarch.dev.notary)."""
    return [
        spec
        for spec in FUNCTIONS.values()
        if spec.kind == "lambda" and spec.min_pattern <= pattern and not spec.optional and spec.routes
    ]
