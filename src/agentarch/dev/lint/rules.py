"""Architecture rules: the bypass gap and its cousins, on any evaluated Terraform tree.

Each rule looks at the resources tfparse evaluated (see `model.py`), links them by id, and yields
(resource, message). A value that could not be resolved gives an `unresolved` note instead of a
guess. `RULES` lists them; `run_rules` runs them all.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentarch.dev.lint.findings import Finding
from agentarch.dev.lint.hcl import load_module
from agentarch.dev.lint.model import Resource, Tree, dynamic_from_input, module_instance, unresolved

RUNTIME = "aws_bedrockagentcore_agent_runtime"
INVOKE_ACTIONS = (
    "bedrock-agentcore:invokeagentruntime",
    "bedrock-agentcore:invoke*",
    "bedrock-agentcore:*",
    "*",
)
DEADLINE_ENV = re.compile(r"(TOTAL_TIMEOUT|DEADLINE)_SECONDS$")
DEFAULT_INTEGRATION_TIMEOUT_MS = 29000
DEFAULT_LAMBDA_TIMEOUT_S = 3

Hit = tuple[Resource, str]


@dataclass(frozen=True)
class Rule:
    """One rule: its id, default severity, what it means, how to fix it, and the check."""

    id: str
    severity: str
    summary: str
    hint: str
    check: Callable[[Tree], Iterator[Hit]]


# --- helpers ---------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _block_present(res: Resource, name: str) -> tuple[bool | None, Any]:
    """Is nested block `name` there? Uses our own reading of a dynamic block tfparse dropped."""
    if name in res.body and res.body[name] is not None and name not in res.dropped_dynamic:
        return True, res.body[name]
    if name not in res.dropped_dynamic:
        return False, None
    present, value = dynamic_from_input(res, name)
    if present is None:
        return None, None
    if isinstance(value, bool | list | dict) and not value:
        return False, None
    return present, value


def _jwt_authorizer(runtime: Resource) -> tuple[bool | None, dict[str, Any]]:
    present, value = _block_present(runtime, "authorizer_configuration")
    if not present:
        return present, {}
    block = value[0] if isinstance(value, list) and value else value
    if isinstance(block, dict) and "custom_jwt_authorizer" in block:
        inner = block["custom_jwt_authorizer"]
        block = inner[0] if isinstance(inner, list) and inner else inner
    return True, block if isinstance(block, dict) else {}


def front_doors(tree: Tree) -> list[Resource]:
    """REST and HTTP APIs of the tree."""
    return tree.of("aws_api_gateway_rest_api") + tree.of("aws_apigatewayv2_api")


def _user_token_trust(tree: Tree) -> tuple[set[str], set[str], list[Resource]]:
    """(user pool ids, issuer/audience strings, authorizers) the API Gateway authorizers trust."""
    pools: set[str] = set()
    strings: set[str] = set()
    authorizers: list[Resource] = []
    for auth in tree.of("aws_api_gateway_authorizer"):
        if auth.body.get("type") == "COGNITO_USER_POOLS":
            authorizers.append(auth)
            pools.update(p for p in _list(auth.body.get("provider_arns")) if isinstance(p, str))
    for auth in tree.of("aws_apigatewayv2_authorizer"):
        jwt = auth.get("jwt_configuration") or {}
        authorizers.append(auth)
        strings.update(s for s in [jwt.get("issuer"), *_list(jwt.get("audience"))] if isinstance(s, str))
    return pools, strings, authorizers


def _document_statement(st: dict[str, Any]) -> dict[str, Any]:
    """One `statement` block of an aws_iam_policy_document, in the JSON policy's terms."""
    principal: dict[str, list[Any]] = {}
    for block in _list(st.get("principals")):
        if isinstance(block, dict):
            principal.setdefault(str(block.get("type")), []).extend(_list(block.get("identifiers")))
    condition: dict[str, dict[str, list[Any]]] = {}
    for block in _list(st.get("condition")):
        if isinstance(block, dict):
            tests = condition.setdefault(str(block.get("test")), {})
            tests.setdefault(str(block.get("variable")), []).extend(_list(block.get("values")))
    refs = {r.get("id") for r in (st.get("__tfmeta") or {}).get("references", []) if isinstance(r, dict)}
    return {
        "Effect": st.get("effect") or "Allow",
        "Action": _list(st.get("actions")),
        "Resource": st.get("resources"),
        "Principal": principal or None,
        "Condition": condition,
        "Refs": refs,
    }


