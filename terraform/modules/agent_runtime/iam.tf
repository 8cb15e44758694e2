data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["bedrock-agentcore.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:bedrock-agentcore:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "runtime" {
  count = local.create_role ? 1 : 0

  name_prefix          = "${substr(lower(replace(var.name, "_", "-")), 0, 24)}-runtime-"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "runtime" {
  # No logs:CreateLogGroup: Terraform owns the log group (retention, KMS, removed on destroy).
  statement {
    sid       = "RuntimeLogGroups"
    effect    = "Allow"
    actions   = ["logs:DescribeLogStreams"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/bedrock-agentcore/runtimes/*"]
  }

  statement {
    sid       = "RuntimeLogStreams"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/bedrock-agentcore/runtimes/*:log-stream:*"]
  }

  statement {
    sid       = "DescribeLogGroups"
    effect    = "Allow"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
  }

  # X-Ray accepts no resource-level permissions for these actions.
  statement {
    sid       = "Traces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }

  statement {
    sid       = "Metrics"
    effect    = "Allow"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["bedrock-agentcore"]
    }
  }

  dynamic "statement" {
    for_each = length(local.model_arns) > 0 ? [1] : []
    content {
      sid       = "InvokeModel"
      effect    = "Allow"
      actions   = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
      resources = local.model_arns
    }
  }

  dynamic "statement" {
    for_each = var.memory_arn != null && length(var.memory_actions) > 0 ? [1] : []
    content {
      sid       = "MemoryEvents"
      effect    = "Allow"
      actions   = var.memory_actions
      resources = [var.memory_arn]
    }
  }

  # A customer managed key on the Memory: AgentCore uses it on behalf of the caller, so the role
  # needs the key through the service (and the key policy must allow the role).
  dynamic "statement" {
    for_each = var.memory_arn != null && var.memory_kms_key_arn != null ? [1] : []
    content {
      sid       = "MemoryKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.memory_kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["bedrock-agentcore.${local.region}.amazonaws.com"]
      }
    }
  }

  # What a platform team adds (a tool's API, a secret, a knowledge base): same shape as the Lambda module's.
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

resource "aws_iam_role_policy" "runtime" {
  count = local.create_role ? 1 : 0

  name   = "agent-runtime"
  role   = aws_iam_role.runtime[0].id
  policy = data.aws_iam_policy_document.runtime.json
}
