"""`agentarch openapi`: the API's OpenAPI document, from the Lambdas' resolvers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agentarch import __version__


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`agentarch openapi [-o FILE]`."""
    parser = sub.add_parser("openapi", help="print the API's OpenAPI document (from the resolvers)")
    parser.add_argument("-o", "--output", type=Path, help="write to a file instead of stdout")


def openapi_document() -> dict[str, Any]:
    """One OpenAPI document for the whole API: each Lambda's resolver, merged by Powertools."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from agentarch.handlers.audit import app as audit_app
    from agentarch.handlers.chat import app as chat_app
    from agentarch.handlers.conversations import app as conversations_app

    merge = OpenAPIMerge(
        title="agentarch API",
        version=__version__,
        description='Every error answers {"error": {"code", "message", "request_id"}}.',
        security_schemes={
            "cognito": HTTPBearer(
                bearerFormat="JWT",
                description="a Cognito access token carrying the API scope (ID tokens are refused)",
            )
        },
        security=[{"cognito": []}],
        on_conflict="error",
    )
    for resolver in (chat_app, conversations_app, audit_app):
        merge.add_schema(json.loads(resolver.get_openapi_json_schema()))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    for path in document.get("paths", {}).values():
        for operation in path.values():
            _drop_default_validation_error(operation)
    return document


POWERTOOLS_VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"


def _drop_default_validation_error(operation: dict[str, Any]) -> None:
    """Powertools documents a 422 with its own model on every validated route; every route that can
    answer 422 declares it with the project's error model, so the default one is a status the route
    cannot answer (`GET /api/usage` takes no input at all)."""
    responses = operation.get("responses", {})
    schema = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref") == POWERTOOLS_VALIDATION_ERROR:
        del responses["422"]


def run(args: argparse.Namespace) -> int:
    text = json.dumps(openapi_document(), indent=2) + "\n"
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
