"""`agentarch lint PATH`: each architecture rule fails on a broken fixture and passes on a sound one.

The sound fixture is `fixtures/lint/secure` (a small chat API with every guard in place); each
failing fixture is that file with one guard removed, so a rule that stops looking (or a fixture
edit that stops breaking anything) fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentarch.dev.lint import lint_paths
from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.model import Resource, Tree
from agentarch.dev.lint.rules import RULES, run_rules

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
SECURE = (FIXTURES / "secure" / "main.tf").read_text(encoding="utf-8")

JWT_ON_RUNTIME = """  role_arn           = aws_iam_role.agent.arn

  authorizer_configuration {
    custom_jwt_authorizer {
      discovery_url   = "https://cognito-idp.eu-west-1.amazonaws.com/${aws_cognito_user_pool.users.id}/.well-known/openid-configuration"
      allowed_clients = [aws_cognito_user_pool_client.web.id]
    }
  }
"""

_POLICY_START = SECURE.index('resource "aws_bedrockagentcore_resource_policy"')
RESOURCE_POLICY = SECURE[_POLICY_START : SECURE.index("\n}\n", _POLICY_START) + 3]  # the runtime's, whole

# rule id -> (what is replaced in the secure fixture, by what)
BREAKAGES: dict[str, list[tuple[str, str]]] = {
    "bypass-gap": [("  role_arn           = aws_iam_role.agent.arn\n", JWT_ON_RUNTIME)],
    "method-without-authorizer": [
        (
            '  authorization        = "COGNITO_USER_POOLS"\n'
            "  authorizer_id        = aws_api_gateway_authorizer.cognito.id\n"
            '  authorization_scopes = ["chat-api/chat"]\n',
            '  authorization        = "NONE"\n',
        )
    ],
    "authorizer-without-scopes": [('  authorization_scopes = ["chat-api/chat"]\n', "")],
    "stage-without-waf": [
        ("  resource_arn = aws_api_gateway_stage.prod.arn\n", '  resource_arn = "arn:other"\n')
    ],
    "waf-without-rate-rule": [
        (
            "      rate_based_statement {\n"
            "        limit              = 500\n"
            '        aggregate_key_type = "IP"\n'
            "      }\n",
            '      geo_match_statement {\n        country_codes = ["KP"]\n      }\n',
        )
    ],
    "agentcore-wildcard-iam": [('["bedrock-agentcore:InvokeAgentRuntime"]', '["bedrock-agentcore:*"]')],
    "timeout-chain": [("  timeout                        = 28\n", "  timeout                        = 30\n")],
    "stream-integration": [
        (
            "  timeout_milliseconds    = 29000\n",
            '  timeout_milliseconds    = 29000\n  response_transfer_mode  = "STREAM"\n',
        )
    ],
    "cors-wildcard": [("\"'https://app.example.com'\"", "\"'*'\"")],
    "access-logs": [
        (
            "  access_log_settings {\n"
            "    destination_arn = aws_cloudwatch_log_group.access.arn\n"
            '    format          = "$context.requestId $context.status"\n'
            "  }\n",
            "",
        )
    ],
    "log-retention": [
        (
            '  name              = "/aws/lambda/chat"\n  retention_in_days = 30\n',
            '  name = "/aws/lambda/chat"\n',
        )
    ],
    "no-reserved-concurrency": [("  reserved_concurrent_executions = 10\n", "")],
    "runtime-resource-policy": [(RESOURCE_POLICY, "")],
    "unresolved": [
        ("", 'module "lambda" {\n  source  = "terraform-aws-modules/lambda/aws"\n  version = "8.0.0"\n}\n')
    ],
}
# Second ways to break the same rule, where a rule checks more than one thing.
MORE_BREAKAGES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "agentcore-wildcard-iam",
        [("resources = [aws_bedrockagentcore_agent_runtime.agent.agent_runtime_arn]", 'resources = ["*"]')],
    ),
    ("timeout-chain", [('AGENT_TOTAL_TIMEOUT_SECONDS = "25"', 'AGENT_TOTAL_TIMEOUT_SECONDS = "28"')]),
    (  # a non-proxy integration cannot stream
        "stream-integration",
        [
            ('  type                    = "AWS_PROXY"\n', '  type                    = "AWS"\n'),
            (
                "  timeout_milliseconds    = 29000\n",
                '  timeout_milliseconds    = 29000\n  response_transfer_mode  = "STREAM"\n',
            ),
        ],
    ),
    (  # a resource policy that only allows the chat role: an Allow adds nothing within the account
        "runtime-resource-policy",
        [
            ('Effect    = "Deny"', 'Effect    = "Allow"'),
            ('Principal = "*"', "Principal = { AWS = aws_iam_role.chat.arn }"),
            ('      Condition = { ArnNotEquals = { "aws:PrincipalArn" = aws_iam_role.chat.arn } }\n', ""),
        ],
    ),
    (  # a Deny for everyone that excepts another role: it shuts out the front door itself
        "runtime-resource-policy",
        [('"aws:PrincipalArn" = aws_iam_role.chat.arn', '"aws:PrincipalArn" = aws_iam_role.agent.arn')],
    ),
    (  # another issuer, but user tokens all the same: the front door can still be walked around
        "bypass-gap",
        [
            (
                "  role_arn           = aws_iam_role.agent.arn\n",
                JWT_ON_RUNTIME.replace(
                    "https://cognito-idp.eu-west-1.amazonaws.com/${aws_cognito_user_pool.users.id}",
                    "https://example.okta.com/oauth2/default",
                ).replace("[aws_cognito_user_pool_client.web.id]", '["0oa1partner"]'),
            )
        ],
    ),
]


def broken(tmp_path: Path, replacements: list[tuple[str, str]]) -> Path:
    """The secure fixture with `replacements` applied, written to its own directory."""
    text = SECURE
    for old, new in replacements:
        if old == "":
            text += "\n" + new
            continue
        assert old in text, f"the secure fixture no longer contains {old!r}"
        text = text.replace(old, new)
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    return tmp_path


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_every_rule_has_a_failing_fixture() -> None:
    assert {rule.id for rule in RULES} == set(BREAKAGES) | {"no-front-door"}


def test_the_secure_fixture_passes_every_rule() -> None:
    findings = lint_paths([FIXTURES / "secure"])
    assert [f for f in findings if f.severity != "note"] == []


@pytest.mark.parametrize(
    ("rule", "replacements"),
    [*BREAKAGES.items(), *MORE_BREAKAGES],
    ids=[*BREAKAGES, *(f"{rule}-2" for rule, _ in MORE_BREAKAGES)],
)
def test_each_rule_reports_its_broken_fixture_at_the_right_line(
    tmp_path: Path, rule: str, replacements: list[tuple[str, str]]
) -> None:
    findings = lint_paths([broken(tmp_path, replacements)])

    hits = [f for f in findings if f.rule == rule]
    assert hits, f"{rule} did not fire; got {sorted(rules_of(findings))}"
    assert rules_of(findings) - {rule, "unresolved"} == set(), "one breakage, one rule"
    lines = (tmp_path / "main.tf").read_text(encoding="utf-8").splitlines()
    for hit in hits:
        assert hit.file == tmp_path.resolve() / "main.tf" or rule == "unresolved"
        assert lines[hit.line - 1].startswith(("resource ", "data ", "module ")), "line points at the block"
        assert hit.hint


def test_a_stream_integration_with_the_streaming_uri_passes(tmp_path: Path) -> None:
    streaming = (
        '  uri                     = "arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/'
        'arn:aws:lambda:eu-west-1:123456789012:function:chat/response-streaming-invocations"\n'
        '  timeout_milliseconds    = 29000\n  response_transfer_mode  = "STREAM"\n'
    )
    path = broken(
        tmp_path,
        [
            (
                "  uri                     = aws_lambda_function.chat.invoke_arn\n  timeout_milliseconds    = 29000\n",
                streaming,
            )
        ],
    )

    assert [f for f in lint_paths([path]) if f.rule == "stream-integration"] == []


def test_a_runtime_with_user_tokens_and_no_front_door_is_a_warning() -> None:
    findings = lint_paths([FIXTURES / "no_front_door"])
    assert [(f.rule, f.severity) for f in findings] == [("no-front-door", "warning")]


def test_a_runtime_with_iam_auth_and_no_front_door_passes(tmp_path: Path) -> None:
    text = (FIXTURES / "no_front_door" / "main.tf").read_text(encoding="utf-8")
    start = text.index("  authorizer_configuration {")
    (tmp_path / "main.tf").write_text(text[:start] + "}\n", encoding="utf-8")
    assert lint_paths([tmp_path]) == []


def test_a_runtime_whose_authorizer_cannot_be_resolved_is_reported_not_passed(tmp_path: Path) -> None:
    # Given a runtime whose dynamic authorizer tfparse dropped, with a for_each reading two inputs
    # (we resolve only one), in a tree with a front door
    runtime = Resource(
        type="aws_bedrockagentcore_agent_runtime",
        address="module.bot.aws_bedrockagentcore_agent_runtime.this",
        file=tmp_path / "main.tf",
        line=3,
        body={"id": "rt", "agent_runtime_name": "bot"},
        dropped_dynamic={"authorizer_configuration": "${var.enabled && var.jwt != null ? [var.jwt] : []}"},
        inputs={"var.enabled": True, "var.jwt": {"discovery_url": None}},
    )
    api = Resource(
        "aws_api_gateway_rest_api", "aws_api_gateway_rest_api.api", tmp_path / "main.tf", 1, {"id": "api"}
    )

    findings = run_rules(Tree(root=tmp_path, resources=[runtime, api]), {"bypass-gap", "no-front-door"})

    assert [(f.rule, f.severity, f.line) for f in findings] == [("unresolved", "note", 3)]
    assert "whether it has a JWT authorizer" in findings[0].message


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("aws_lambda_function.slow.invoke_arn", ["error"]),  # the reference itself names the function
        ("aws_lambda_function.other.invoke_arn", []),  # another function: nothing to compare
        ("module.backend.invoke_arn", ["note"]),  # cannot be told: a note, never an error
    ],
)
def test_timeout_chain_resolves_the_integrations_reference_and_notes_what_it_cannot(
    reference: str, expected: list[str]
) -> None:
    """Issue 21: on FAST's tree every function was flagged against an integration whose uri tfparse
    left unresolved ("compared with every function")."""
    fn = Resource(
        "aws_lambda_function", "aws_lambda_function.slow", Path("main.tf"), 1, {"id": "fn", "timeout": 60}
    )
    integ = Resource(
        "aws_api_gateway_integration",
        "aws_api_gateway_integration.chat",
        Path("main.tf"),
        9,
        {"id": "integ", "type": "AWS_PROXY", "uri": {"__attribute__": reference}},
    )
    found = run_rules(Tree(root=Path("."), resources=[fn, integ]), only={"timeout-chain"})
    assert [f.severity for f in found] == expected


POLICY_DOCUMENT = """
data "aws_iam_policy_document" "only_chat" {
  statement {
    effect    = "Deny"
    actions   = ["bedrock-agentcore:InvokeAgentRuntime"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.chat.arn]
    }
  }
}

