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

# Who may invoke the runtime, on the runtime itself (AgentCore evaluates the runtime's and the
# endpoint's resource policies on every invocation). The Allow names the invokers; the Deny is what
# protects: every other principal of the account is refused whatever its identity policy grants.
locals {
  invoke_actions = ["bedrock-agentcore:InvokeAgentRuntime", "bedrock-agentcore:InvokeAgentRuntimeForUser"]
}

data "aws_iam_policy_document" "invokers" {
  count = var.restrict_invokers ? 1 : 0

  statement {
    sid       = "AllowInvokers"
    effect    = "Allow"
    actions   = local.invoke_actions
    resources = [aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn]

    principals {
      type        = "AWS"
      identifiers = var.invoker_role_arns
    }
  }

  statement {
    sid       = "DenyEveryOtherPrincipal"
    effect    = "Deny"
    actions   = local.invoke_actions
    resources = [aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = var.invoker_role_arns
    }
  }
}

resource "aws_bedrockagentcore_resource_policy" "runtime" {
  count = var.restrict_invokers ? 1 : 0

  resource_arn = aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn
  policy       = data.aws_iam_policy_document.invokers[0].json

  lifecycle {
    precondition {
      condition     = var.jwt_authorizer == null
      error_message = "restrict_invokers restricts SigV4 callers by role; with jwt_authorizer the runtime's callers are users with tokens. Set restrict_invokers = false or drop jwt_authorizer."
    }
    precondition {
      condition     = length(var.invoker_role_arns) > 0
      error_message = "restrict_invokers needs invoker_role_arns: the roles that may still invoke the runtime."
    }
  }
}
