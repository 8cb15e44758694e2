# A new deployment whenever routes, integrations, CORS or gateway responses change.
resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "agentarch front door"

  triggers = {
    redeployment = sha1(jsonencode([
      var.routes,
      var.authorization_scopes,
      var.allowed_origins,
      var.cors_allow_headers,
      var.integration_timeout_ms,
      local.cors_paths,
      local.gateway_responses,
      [for k, m in aws_api_gateway_method.route : m.id],
      [for k, i in aws_api_gateway_integration.route : i.id],
      [for k, i in aws_api_gateway_integration.options : i.id],
      [for k, r in aws_api_gateway_integration_response.mapped : r.id],
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration.route,
    aws_api_gateway_integration_response.options,
    aws_api_gateway_integration_response.mapped,
    aws_api_gateway_gateway_response.this,
  ]
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (30 days by default, to keep a demo cheap).
  #checkov:skip=CKV_AWS_158:Encrypted with the AWS managed key; access logs hold no secrets (no headers, no bodies).
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120:Responses are per user and per conversation: caching them would be wrong.
  #checkov:skip=CKV2_AWS_77:Log4j is covered by AWSManagedRulesKnownBadInputsRuleSet; this check also demands AnonymousIpList, which blocks VPN and cloud-hosted users.
  #checkov:skip=CKV2_AWS_51:Clients are browsers with Cognito tokens; backends are Lambda (IAM) or AgentCore (its own auth), not HTTP servers that check client certificates.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      latency            = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationStatus  = "$context.integration.status"
      sub                = "$context.authorizer.claims.sub"
      wafStatus          = "$context.waf.status"
      errorType          = "$context.error.responseType"
      errorMessage       = "$context.error.message"
    })
  }

  tags = var.tags

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Responses are per user and per conversation: caching them would be wrong.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false # would log full request bodies and the Authorization header
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}

# The account-wide role API Gateway uses to write logs (one per account and region).
data "aws_iam_policy_document" "apigw_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigw_cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name_prefix        = "apigw-cloudwatch-"
  assume_role_policy = data.aws_iam_policy_document.apigw_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "apigw_cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  role       = aws_iam_role.apigw_cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigw_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.apigw_cloudwatch]
}
