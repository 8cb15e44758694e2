data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  # One origin is answered as a constant; several are answered by echoing the request's Origin when
  # it is in the list (preflight) or as the request's Origin (gateway errors: bodies carry no data).
  cors_origin   = var.allowed_origins[0]
  multi_origins = length(var.allowed_origins) > 1
  # Mapping-template snippet: answer the request's Origin when it is one of allowed_origins.
  cors_echo = local.multi_origins ? join("", [
    "#set($origin = $input.params().header.get('Origin'))",
    "#if(\"$!origin\" == \"\")#set($origin = $input.params().header.get('origin'))#end",
    "#set($allowed = ${jsonencode(var.allowed_origins)})",
    "#if($allowed.contains($origin))#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)#end\n",
  ]) : ""

  # API Gateway resources form a tree; a resource cannot reference another instance of itself, so
  # the tree is built one depth at a time (paths of up to four segments).
  route_paths = distinct([for r in var.routes : trim(r.path, "/")])
  prefixes = distinct(flatten([
    for p in local.route_paths : [
      for i in range(1, length(split("/", p)) + 1) : join("/", slice(split("/", p), 0, i))
    ]
  ]))
  level1 = { for p in local.prefixes : p => p if length(split("/", p)) == 1 }
  level2 = { for p in local.prefixes : p => { parent = join("/", slice(split("/", p), 0, 1)), part = split("/", p)[1] } if length(split("/", p)) == 2 }
  level3 = { for p in local.prefixes : p => { parent = join("/", slice(split("/", p), 0, 2)), part = split("/", p)[2] } if length(split("/", p)) == 3 }
  level4 = { for p in local.prefixes : p => { parent = join("/", slice(split("/", p), 0, 3)), part = split("/", p)[3] } if length(split("/", p)) == 4 }

  resource_ids = merge(
    { for p, r in aws_api_gateway_resource.level1 : p => r.id },
    { for p, r in aws_api_gateway_resource.level2 : p => r.id },
    { for p, r in aws_api_gateway_resource.level3 : p => r.id },
    { for p, r in aws_api_gateway_resource.level4 : p => r.id },
  )

  integration_types = { lambda = "AWS_PROXY", http = "HTTP", http_proxy = "HTTP_PROXY" }
  # A STREAM route calls the function through Lambda's InvokeWithResponseStream: the same function
  # ARN under the 2021-11-15 API path (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html).
  streaming_uris = {
    for k, r in var.routes : k => replace(replace(r.lambda_invoke_arn, "/2015-03-31/functions/", "/2021-11-15/functions/"), "/invocations", "/response-streaming-invocations")
    if r.transfer_mode == "STREAM"
  }
  mapped_routes = { for k, r in var.routes : k => r if r.integration == "http" }

  # Methods per path, for the preflight answer.
  cors_paths = { for p in local.route_paths : p => sort(distinct([for r in var.routes : r.method if trim(r.path, "/") == p])) }
}

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = "agentarch front door: Cognito authorizer, WAF, throttling, CORS"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# Required path parameters are checked at the gateway; bodies are validated by the Lambdas (pydantic).
resource "aws_api_gateway_request_validator" "parameters" {
  name                        = "${var.name}-parameters"
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  validate_request_parameters = true
  validate_request_body       = false
}

resource "aws_api_gateway_authorizer" "cognito" {
  name            = "${var.name}-cognito"
  rest_api_id     = aws_api_gateway_rest_api.this.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = [var.user_pool_arn]
  identity_source = "method.request.header.Authorization"
}

resource "aws_api_gateway_resource" "level1" {
  for_each = local.level1

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.value
}

