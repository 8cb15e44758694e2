# agentarch's trajectory checks in AWS: a code-based AgentCore evaluator (the evaluator Lambda) and,
# when switched on, an online evaluation configuration that samples the runtime's sessions from
# CloudWatch and hands each one's spans to it.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  # The function itself, unqualified: what lambda:InvokeFunction is granted on.
  function_arn = join(":", slice(split(":", var.evaluator_lambda_arn), 0, 7))
}

resource "aws_bedrockagentcore_evaluator" "trajectory" {
  evaluator_name = "${var.name}_trajectory"
  description    = "agentarch trajectory checks: approval before consequential calls, no retried denied call, tokens and latency within budget"
  level          = var.evaluation_level
  tags           = var.tags

  evaluator_config {
    code_based {
      lambda_config {
        lambda_arn                = var.evaluator_lambda_arn
        lambda_timeout_in_seconds = var.lambda_timeout_seconds
      }
    }
  }
}

# The role AgentCore Evaluations assumes to read the runtime's spans and invoke the evaluator.
data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "AgentCoreEvaluations"
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
  }
}

resource "aws_iam_role" "evaluation" {
  count = var.online_evaluation_enabled ? 1 : 0

  name_prefix          = "${substr(lower(replace(var.name, "_", "-")), 0, 24)}-eval-"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "evaluation" {
  statement {
    sid       = "InvokeEvaluator"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunction"]
    resources = [local.function_arn, "${local.function_arn}:*"]
  }
  statement {
    sid     = "ReadRuntimeSpans"
    effect  = "Allow"
    actions = ["logs:DescribeLogGroups", "logs:GetQueryResults", "logs:StartQuery", "logs:StopQuery", "logs:FilterLogEvents", "logs:GetLogEvents"]
    resources = [
      for group in var.runtime_log_group_names : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${group}:*"
    ]
  }
}

resource "aws_iam_role_policy" "evaluation" {
  count = var.online_evaluation_enabled ? 1 : 0

  name   = "agentcore-online-evaluation"
  role   = aws_iam_role.evaluation[0].id
  policy = data.aws_iam_policy_document.evaluation.json
}

resource "aws_bedrockagentcore_online_evaluation_config" "runtime" {
  count = var.online_evaluation_enabled ? 1 : 0

  online_evaluation_config_name = "${var.name}_online"
  description                   = "Samples the agent runtime's sessions and runs agentarch's trajectory checks on them"
  enable_on_create              = true
  evaluation_execution_role_arn = aws_iam_role.evaluation[0].arn
  tags                          = var.tags

  data_source_config {
    cloudwatch_logs {
      log_group_names = var.runtime_log_group_names
      service_names   = var.runtime_service_names
    }
  }

  evaluator {
    evaluator_id = aws_bedrockagentcore_evaluator.trajectory.evaluator_id
  }

  rule {
    sampling_config {
      sampling_percentage = var.sampling_percentage
    }
    session_config {
      session_timeout_minutes = var.session_timeout_minutes
    }
  }

  lifecycle {
    precondition {
      condition     = length(var.runtime_log_group_names) > 0 && length(var.runtime_service_names) > 0
      error_message = "online evaluation needs runtime_log_group_names and runtime_service_names (where the runtime's spans are)."
    }
  }

  depends_on = [aws_iam_role_policy.evaluation]
}