def _json_statements(text: Any) -> list[dict[str, Any]] | None:
    """Statements of a JSON policy text, normalised; None when it is not JSON (not resolved)."""
    if not (isinstance(text, str) and text.lstrip().startswith("{")):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return [
        {
            "Effect": st.get("Effect"),
            "Action": _list(st.get("Action")),
            "Resource": st.get("Resource"),
            "Principal": st.get("Principal"),
            "Condition": st.get("Condition") if isinstance(st.get("Condition"), dict) else {},
            "Refs": set(),
        }
        for st in _list(doc.get("Statement"))
        if isinstance(st, dict)
    ]


def _statements(policy: Resource) -> Iterator[dict[str, Any]]:
    """Statements of a policy document data source or of a JSON `policy` argument, normalised
    (Effect, Action, Resource, Principal, Condition, and Refs: the resource ids a document reads)."""
    if policy.type == "aws_iam_policy_document":
        yield from (_document_statement(st) for st in policy.blocks("statement"))
        return
    yield from _json_statements(policy.body.get("policy")) or []


def _policies(tree: Tree) -> list[Resource]:
    kinds = ("aws_iam_policy_document", "aws_iam_role_policy", "aws_iam_policy")
    return [r for r in tree.resources if r.type in kinds]


def _grants_invoke(statement: dict[str, Any]) -> bool:
    return statement["Effect"] == "Allow" and any(
        isinstance(a, str) and a.lower() in INVOKE_ACTIONS for a in statement["Action"]
    )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- rules -------------------------------------------------------------------------------------


def check_bypass_gap(tree: Tree) -> Iterator[Hit]:
    pools, strings, authorizers = _user_token_trust(tree)
    doors = front_doors(tree)
    for runtime in tree.of(RUNTIME):
        present, jwt = _jwt_authorizer(runtime)
        if present is None:
            yield runtime, f"UNRESOLVED:{runtime.address}: whether it has a JWT authorizer"
        if not present or not doors:
            continue
        url = jwt.get("discovery_url")
        clients = [c for c in _list(jwt.get("allowed_clients")) if isinstance(c, str)]
        client_pools = {r.body.get("user_pool_id") for c in clients if (r := tree.by_id(c)) is not None}
        same_pool = (isinstance(url, str) and any(p in url for p in pools)) or bool(client_pools & pools)
        same_issuer = bool({url, *clients, *_list(jwt.get("allowed_audience"))} & strings)
        if (same_pool or same_issuer) and authorizers:
            names = ", ".join(a.address for a in authorizers)
            yield (
                runtime,
                (
                    f"{runtime.address} has a JWT authorizer trusting the same user pool/issuer as {names}: "
                    "a token the front door accepts also opens the runtime directly, past WAF and throttling"
                ),
            )
        else:
            yield (
                runtime,
                (
                    f"{runtime.address} accepts user tokens (JWT authorizer) while an API front door exists "
                    f"({', '.join(d.address for d in doors)}): callers can go around it"
                ),
            )


def check_no_front_door(tree: Tree) -> Iterator[Hit]:
    if front_doors(tree):
        return
    for runtime in tree.of(RUNTIME):
        present, _ = _jwt_authorizer(runtime)
        if present:
            yield (
                runtime,
                (
                    f"{runtime.address} is reached with user tokens and no API front door: no WAF, rate "
                    "limit, body limit or validation in front of the agent"
                ),
            )


def check_method_without_authorizer(tree: Tree) -> Iterator[Hit]:
    for method in tree.of("aws_api_gateway_method"):
        verb, auth = method.body.get("http_method"), method.body.get("authorization")
        if verb == "OPTIONS":
            continue
        if unresolved(auth) or unresolved(verb):
            yield method, f"UNRESOLVED:{method.address}: its authorization"
        elif str(auth).upper() == "NONE":
            yield (
                method,
                f"{method.address} ({verb}) has authorization NONE: anyone on the internet can call it",
            )
    for route in tree.of("aws_apigatewayv2_route"):
        key, auth = str(route.body.get("route_key", "")), route.body.get("authorization_type")
        if key.startswith("OPTIONS ") or unresolved(route.body.get("route_key")):
            continue
        if auth in (None, "NONE"):
            yield route, f"{route.address} ({key}) has no authorizer"


