"""Each Lambda zip holds only what its handler needs, and works with only the layer and runtime beside it.

The handler runs in a fresh interpreter started with `-I -S` whose sys.path is exactly
[unpacked zip, layer, runtime boto3] plus the standard library. The layer's packages are this venv's
host-platform builds of what the Powertools layer carries (aws-lambda-powertools[all] minus boto3 and its
dependencies); compiled parts (pydantic-core) are therefore the host's, not the arm64 ones Lambda uses.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from agentarch.dev.packaging.builder import LAMBDA_SIZE_TARGET
from agentarch.dev.packaging.registry import BOTOCORE_DATA_DIR, STREAM_ENTRY_POINT, FunctionSpec
from agentarch.dev.testing import rest_api_event
from tests.artifacts.conftest import LAMBDA_SPECS, PROBE_MARK, Built, LambdaNeighbours, run_probe, unpack

pytestmark = pytest.mark.skipif(not LAMBDA_SPECS, reason="no Lambda handler module exists yet")

RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agentarch_agent-abcdefghij"
ORIGIN = "https://app.example.com"

LAMBDA_PROBE = f"""
import json, sys
config = json.loads(sys.argv[1])
sys.path[:] = config["paths"] + sys.path[1:]  # [zip, layer, runtime] + the standard library only

import importlib
module = importlib.import_module(config["module"])
handler = getattr(module, config["handler"])


class Context:
    function_name = config["function"]
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + config["function"]
    aws_request_id = "lambda-request-1"
    log_group_name = "/aws/lambda/" + config["function"]
    log_stream_name = "stream"

    def get_remaining_time_in_millis(self):
        return 20000


answers = [handler(event, Context()) for event in config["events"]]

import botocore.session
loader = botocore.session.get_session().get_component("data_loader")
_, model_path = loader.load_data_with_path("bedrock-agentcore/2024-02-28/service-2")

origins = {{name: getattr(sys.modules.get(name), "__file__", None) for name in config["origins"]}}
loaded = sorted(name for name in sys.modules if name == "agentarch" or name.startswith("agentarch."))
print({PROBE_MARK!r} + json.dumps({{
    "answers": answers, "origins": origins, "agentarch_modules": loaded, "model_path": model_path,
    "site_packages": [p for p in sys.path if "site-packages" in p],
}}))
"""


def rest_event(method: str, path: str, body: str | None, request_id: str) -> dict[str, Any]:
    """An API Gateway REST proxy event as the Cognito-authorized front door sends it."""
    headers = {"Content-Type": "application/json", "origin": ORIGIN}
    return rest_api_event(method, path, body=body, headers=headers, request_id=request_id, stage="prod")


def response_headers(answer: dict[str, Any]) -> dict[str, str]:
    """A proxy response's headers, whether single- or multi-valued (the REST resolver uses the latter)."""
    headers = dict(answer.get("headers") or {})
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, values[0])
    return headers


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


@pytest.mark.parametrize("spec", LAMBDA_SPECS, ids=lambda s: s.name)
def test_lambda_zip_holds_only_its_handlers_modules(built: Built, spec: FunctionSpec) -> None:
    # Given the built zip
    names = zip_names(built.artifact(spec))
    modules = [n for n in names if n.startswith("agentarch/")]
    # Then it carries its handler, no agent code and nothing of the dev package, nothing vendored, and
    # the botocore model
    assert spec.entry_module.replace(".", "/") + ".py" in names
    forbidden = [n for n in modules if n.split("/")[1] in ("agent", "dev")]
    assert forbidden == []
    # Only the AWS backend of each port: the local stack's SQLite storage never ships
    assert not any("sqlite" in n for n in modules)
    adapters = {  # the AWS adapters of the ports each handler uses
        "chat": {"aws_memory", "aws_conversations", "aws_audit", "aws_locks"},
        "conversations": {"aws_memory", "aws_conversations"},
        "audit": {
            "aws_audit",
            "aws_notary",
            "aws_locks",
        },  # the trail, checkpoints (kms:Verify), the kill switch
        "evaluator": set(),  # reads only the spans it is handed
        "notary": {"aws_notary"},  # KMS and the checkpoint bucket, never the writers' tables
        "eval_scopes": set(),  # reads only the Cognito event it is handed
    }[spec.name]
    assert {f"agentarch/adapters/{adapter}.py" for adapter in adapters} <= set(names)
    # Beside agentarch: the botocore models, and for a streaming function the Web Adapter's start
    # script and the ASGI server it runs (its requirements, with their own dependencies)
    tops = (
        {n.split("/")[0] for n in names}
        - {"agentarch"}
        - ({BOTOCORE_DATA_DIR} if spec.botocore_models else set())
    )
    if spec.stream_app:
        assert STREAM_ENTRY_POINT in tops
        assert {t.split("-")[0] for t in tops if t.endswith(".dist-info")} >= set(spec.extra_requirements)
    else:
        assert tops == set()
    for service in spec.botocore_models:
        assert any(n.endswith("/service-2.json.gz") and service in n for n in names)
    # And it stays under the 1 MiB target without the layer
    assert built.artifact(spec).stat().st_size < LAMBDA_SIZE_TARGET