resource "aws_api_gateway_resource" "level2" {
  for_each = local.level2

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.level1[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level3" {
  for_each = local.level3

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.level2[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level4" {
  for_each = local.level4

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.level3[each.value.parent].id
  path_part   = each.value.part
}

# By default a route goes through the Cognito authorizer and requires the API scopes (access tokens
# only); a route may name its own scopes, or use AWS_IAM (service callers) or NONE (a public route).
resource "aws_api_gateway_method" "route" {
  #checkov:skip=CKV_AWS_59:Routes default to the Cognito authorizer; authorization NONE is an explicit per-route choice the variable validation documents.
  for_each = var.routes

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = local.resource_ids[trim(each.value.path, "/")]
  http_method          = each.value.method
  authorization        = each.value.authorization
  authorizer_id        = each.value.authorization == "COGNITO_USER_POOLS" ? aws_api_gateway_authorizer.cognito.id : null
  authorization_scopes = each.value.authorization == "COGNITO_USER_POOLS" ? coalesce(each.value.authorization_scopes, var.authorization_scopes) : null
  request_validator_id = aws_api_gateway_request_validator.parameters.id
  request_parameters = merge(
    { for name in regexall("\\{([A-Za-z0-9_]+)\\}", each.value.path) : "method.request.path.${name[0]}" => true },
    each.value.integration == "http" ? { "method.request.header.Authorization" = true } : {},
  )
}

resource "aws_api_gateway_integration" "route" {
  for_each = var.routes

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.route[each.key].resource_id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = local.integration_types[each.value.integration]
  integration_http_method = each.value.integration == "lambda" ? "POST" : each.value.method
  uri                     = each.value.integration == "lambda" ? lookup(local.streaming_uris, each.key, each.value.lambda_invoke_arn) : each.value.http_uri
  timeout_milliseconds    = each.value.transfer_mode == "STREAM" ? var.stream_timeout_ms : var.integration_timeout_ms
  response_transfer_mode  = each.value.transfer_mode

  # "http" is NOT a proxy integration: it forwards no header unless mapped, and the body through
  # request_template. The runtime session header defaults to the request id (a UUID: AgentCore wants
  # at least 33 characters); a request_template overrides it with the client's validated session id
  # ($context.requestOverride.header), so one conversation stays on one microVM.
  passthrough_behavior = each.value.integration == "http" ? "NEVER" : null
  request_templates    = each.value.integration == "http" ? { "application/json" = each.value.request_template } : null
  request_parameters = each.value.integration == "http" ? {
    "integration.request.header.Authorization"                               = "method.request.header.Authorization"
    "integration.request.header.X-Amzn-Bedrock-AgentCore-Runtime-Session-Id" = "context.requestId"
  } : null
}

# Answers of "http" routes: the backend's JSON on success, the project's error shape otherwise,
# with the CORS header either way (a non-proxy integration adds nothing by itself). The backend's
# 401 and 403 (an expired or refused token) become 401, so the page signs in again; any other 4xx or
# 5xx becomes 502.
locals {
  mapped_statuses = {
    "200" = { pattern = null, code = null, message = null }
    "401" = { pattern = "40[13]", code = "unauthorized", message = "sign in again" }
    "502" = { pattern = "(400|402|40[4-9]|4[1-9]\\d|5\\d{2})", code = "agent_error", message = "the agent could not answer" }
  }
}

resource "aws_api_gateway_method_response" "mapped" {
  for_each = { for pair in setproduct(keys(local.mapped_routes), keys(local.mapped_statuses)) : "${pair[0]}/${pair[1]}" => { route = pair[0], status = pair[1] } }

  rest_api_id         = aws_api_gateway_rest_api.this.id
  resource_id         = aws_api_gateway_method.route[each.value.route].resource_id
  http_method         = aws_api_gateway_method.route[each.value.route].http_method
  status_code         = each.value.status
  response_parameters = { "method.response.header.Access-Control-Allow-Origin" = true }
}

resource "aws_api_gateway_integration_response" "mapped" {
  for_each = aws_api_gateway_method_response.mapped

  rest_api_id         = aws_api_gateway_rest_api.this.id
  resource_id         = each.value.resource_id
  http_method         = each.value.http_method
  status_code         = each.value.status_code
  selection_pattern   = local.mapped_statuses[each.value.status_code].pattern
  response_parameters = { "method.response.header.Access-Control-Allow-Origin" = "'${local.cors_origin}'" }
  response_templates = each.value.status_code == "200" ? (local.multi_origins ? { "application/json" = "${local.cors_echo}$input.body" } : null) : {
    "application/json" = "${local.cors_echo}{\"error\":{\"code\":\"${local.mapped_statuses[each.value.status_code].code}\",\"message\":\"${local.mapped_statuses[each.value.status_code].message}\",\"request_id\":\"$context.requestId\"}}"
  }

  depends_on = [aws_api_gateway_integration.route]
}