def check_authorizer_without_scopes(tree: Tree) -> Iterator[Hit]:
    for method in tree.of("aws_api_gateway_method"):
        if method.body.get("authorization") != "COGNITO_USER_POOLS":
            continue
        scopes = method.body.get("authorization_scopes")
        if isinstance(scopes, dict) and "__attribute__" in scopes:
            yield method, f"UNRESOLVED:{method.address}: authorization_scopes could not be resolved"
        elif not scopes:
            yield (
                method,
                (
                    f"{method.address} uses a Cognito authorizer without authorization_scopes: it accepts "
                    "ID tokens, and any access token of the pool whatever its scopes"
                ),
            )


def check_stage_without_waf(tree: Tree) -> Iterator[Hit]:
    associations = tree.of("aws_wafv2_web_acl_association")
    protected = {a.body.get("resource_arn") for a in associations}
    unknown = any(unresolved(a.body.get("resource_arn")) for a in associations)
    for stage in tree.of("aws_api_gateway_stage"):
        if stage.id in protected or stage.body.get("web_acl_arn"):
            continue
        if unknown:
            yield (
                stage,
                f"UNRESOLVED:{stage.address}: a web ACL association's resource_arn could not be resolved",
            )
        else:
            yield stage, f"{stage.address} has no WAF web ACL association"


def check_waf_without_rate_rule(tree: Tree) -> Iterator[Hit]:
    for acl in tree.of("aws_wafv2_web_acl"):
        rules = acl.blocks("rule")
        if any("rate_based_statement" in (r.get("statement") or {}) for r in rules):
            continue
        if "rule" in acl.dropped_dynamic:
            yield acl, f"UNRESOLVED:{acl.address}: its dynamic rule blocks could not be expanded"
        else:
            yield (
                acl,
                f"{acl.address} has no rate-based rule: one client can send as many requests as it likes",
            )


def check_agentcore_wildcard(tree: Tree) -> Iterator[Hit]:
    for policy in _policies(tree):
        for st in _statements(policy):
            if st["Effect"] != "Allow":
                continue
            actions = {a.lower() for a in st["Action"] if isinstance(a, str)}
            if actions & {"bedrock-agentcore:*", "*"}:
                shown = sorted(actions & {"bedrock-agentcore:*", "*"})
                yield (
                    policy,
                    f"{policy.address} allows {', '.join(shown)}: every AgentCore action on every resource",
                )
                continue
            if not _grants_invoke(st) or st.get("Principal"):
                continue  # a resource policy's statement: its resource is the one it is attached to
            resources = _list(st["Resource"])
            if any(unresolved(r) for r in resources) or unresolved(st["Resource"]):
                yield policy, f"UNRESOLVED:{policy.address}: the resources of its InvokeAgentRuntime grant"
            elif any(r == "*" or (isinstance(r, str) and r.endswith(":runtime/*")) for r in resources):
                yield policy, f"{policy.address} allows InvokeAgentRuntime on every runtime (*)"


def _lambda_env(fn: Resource) -> dict[str, Any] | None:
    """The function's environment variables; None when they could not be resolved."""
    env = fn.get("environment", "variables")
    if isinstance(env, dict):
        return env
    present, value = _block_present(fn, "environment")
    if present is None or (present and not isinstance(value, dict)):
        return None
    return value if present else {}


def _links(uri: Any, integ: Resource, fn: Resource) -> bool | None:
    """Does the integration's uri call `fn`? tfparse leaves `aws_lambda_function.x.invoke_arn` as a
    marker naming the reference: it is resolved against the function's address in the same module.
    None when it cannot be told."""
    if not unresolved(uri):
        return uri in (fn.id, fn.body.get("invoke_arn"))
    if isinstance(uri, dict):
        named = re.sub(r"\[[^\]]*\]", "", str(uri.get("__attribute__", "")))
        match = re.fullmatch(r"(aws_lambda_function\.[\w-]+)\.(invoke_arn|arn|qualified_invoke_arn)", named)
        if match:
            module = integ.address.rsplit("aws_api_gateway_integration", 1)[0]
            return re.sub(r"\[[^\]]*\]", "", fn.address) == f"{module}{match.group(1)}"
    return None