resource "aws_bedrockagentcore_resource_policy" "agent" {
  resource_arn = aws_bedrockagentcore_agent_runtime.agent.agent_runtime_arn
  policy       = data.aws_iam_policy_document.only_chat.json
}
"""


def test_a_deny_for_all_but_the_chat_role_in_a_policy_document_passes(tmp_path: Path) -> None:
    """The same guard written as an aws_iam_policy_document with StringNotEquals aws:PrincipalArn."""
    findings = lint_paths([broken(tmp_path, [(RESOURCE_POLICY, POLICY_DOCUMENT)])])
    assert [f for f in findings if f.rule == "runtime-resource-policy"] == []
    assert [f for f in findings if f.severity != "note"] == []


def test_a_runtime_nobody_calls_through_a_function_needs_no_resource_policy(tmp_path: Path) -> None:
    """No Lambda role may invoke it: nothing says it is meant to be reached only through the front door."""
    findings = lint_paths(
        [
            broken(
                tmp_path,
                [(RESOURCE_POLICY, ""), ('["bedrock-agentcore:InvokeAgentRuntime"]', '["s3:GetObject"]')],
            )
        ]
    )
    assert "runtime-resource-policy" not in rules_of(findings)


def test_the_missing_resource_policy_names_the_runtime_and_its_caller(tmp_path: Path) -> None:
    (hit,) = [
        f
        for f in lint_paths([broken(tmp_path, [(RESOURCE_POLICY, "")])])
        if f.rule == "runtime-resource-policy"
    ]
    assert hit.severity == "warning"
    assert "aws_bedrockagentcore_agent_runtime.agent" in hit.message
    assert "aws_iam_role.chat" in hit.message
    assert "Deny" in hit.hint and "aws:PrincipalArn" in hit.hint


HTTP_API = """
resource "aws_apigatewayv2_api" "api" {
  name          = "api"
  protocol_type = "HTTP"
  cors_configuration {
    allow_origins = ["*"]
  }
}