@pytest.mark.parametrize("spec", LAMBDA_SPECS, ids=lambda s: s.name)
def test_lambda_zip_answers_api_gateway_events_with_only_the_layer_beside_it(
    built: Built, spec: FunctionSpec, lambda_neighbours: LambdaNeighbours, tmp_path: Path
) -> None:
    # Given the zip unpacked alone, with the layer and the runtime's boto3 beside it
    task = unpack(built.artifact(spec), tmp_path / "var-task")
    events = [rest_event("GET", "/api/no-such-endpoint", None, "req-unknown-route")]
    if spec.name == "chat":
        events.append(rest_event("POST", "/api/chat", '{"message": "hi"', "req-malformed"))
    if spec.name == "evaluator":  # invoked by AgentCore Evaluations: its own contract, no front door
        events.append(
            {"schemaVersion": "1.0", "evaluationLevel": "SESSION", "evaluationInput": {"sessionSpans": []}}
        )
    if spec.name == "notary":  # fed by the audit table's stream: a batch with nothing to sign
        events = [{"Records": []}]
    if spec.name == "eval_scopes":  # Cognito's pre token generation trigger: its own contract
        events = [
            {
                "version": "2",
                "triggerSource": "TokenGeneration_Authentication",
                "callerContext": {"clientId": "evalclient"},
                "request": {"scopes": []},
                "response": {"claimsAndScopeOverrideDetails": None},
            },
            {
                "version": "2",
                "triggerSource": "TokenGeneration_Authentication",
                "callerContext": {"clientId": "the-web-client"},
                "request": {},
                "response": {},
            },
        ]
    config = {
        "paths": [str(task), str(lambda_neighbours.layer), str(lambda_neighbours.runtime_sdk)],
        "module": spec.entry_module,
        "handler": spec.entry_callable,
        "function": spec.name,
        "events": events,
        "origins": ["agentarch", "aws_lambda_powertools", "pydantic", "boto3"],
    }
    env = {
        **{key: value.replace("/var/task", str(task)) for key, value in spec.environment.items()},
        "AGENT_RUNTIME_ARN": RUNTIME_ARN,
        "ALLOWED_ORIGINS": ORIGIN,
        "STORAGE_BACKEND": "aws",
        "CONVERSATIONS_TABLE": "agentarch-conversations",
        "MEMORY_ID": "agentarch_memory-abcdefghij",
        "NOTARY_KEY_ID": "alias/agentarch-audit-notary",
        "NOTARY_BUCKET": "agentarch-audit-checkpoints",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": spec.name,
        "POWERTOOLS_METRICS_NAMESPACE": "agentarch",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "EVAL_CLIENT_ID": "evalclient",
        "EVAL_CLIENT_SCOPES": "agentarch-api/chat",
    }

    # When a fresh interpreter imports the handler and feeds it the events
    result = run_probe(LAMBDA_PROBE, config, env, tmp_path)

    # Then each package came from where it will come from on Lambda, with no site-packages at all
    origins = result["origins"]
    assert result["site_packages"] == []
    assert origins["agentarch"].startswith(str(task))
    for layer_package in ("aws_lambda_powertools", "pydantic"):
        assert origins[layer_package].startswith(str(lambda_neighbours.layer)), layer_package
    assert not any(m.startswith(("agentarch.agent", "agentarch.dev")) for m in result["agentarch_modules"])
    # And botocore reads the bedrock-agentcore model shipped in the zip (AWS_DATA_PATH)
    if spec.botocore_models:
        assert result["model_path"].startswith(str(task / BOTOCORE_DATA_DIR))

    if spec.name == "notary":
        # And a batch with no new head and no tampering writes no checkpoint (no KMS, no S3 call)
        assert result["answers"][0] == {"checkpoint": None}
        return
    if spec.name == "eval_scopes":
        # And it gives the eval client's access token the API scopes
        details = result["answers"][0]["response"]["claimsAndScopeOverrideDetails"]
        assert details["accessTokenGeneration"]["scopesToAdd"] == ["agentarch-api/chat"]
        # And a token of any other app client leaves the trigger unchanged: no scope is added
        assert result["answers"][1]["response"] == {}
        return
    if spec.name == "evaluator":
        # And it refuses what is not an evaluator event, and says when the spans hold no turn
        assert result["answers"][0]["errorCode"] == "VALIDATION_FAILED"
        assert result["answers"][1]["errorCode"] == "NO_TURNS"
        return
    # And an unknown route answers 404 in the stable error shape, with CORS
    unknown = result["answers"][0]
    assert unknown["statusCode"] == 404
    assert json.loads(unknown["body"])["error"]["code"] == "not_found"
    assert response_headers(unknown).get("Access-Control-Allow-Origin") == ORIGIN

    if spec.name == "chat":
        # And malformed JSON answers 400 (not Powertools' 422) with code, message and request id
        malformed = result["answers"][1]
        assert malformed["statusCode"] == 400
        error = json.loads(malformed["body"])["error"]
        assert set(error) == {"code", "message", "request_id"}
        assert error["code"] == "malformed_json"
        assert error["request_id"] == "req-malformed"