def check_timeout_chain(tree: Tree) -> Iterator[Hit]:
    integrations = [
        i for i in tree.of("aws_api_gateway_integration") if i.body.get("type") in ("AWS_PROXY", "AWS")
    ]
    for fn in tree.of("aws_lambda_function"):
        timeout = _number(fn.body.get("timeout", DEFAULT_LAMBDA_TIMEOUT_S))
        if timeout is None:
            yield fn, f"UNRESOLVED:{fn.address}: timeout could not be resolved"
            continue
        for integ in integrations:
            uri = integ.body.get("uri")
            linked = _links(uri, integ, fn)
            if linked is False:
                continue
            limit = _number(integ.body.get("timeout_milliseconds", DEFAULT_INTEGRATION_TIMEOUT_MS))
            if limit is None or timeout < limit / 1000:
                continue
            if linked is None:  # an unresolved link is a note, never an error
                yield fn, f"UNRESOLVED:{integ.address}: its uri, so whether it calls {fn.address}"
                continue
            yield (
                fn,
                (
                    f"{fn.address} times out after {timeout:g} s, not before {integ.address}'s "
                    f"{limit / 1000:g} s: API Gateway answers 504 while the function still runs"
                ),
            )
        env = _lambda_env(fn)
        if env is None:
            yield fn, f"UNRESOLVED:{fn.address}: its environment, so the client deadline was not compared"
            continue
        for name, value in env.items():
            deadline = _number(value)
            if DEADLINE_ENV.search(name) and deadline is not None and deadline >= timeout:
                yield (
                    fn,
                    (
                        f"{fn.address}: {name}={value} is not below its timeout of {timeout:g} s: the function is "
                        "killed before the client's deadline answers"
                    ),
                )


STREAMING_URI = re.compile(r":lambda:path/2021-11-15/functions/.+/response-streaming-invocations$")


def check_stream_integration(tree: Tree) -> Iterator[Hit]:
    """A STREAM integration streams only as a REST proxy integration calling the function's
    response-streaming-invocations (the 2015-03-31 invoke ARN buffers: the client waits for it all)."""
    for integ in tree.of("aws_api_gateway_integration"):
        mode = integ.body.get("response_transfer_mode")
        if unresolved(mode):
            yield integ, f"UNRESOLVED:{integ.address}: its response_transfer_mode"
            continue
        if mode != "STREAM":
            continue
        kind = integ.body.get("type")
        if kind not in ("AWS_PROXY", "HTTP_PROXY"):
            yield (
                integ,
                f"{integ.address} streams, but its type is {kind}: only proxy integrations can stream",
            )
            continue
        if kind != "AWS_PROXY":
            continue
        uri = integ.body.get("uri")
        if isinstance(uri, str) and not STREAMING_URI.search(uri):
            yield (
                integ,
                f"{integ.address} streams, but its uri is not the function's response-streaming-invocations",
            )
        elif unresolved(uri):
            named = str(uri.get("__attribute__", "")) if isinstance(uri, dict) else ""
            if re.search(
                r"aws_lambda_function\.[\w-]+(\[[^\]]*\])?\.(invoke_arn|qualified_invoke_arn)$", named
            ):
                yield (
                    integ,
                    f"{integ.address} streams, but its uri is the function's invoke_arn, which buffers",
                )
            else:
                yield integ, f"UNRESOLVED:{integ.address}: its uri, so whether it is the streaming one"


def check_cors_wildcard(tree: Tree) -> Iterator[Hit]:
    authed = {
        m.body.get("rest_api_id")
        for m in tree.of("aws_api_gateway_method")
        if str(m.body.get("authorization", "NONE")).upper() != "NONE"
    }
    kinds = (
        "aws_api_gateway_integration_response",
        "aws_api_gateway_method_response",
        "aws_api_gateway_gateway_response",
    )
    for res in (r for r in tree.resources if r.type in kinds):
        params = res.body.get("response_parameters") or {}
        origin = params.get("method.response.header.Access-Control-Allow-Origin") or params.get(
            "gatewayresponse.header.Access-Control-Allow-Origin"
        )
        if isinstance(origin, str) and origin.strip("'\" ") == "*" and res.body.get("rest_api_id") in authed:
            yield res, f"{res.address} answers Access-Control-Allow-Origin '*' on an API that requires tokens"
    authed_v2 = {
        r.body.get("api_id")
        for r in tree.of("aws_apigatewayv2_route")
        if str(r.body.get("authorization_type") or "NONE").upper() != "NONE"
    }
    for api in tree.of("aws_apigatewayv2_api"):
        origins = _list(api.get("cors_configuration", "allow_origins"))
        if "*" in origins and api.id in authed_v2:
            yield api, f"{api.address} allows CORS from any origin (*) on an API that requires tokens"