resource "aws_apigatewayv2_route" "get" {
  api_id             = aws_apigatewayv2_api.api.id
  route_key          = "GET /items"
  authorization_type = "JWT"
  authorizer_id      = "abc123"
}
"""


@pytest.mark.parametrize(("authorization", "expected"), [("JWT", 1), ("NONE", 0)])
def test_an_http_apis_cors_wildcard_counts_only_when_the_api_requires_tokens(
    tmp_path: Path, authorization: str, expected: int
) -> None:
    """As for REST APIs: `*` on a public API is what it is for (method-without-authorizer reports
    the missing authorizer); on an API that requires tokens it is a finding."""
    (tmp_path / "main.tf").write_text(HTTP_API.replace('"JWT"', f'"{authorization}"'), encoding="utf-8")
    found = [f for f in lint_paths([tmp_path]) if f.rule == "cors-wildcard"]
    assert len(found) == expected


RUNTIME_MODULE = """
resource "aws_bedrockagentcore_agent_runtime" "this" {
  agent_runtime_name = "agent"
  role_arn           = "arn:aws:iam::123456789012:role/agent"
}

output "runtime_arn" {
  value = aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn
}

output "name" {
  value = "agent"
}
"""


@pytest.mark.parametrize(("output", "expected"), [("runtime_arn", []), ("name", ["runtime-resource-policy"])])
def test_a_resource_policy_in_the_root_reaches_the_runtime_through_the_modules_output(
    tmp_path: Path, output: str, expected: list[str]
) -> None:
    """The policy beside the module call (`resource_arn = module.runtime.runtime_arn`) guards the
    runtime inside the module; one naming another output guards nothing the rule can see."""
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "main.tf").write_text(RUNTIME_MODULE, encoding="utf-8")
    root = SECURE.replace(
        SECURE[
            SECURE.index('resource "aws_bedrockagentcore_agent_runtime" "agent"') : SECURE.index(
                RESOURCE_POLICY
            )
        ],
        'module "runtime" {\n  source = "./runtime"\n}\n\n',
    )
    root = root.replace(
        "resource_arn = aws_bedrockagentcore_agent_runtime.agent.agent_runtime_arn",
        f"resource_arn = module.runtime.{output}",
    ).replace("aws_bedrockagentcore_agent_runtime.agent.agent_runtime_arn", "module.runtime.runtime_arn")
    (tmp_path / "main.tf").write_text(root, encoding="utf-8")

    everything = lint_paths([tmp_path])
    found = [f for f in everything if f.rule == "runtime-resource-policy"]

    assert [f.rule for f in found] == expected, everything
    assert not any("resource_arn names" in f.message for f in everything), "resolved, not a note"


@pytest.mark.parametrize(
    ("replacements", "severities"),
    [
        # `type = "*"` is how a policy document writes "Principal": "*"
        ([('type        = "AWS"', 'type        = "*"')], []),
        # a pattern against a role ARN known only after apply: cannot be told, so a note
        (
            [
                ('test     = "StringNotEquals"', 'test     = "ArnNotLike"'),
                ("values   = [aws_iam_role.chat.arn]", 'values   = ["arn:aws:iam::*:role/chat-*"]'),
            ],
            ["note"],
        ),
        # the right role, but Deny for one principal only: the others are not denied
        ([('identifiers = ["*"]', "identifiers = [aws_iam_role.agent.arn]")], ["warning"]),
    ],
    ids=["principal-type-star", "pattern", "not-everyone"],
)
def test_how_the_deny_is_written_decides_what_the_rule_says(
    tmp_path: Path, replacements: list[tuple[str, str]], severities: list[str]
) -> None:
    document = POLICY_DOCUMENT
    for old, new in replacements:
        assert old in document
        document = document.replace(old, new)
    findings = lint_paths([broken(tmp_path, [(RESOURCE_POLICY, document)])])
    mine = [
        f for f in findings if f.rule == "runtime-resource-policy" or "runtime-resource-policy" in f.message
    ]
    assert [f.severity for f in mine] == severities


COUNTED_RUNTIME = """
variable "discovery_url" {
  type    = string
  default = null
}

