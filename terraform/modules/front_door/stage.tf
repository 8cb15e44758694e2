# A new deployment whenever anything the stage serves changes: routes and their resources, methods,
# integrations and their responses, the authorizer, the validators, CORS and gateway responses.
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
      [for k, r in aws_api_gateway_method_response.mapped : r.id],
      [for k, m in aws_api_gateway_method.options : m.id],
      [for k, r in aws_api_gateway_integration_response.options : r.id],
      [for k, r in aws_api_gateway_gateway_response.this : r.id],
      [for k, r in aws_api_gateway_resource.level1 : r.id],
      [for k, r in aws_api_gateway_resource.level2 : r.id],
      [for k, r in aws_api_gateway_resource.level3 : r.id],
      [for k, r in aws_api_gateway_resource.level4 : r.id],
      aws_api_gateway_authorizer.cognito,
      aws_api_gateway_request_validator.parameters,
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
  #checkov:skip=CKV_AWS_158:Encrypted with the AWS managed key unless log_kms_key_arn is set; access logs hold no secrets (no headers, no bodies).
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
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

  # Access logs need the account's API Gateway CloudWatch role (a one-time, per-region step outside
  # this module: see terraform/examples/account-logging); without it they stay off.
  dynamic "access_log_settings" {
    for_each = var.logging_enabled ? [1] : []
    content {
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
  }

  tags = var.tags
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Responses are per user and per conversation: caching them would be wrong.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.logging_enabled ? var.execution_logging_level : "OFF"
    data_trace_enabled     = false # would log full request bodies and the Authorization header
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}