def check_access_logs(tree: Tree) -> Iterator[Hit]:
    for stage in tree.of("aws_api_gateway_stage") + tree.of("aws_apigatewayv2_stage"):
        present, _ = _block_present(stage, "access_log_settings")
        if present is None:
            yield stage, f"UNRESOLVED:{stage.address}: whether access_log_settings is set"
        elif not present:
            yield stage, f"{stage.address} writes no access logs: nobody can tell who called what"


def check_log_retention(tree: Tree) -> Iterator[Hit]:
    for group in tree.of("aws_cloudwatch_log_group"):
        days = group.body.get("retention_in_days")
        if isinstance(days, dict):
            yield group, f"UNRESOLVED:{group.address}: retention_in_days could not be resolved"
        elif not days:
            yield group, f"{group.address} keeps its logs forever (no retention_in_days)"


def _invoke_grants(tree: Tree, fn: Resource) -> list[dict[str, Any]]:
    """The statements of the function role's policies that allow InvokeAgentRuntime."""
    role = fn.body.get("role")
    role_res = tree.by_id(role)
    keys = {k for k in (role, role_res and role_res.body.get("name")) if isinstance(k, str)}
    keys |= {role_res.id} if role_res and role_res.id else set()
    documents: list[Resource] = []
    for rp in tree.of("aws_iam_role_policy"):
        if _names(rp.body.get("role"), keys):
            doc = tree.by_id(rp.body.get("policy"))
            documents.append(doc if doc is not None else rp)
    for att in tree.of("aws_iam_role_policy_attachment"):
        if _names(att.body.get("role"), keys):
            policy = tree.by_id(att.body.get("policy_arn"))
            doc = tree.by_id(policy.body.get("policy")) if policy else None
            documents += [d for d in (doc, policy) if d is not None]
    return [st for doc in documents for st in _statements(doc) if _grants_invoke(st)]


def _names(value: Any, keys: set[str]) -> bool:
    """Whether a role argument names one of `keys` (an unresolved value, e.g. an object, names none)."""
    return isinstance(value, str) and value in keys


def _invokes_agent(tree: Tree, fn: Resource) -> bool:
    return bool(_invoke_grants(tree, fn))


def check_reserved_concurrency(tree: Tree) -> Iterator[Hit]:
    for fn in tree.of("aws_lambda_function"):
        if not _invokes_agent(tree, fn):
            continue
        reserved = _number(fn.body.get("reserved_concurrent_executions", -1))
        if reserved is None:
            yield fn, f"UNRESOLVED:{fn.address}: reserved_concurrent_executions could not be resolved"
        elif reserved < 0:
            yield (
                fn,
                (
                    f"{fn.address} invokes an agent with no reserved concurrency: a burst of requests can "
                    "run up the model bill (denial of wallet)"
                ),
            )


# --- runtime resource policy ------------------------------------------------------------------

RESOURCE_POLICY = "aws_bedrockagentcore_resource_policy"
_NOT_EQUAL_OPS = {
    "stringnotequals",
    "stringnotequalsignorecase",
    "stringnotlike",
    "arnnotequals",
    "arnnotlike",
}
_PRINCIPAL_ARN = "aws:principalarn"


def _may_target(statement: dict[str, Any], runtime: Resource) -> bool:
    """Could this InvokeAgentRuntime grant cover `runtime`? Yes unless its resources are all known
    and none is the runtime (or the ids it reads show it names another resource)."""
    if runtime.id and runtime.id in statement["Refs"]:
        return True
    resources = _list(statement["Resource"])
    known = [r for r in resources if isinstance(r, str)]
    if any(r == runtime.id or r == "*" or fnmatch.fnmatchcase(r, "*:runtime/*") for r in known):
        return True
    return len(known) < len(resources) and not statement["Refs"]


def _callers(tree: Tree, runtime: Resource) -> list[tuple[Resource, str]]:
    """(function, role) of every Lambda function whose role is allowed to invoke `runtime`."""
    found = []
    for fn in tree.of("aws_lambda_function"):
        role = fn.body.get("role")
        if isinstance(role, str) and any(_may_target(st, runtime) for st in _invoke_grants(tree, fn)):
            found.append((fn, role))
    return found