resource "aws_bedrockagentcore_agent_runtime" "this" {
  agent_runtime_name = "bot"
  role_arn           = "arn:aws:iam::123456789012:role/bot"

  dynamic "authorizer_configuration" {
    for_each = var.discovery_url == null ? [] : [1]
    content {
      custom_jwt_authorizer {
        discovery_url = var.discovery_url
      }
    }
  }
}
"""


@pytest.mark.parametrize(
    ("default", "expected"),
    [("null", []), ('"https://idp.example.com/.well-known/openid-configuration"', [("bypass-gap", "error")])],
)
def test_a_null_input_passed_down_to_a_counted_module_decides_its_dynamic_block(
    tmp_path: Path, default: str, expected: list[tuple[str, str]]
) -> None:
    """Found on a public tree: `discovery_url = var.discovery_url` (null by default) into a module
    with `count` left the runtime's authorizer unresolved (a note) where the call decides it."""
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "main.tf").write_text(COUNTED_RUNTIME, encoding="utf-8")
    (tmp_path / "main.tf").write_text(
        f'variable "discovery_url" {{\n  type    = string\n  default = {default}\n}}\n\n'
        'module "bot" {\n  count         = 1\n  source        = "./bot"\n  discovery_url = var.discovery_url\n}\n\n'
        'resource "aws_api_gateway_rest_api" "api" {\n  name = "api"\n}\n',
        encoding="utf-8",
    )
    found = [(f.rule, f.severity) for f in lint_paths([tmp_path]) if "aws_bedrockagentcore" in f.message]
    assert found == expected


