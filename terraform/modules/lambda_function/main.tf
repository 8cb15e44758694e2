data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  python_tag     = replace(var.runtime, ".", "")
  powertools_arn = var.powertools_layer_version == null ? null : "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-${local.python_tag}-${var.architecture}:${var.powertools_layer_version}"
  streaming      = var.response_streaming != null
  layers         = compact(concat([local.powertools_arn], var.extra_layer_arns, local.streaming ? [var.response_streaming.web_adapter_layer_arn] : []))
  # Streaming: the Web Adapter (AWS_LAMBDA_EXEC_WRAPPER) starts the zip's run.sh and relays each
  # event to it as HTTP, streaming the answer back (its settings: the adapter's README).
  handler = local.streaming ? "run.sh" : var.handler
  web_adapter = local.streaming ? {
    AWS_LAMBDA_EXEC_WRAPPER      = "/opt/bootstrap"
    AWS_LWA_INVOKE_MODE          = "response_stream"
    AWS_LWA_PORT                 = tostring(var.response_streaming.port)
    AWS_LWA_READINESS_CHECK_PATH = "/healthz"
    PORT                         = tostring(var.response_streaming.port)
  } : {}

  # botocore reads the API descriptions shipped in agentarch's zips first (lambda_build/README.md);
  # other functions do not carry them.
  environment = merge(var.botocore_data_path ? { AWS_DATA_PATH = "/var/task/botocore_data" } : {}, local.web_adapter, var.environment)

  create_role = var.role_arn == null
  role_arn    = local.create_role ? aws_iam_role.this[0].arn : var.role_arn
  role_name   = local.create_role ? aws_iam_role.this[0].id : element(split("/", var.role_arn), length(split("/", var.role_arn)) - 1) # a role's id is its name
}

# Retention and encryption are variables; checkov's one-year minimum is a compliance choice, not a default.
resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (30 days by default, to keep a demo cheap).
  #checkov:skip=CKV_AWS_158:Encrypted with the AWS managed key unless kms_key_arn is set.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# IAM is global: a prefix (IAM adds a unique suffix) keeps two stacks of one name in two regions
# apart. A new role is created before the old one goes, so the function never points at none.
resource "aws_iam_role" "this" {
  count = local.create_role ? 1 : 0

  name_prefix          = "${substr(var.name, 0, 37)}-"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  # X-Ray accepts no resource-level permissions for these two actions.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.policy_statements
    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

# Attached to a brought role too: the function's own log group and its statements are this module's.
resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-policy"
  role   = local.role_name
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:Reaches only AWS APIs (AgentCore, DynamoDB) over TLS with IAM; a VPC would add NAT cost and no protection here.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile the build does not have; the zip hash is pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:The environment holds names and ARNs, no secrets; kms_key_arn switches to a customer managed key.
  function_name                  = var.name
  description                    = var.description
  role                           = local.role_arn
  filename                       = var.artifact_path
  source_code_hash               = filebase64sha256(var.artifact_path)
  handler                        = local.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrent_executions
  layers                         = local.layers
  kms_key_arn                    = var.kms_key_arn

  dynamic "environment" {
    for_each = length(local.environment) > 0 ? [1] : []
    content {
      variables = local.environment
    }
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tags = var.tags

  lifecycle {
    # Lambda keeps 100 of the account's concurrency unreserved: with the default quota of a new
    # account (10) nothing can be reserved, and the apply would fail half-way with a less clear error.
    precondition {
      condition     = var.reserved_concurrent_executions <= 0 || try(data.aws_servicequotas_service_quota.concurrency[0].value - var.reserved_concurrent_executions >= 100, true)
      error_message = "reserved_concurrent_executions = ${var.reserved_concurrent_executions} leaves less than the 100 unreserved Lambda keeps in this account's concurrency quota (${try(data.aws_servicequotas_service_quota.concurrency[0].value, "unknown")}; Service Quotas code L-B99A9384): ask for an increase, or set -1 and let the API stage's throttling cap the traffic."
    }
    precondition {
      condition     = var.powertools_layer_version == null || startswith(var.runtime, "python")
      error_message = "powertools_layer_version adds the Python Powertools layer: set it only with a python runtime."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

# The account's concurrent executions quota, read only when the function reserves some.
data "aws_servicequotas_service_quota" "concurrency" {
  count = var.reserved_concurrent_executions > 0 ? 1 : 0

  service_code = "lambda"
  quota_code   = "L-B99A9384"
}

resource "aws_lambda_permission" "api_gateway" {
  count = var.api_gateway_source_arn == null ? 0 : 1

  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = var.api_gateway_source_arn
}

# One permission per route the function serves, so no other method or path of the API may invoke it.
resource "aws_lambda_permission" "api_route" {
  for_each = var.api_gateway_routes

  statement_id  = "AllowApiGateway-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_gateway_execution_arn}/*/${each.value}"

  lifecycle {
    precondition {
      condition     = var.api_gateway_execution_arn != null
      error_message = "api_gateway_routes needs api_gateway_execution_arn (front_door's execution_arn)."
    }
  }
}

# Stream triggers (stream_sources): the role needs the stream's read actions among policy_statements.
resource "aws_lambda_event_source_mapping" "stream" {
  #checkov:skip=CKV_AWS_304:A failed batch is retried whole until it succeeds: the notary must see every record, and the IteratorAge alarm says when it falls behind.
  for_each = var.stream_sources

  event_source_arn                   = each.value.event_source_arn
  function_name                      = aws_lambda_function.this.arn
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.batching_window_seconds
  bisect_batch_on_function_error     = false # one checkpoint covers a whole batch

  depends_on = [aws_iam_role_policy.this]
}