def _plain(address: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", address)


def _module_dir(tree: Tree, module: str) -> Path | None:
    """The directory of module instance `module` (plain address), from a resource it holds."""
    return next((r.file.parent for r in tree.resources if _plain(module_instance(r.address)) == module), None)


def _names_runtime(tree: Tree, reference: str, module: str, runtime: Resource, depth: int = 0) -> bool | None:
    """Does `reference`, read in module instance `module`, name the runtime's ARN or id? Follows
    module outputs (`module.runtime.runtime_arn`) into the called module. None when it cannot tell."""
    named = _plain(reference)
    direct = re.fullmatch(rf"({RUNTIME}\.[\w-]+)\.(agent_runtime_arn|agent_runtime_id|arn|id)", named)
    if direct:
        return _plain(runtime.address) == f"{module}.{direct.group(1)}".lstrip(".")
    output = re.fullmatch(r"module\.([\w-]+)\.([\w-]+)", named)
    if output is None or depth > 10:
        return None
    child = f"{module}.module.{output.group(1)}".lstrip(".")
    if not _plain(runtime.address).startswith(f"{child}."):
        return False
    directory = _module_dir(tree, child)
    block = load_module(directory).outputs.get(output.group(2)) if directory else None
    value = block.body.get("value") if block else None
    if not (isinstance(value, str) and re.fullmatch(r"\$\{[\w.\[\]\"-]+\}", value)):
        return None
    return _names_runtime(tree, value[2:-1], child, runtime, depth + 1)


def _targets(tree: Tree, policy: Resource, runtime: Resource) -> bool | None:
    """Is the resource policy's resource_arn the runtime? tfparse leaves a reference to the runtime's
    ARN as a marker naming it, resolved here from the policy's module. None when it cannot be told."""
    arn = policy.body.get("resource_arn")
    if isinstance(arn, str):
        return arn == runtime.id
    if isinstance(arn, dict) and "__attribute__" in arn:
        return _names_runtime(
            tree, str(arn["__attribute__"]), _plain(module_instance(policy.address)), runtime
        )
    return None


def _everyone(principal: Any) -> bool:
    """`"*"`, `{"AWS": "*"}`, or a policy document's `principals { type = "*" identifiers = ["*"] }`."""
    if principal == "*":
        return True
    return isinstance(principal, dict) and any("*" in _list(principal.get(k)) for k in ("AWS", "*"))


def _excepted(statement: dict[str, Any]) -> list[Any] | None:
    """The principal ARNs a Deny for everyone excepts (aws:PrincipalArn in a not-equal condition),
    or None when it excepts nobody that way."""
    for operator, tests in statement["Condition"].items():
        if str(operator).lower() not in _NOT_EQUAL_OPS or not isinstance(tests, dict):
            continue
        for key, values in tests.items():
            if str(key).lower() == _PRINCIPAL_ARN:
                return _list(values)
    return None


def _deny_verdict(statements: list[dict[str, Any]], roles: set[str]) -> tuple[str, Any]:
    """("ok", None) when a Deny of InvokeAgentRuntime for every principal excepts exactly the
    callers' roles (and perhaps others); else ("none"|"unresolved"|"denies-caller", detail)."""
    verdict: tuple[str, Any] = ("none", None)
    for st in statements:
        denies = st["Effect"] == "Deny" and any(
            isinstance(a, str)
            and (a.lower() in INVOKE_ACTIONS or a.lower() == "bedrock-agentcore:invokeagentruntime*")
            for a in st["Action"]
        )
        if not denies or not _everyone(st["Principal"]):
            continue
        excepted = _excepted(st)
        if excepted is None:
            if not st["Condition"]:  # everyone, always: the front door's role too
                return "denies-caller", sorted(roles)
            continue  # a Deny under other conditions (a VPC, an org): not the guard asked for
        if any(not isinstance(v, str) for v in excepted):
            verdict = ("unresolved", None)
            continue
        missing = {r for r in roles if not any(fnmatch.fnmatchcase(r, v) for v in excepted)}
        if not missing:
            return "ok", None
        if any("*" in v for v in excepted) and not all(r.startswith("arn:") for r in missing):
            verdict = ("unresolved", None)  # a pattern, and a role ARN known only after apply
            continue
        verdict = ("denies-caller", sorted(missing))
    return verdict


def _policy_statements(tree: Tree, policy: Resource) -> list[dict[str, Any]] | None:
    text = policy.body.get("policy")
    document = tree.by_id(text)
    if document is not None and document.type == "aws_iam_policy_document":
        return list(_statements(document))
    return _json_statements(text)


def _shown_roles(tree: Tree, callers: list[tuple[Resource, str]]) -> str:
    names = sorted({(r.address if (r := tree.by_id(role)) else role) for _, role in callers})
    return ", ".join(names)


def check_runtime_resource_policy(tree: Tree) -> Iterator[Hit]:
    doors = front_doors(tree)
    if not doors:
        return
    policies = tree.of(RESOURCE_POLICY)
    for runtime in tree.of(RUNTIME):
        present, _ = _jwt_authorizer(runtime)
        callers = _callers(tree, runtime)
        # Accepting user tokens is bypass-gap's to report; with no function calling it, nothing
        # says it is meant to be reached only through the front door.
        if present is not False or not callers:
            continue
        roles = {role for _, role in callers}
        shown = _shown_roles(tree, callers)
        linked = [(p, _targets(tree, p, runtime)) for p in policies]
        mine = [p for p, hit in linked if hit]
        if not mine:
            if any(hit is None for _, hit in linked):
                yield (
                    runtime,
                    f"UNRESOLVED:{runtime.address}: which runtime its resource policies' resource_arn names",
                )
                continue
            yield (
                runtime,
                (
                    f"{runtime.address} is meant to be reached only through the front door (invoked by {shown}) "
                    f"but has no {RESOURCE_POLICY}: any other principal of the account allowed "
                    "bedrock-agentcore:InvokeAgentRuntime on it (or on *) calls the agent directly, past the front door"
                ),
            )
            continue
        for policy in mine:
            statements = _policy_statements(tree, policy)
            verdict, detail = ("unresolved", None) if statements is None else _deny_verdict(statements, roles)
            if verdict == "unresolved":
                yield (
                    policy,
                    f"UNRESOLVED:{policy.address}: its policy document or the principals its Deny excepts",
                )
            elif verdict == "none":
                yield (
                    policy,
                    (
                        f"{policy.address} on {runtime.address} has no Deny of InvokeAgentRuntime for every principal "
                        f"but {shown}: within one account an Allow in either the identity or the resource policy "
                        "grants access, so a policy that only allows adds nothing"
                    ),
                )
            elif verdict == "denies-caller":
                yield (
                    policy,
                    (
                        f"{policy.address} denies InvokeAgentRuntime to every principal, the front door's own "
                        f"{_shown_roles(tree, [(runtime, str(d)) for d in detail or ()])} included: "
                        "except it with aws:PrincipalArn"
                    ),
                )


def check_unfollowed(tree: Tree) -> Iterator[Hit]:
    for address, source, file, line in tree.remote_modules:
        stub = Resource(type="module", address=address, file=file, line=line, body={})
        yield stub, f"UNRESOLVED:{address}: source {source!r} is not local; its resources were not checked"


RULES: tuple[Rule, ...] = (
    Rule(
        "bypass-gap",
        "error",
        "An AgentCore runtime accepts the user tokens an API front door also accepts.",
        "Drop the runtime's JWT authorizer (IAM/SigV4 inbound auth) and let only the front door's "
        "function role invoke it (pattern 2).",
        check_bypass_gap,
    ),
    Rule(
        "no-front-door",
        "warning",
        "The browser reaches an AgentCore runtime with user tokens and nothing in front of it.",
        "Put API Gateway with a Cognito authorizer and WAF in front, and switch the runtime to IAM auth.",
        check_no_front_door,
    ),
    Rule(
        "method-without-authorizer",
        "error",
        "An API method other than OPTIONS has no authorizer.",
        'Set authorization = "COGNITO_USER_POOLS" (or AWS_IAM/CUSTOM) and an authorizer_id.',
        check_method_without_authorizer,
    ),
    Rule(
        "authorizer-without-scopes",
        "error",
        "A Cognito authorizer without scopes accepts ID tokens where access tokens are expected.",
        "Set authorization_scopes on the method to the resource server scope the API expects.",
        check_authorizer_without_scopes,
    ),
    Rule(
        "stage-without-waf",
        "error",
        "A REST API stage has no WAF web ACL association.",
        "Add aws_wafv2_web_acl_association with resource_arn = the stage's arn.",
        check_stage_without_waf,
    ),
    Rule(
        "waf-without-rate-rule",
        "error",
        "A WAF web ACL has no rate-based rule.",
        'Add a rule with a rate_based_statement (aggregate_key_type = "IP") that blocks.',
        check_waf_without_rate_rule,
    ),
    Rule(
        "agentcore-wildcard-iam",
        "error",
        "A policy grants bedrock-agentcore:* (or *), or InvokeAgentRuntime on every runtime.",
        "Grant bedrock-agentcore:InvokeAgentRuntime on the runtime's ARN (and its /runtime-endpoint/*).",
        check_agentcore_wildcard,
    ),
    Rule(
        "timeout-chain",
        "error",
        "The timeout chain is broken: integration timeout > Lambda timeout > client deadline must hold.",
        "Keep the Lambda timeout below the API Gateway integration timeout (29 s by default) and the "
        "agent call's total deadline below the Lambda timeout.",
        check_timeout_chain,
    ),
    Rule(
        "stream-integration",
        "error",
        "A STREAM integration that cannot stream: not a REST proxy integration, or not the Lambda "
        "response-streaming-invocations URI.",
        'Use type = "AWS_PROXY" and uri = "arn:aws:apigateway:<region>:lambda:path/2021-11-15/functions/'
        '<function ARN>/response-streaming-invocations" (HTTP APIs cannot stream).',
        check_stream_integration,
    ),
    Rule(
        "cors-wildcard",
        "error",
        "An authenticated API allows CORS from any origin.",
        "Answer Access-Control-Allow-Origin with the web app's origin(s) only.",
        check_cors_wildcard,
    ),
    Rule(
        "access-logs",
        "warning",
        "An API stage writes no access logs.",
        "Set access_log_settings on the stage (it needs the account's API Gateway CloudWatch role once).",
        check_access_logs,
    ),
    Rule(
        "log-retention",
        "warning",
        "A log group keeps its logs forever.",
        "Set retention_in_days on the log group.",
        check_log_retention,
    ),
    Rule(
        "no-reserved-concurrency",
        "warning",
        "A function that invokes an agent has no reserved concurrency (denial of wallet).",
        "Set reserved_concurrent_executions to the most concurrent agent calls you are willing to pay for.",
        check_reserved_concurrency,
    ),
    Rule(
        "runtime-resource-policy",
        "warning",
        "A runtime meant to be reached only through the front door has no resource policy denying every "
        "other principal.",
        "Add aws_bedrockagentcore_resource_policy on the runtime with a Deny of "
        'bedrock-agentcore:InvokeAgentRuntime for Principal "*" under the condition ArnNotEquals '
        "aws:PrincipalArn = the front door function's role ARN (an Allow alone adds nothing in one account).",
        check_runtime_resource_policy,
    ),
    Rule(
        "unresolved",
        "note",
        "A value or module the linter could not resolve; rules that need it did not guess.",
        "Nothing to fix if the value is right; a local module source or literal value lets the rules check it.",
        check_unfollowed,
    ),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}


def run_rules(tree: Tree, only: set[str] | None = None, root: str = "") -> list[Finding]:
    """Every finding of every rule (or of the rules in `only`) on one evaluated tree; `root` names the
    tree's root as the user should see it, each finding also names the module instance it is in."""
    findings: list[Finding] = []
    unresolved_rule = RULES_BY_ID["unresolved"]
    for rule in RULES:
        if only is not None and rule.id not in only:
            continue
        for res, message in rule.check(tree):
            if message.startswith("UNRESOLVED:"):
                text = f"could not resolve {message.removeprefix('UNRESOLVED:')} (rule {rule.id} skipped it)"
                if rule.id == "unresolved":
                    text = f"could not resolve {message.removeprefix('UNRESOLVED:')}"
                findings.append(
                    Finding(
                        res.file,
                        "unresolved",
                        text,
                        "note",
                        res.line,
                        unresolved_rule.hint,
                        root,
                        module_instance(res.address),
                    )
                )
            else:
                findings.append(
                    Finding(
                        res.file,
                        rule.id,
                        message,
                        rule.severity,
                        res.line,
                        rule.hint,
                        root,
                        module_instance(res.address),
                    )
                )
    return sorted(set(findings))