@pytest.mark.parametrize(
    ("condition", "said"),
    [
        ("", "the front door's own aws_iam_role.chat included"),  # Deny everyone, always
        (  # a Deny under another condition is not the guard: the policy only narrows by network
            '    condition {\n      test     = "StringNotEquals"\n      variable = "aws:SourceVpc"\n'
            '      values   = ["vpc-1a2b3c4d"]\n    }\n',
            "has no Deny of InvokeAgentRuntime for every principal but aws_iam_role.chat",
        ),
    ],
    ids=["no-exception", "other-condition"],
)
def test_a_deny_without_the_principal_exception_is_named_for_what_it_does(
    tmp_path: Path, condition: str, said: str
) -> None:
    start = POLICY_DOCUMENT.index("    condition {")
    end = POLICY_DOCUMENT.index("    }\n", POLICY_DOCUMENT.index("values   = [aws_iam_role.chat.arn]")) + 6
    document = POLICY_DOCUMENT[:start] + condition + POLICY_DOCUMENT[end:]
    (hit,) = [
        f
        for f in lint_paths([broken(tmp_path, [(RESOURCE_POLICY, document)])])
        if f.rule == "runtime-resource-policy"
    ]
    assert said in hit.message


def test_the_resource_policys_own_allow_is_not_read_as_an_identity_grant(tmp_path: Path) -> None:
    """An Allow for the chat role in the runtime's resource policy names the runtime as its resource
    (known only after apply): agentcore-wildcard-iam has nothing to resolve there, so no note."""
    allow = (
        '  statement {\n    effect    = "Allow"\n    actions   = ["bedrock-agentcore:InvokeAgentRuntime"]\n'
        "    resources = [aws_bedrockagentcore_agent_runtime.agent.agent_runtime_arn]\n"
        '    principals {\n      type        = "AWS"\n      identifiers = [aws_iam_role.chat.arn]\n    }\n  }\n'
    )
    document = POLICY_DOCUMENT.replace(
        'data "aws_iam_policy_document" "only_chat" {\n',
        f'data "aws_iam_policy_document" "only_chat" {{\n{allow}',
    )
    findings = lint_paths([broken(tmp_path, [(RESOURCE_POLICY, document)])])
    assert not [f for f in findings if "only_chat" in f.message], findings
    assert "runtime-resource-policy" not in rules_of(findings)


def test_a_role_policy_whose_role_cannot_be_resolved_names_no_function(tmp_path: Path) -> None:
    # Given a function and a role policy whose role tfparse left as an object (e.g. a prefixed name)
    fn = Resource(
        "aws_lambda_function", "aws_lambda_function.chat", tmp_path / "main.tf", 1, {"id": "fn", "role": "r"}
    )
    policy = Resource(
        "aws_iam_role_policy",
        "aws_iam_role_policy.chat",
        tmp_path / "main.tf",
        9,
        {"id": "rp", "role": {"unresolved": "aws_iam_role.chat.id"}, "policy": "{}"},
    )

    # When the rules that look for the function's grants run, they finish and find no agent caller
    findings = run_rules(Tree(root=tmp_path, resources=[fn, policy]), {"no-reserved-concurrency"})

    assert findings == []
