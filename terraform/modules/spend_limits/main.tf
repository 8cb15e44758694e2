locals {
  # Epoch seconds after which DynamoDB deletes an item: a day's counters two days after the day
  # ends; an idempotency record when Powertools' expiry passes (its default attribute name).
  quotas_expiry_attribute      = "expires_at"
  idempotency_expiry_attribute = "expiration"

  alarm_enabled  = var.hourly_token_alarm_threshold != null
  budget_enabled = var.monthly_budget_usd != null
  topic_enabled  = length(var.alert_emails) > 0

  # A stack's budget counts the costs carrying its cost allocation tag (<key> = <name>), as Budgets
  # names a user tag: "user:<key>$<value>". Budgets are global to the account: the region is in the name.
  stack_tag_filter = format("user:%s$%s", var.cost_allocation_tag_key, var.name)
}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Daily quota counters: one item per actor per UTC day (id = "<actor>#<YYYY-MM-DD>"). The chat Lambda
# admits a request with one conditional UpdateItem (requests and tokens below the limits) before the
# agent runs, and adds the turn's model tokens after it.
resource "aws_dynamodb_table" "quotas" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS owned key unless kms_key_arn selects a customer managed key.
  name                        = "${var.name}-quotas"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = local.quotas_expiry_attribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = var.kms_key_arn != null
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# Powertools idempotency records (DynamoDBPersistenceLayer's defaults: partition key id, TTL on
# expiration): a retried POST /api/chat with the same Idempotency-Key gets the first answer.
resource "aws_dynamodb_table" "idempotency" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS owned key unless kms_key_arn selects a customer managed key.
  name                        = "${var.name}-idempotency"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = local.idempotency_expiry_attribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = var.kms_key_arn != null
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# --- the caps on the bill: a monthly cost budget and an alarm on the model's tokens, one topic ---

resource "aws_budgets_budget" "monthly" {
  count = local.budget_enabled ? 1 : 0

  lifecycle {
    precondition {
      condition     = length(var.alert_emails) > 0
      error_message = "monthly_budget_usd needs at least one address in alert_emails to notify."
    }
    precondition {
      condition     = var.budget_scope == "account" || lookup(var.tags, var.cost_allocation_tag_key, null) == var.name
      error_message = "budget_scope = \"stack\" counts the costs tagged ${var.cost_allocation_tag_key} = ${var.name}: put that tag in tags (and in the provider's default_tags, so every resource of the stack carries it), or set budget_scope = \"account\"."
    }
  }

  name         = "${var.name}-${data.aws_region.current.region}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  # "stack": only what carries the stack's cost allocation tag; "account": everything (one per account).
  dynamic "cost_filter" {
    for_each = var.budget_scope == "stack" ? [local.stack_tag_filter] : []
    content {
      name   = "TagKeyValue"
      values = [cost_filter.value]
    }
  }

  # Through the topic: any number of addresses (a notification takes at most 10 e-mail subscribers).
  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 80
    threshold_type            = "PERCENTAGE"
    notification_type         = "ACTUAL"
    subscriber_sns_topic_arns = aws_sns_topic.alerts[*].arn
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "FORECASTED"
    subscriber_sns_topic_arns = aws_sns_topic.alerts[*].arn
  }

  tags = var.tags

  depends_on = [aws_sns_topic_policy.alerts]
}

# The one topic every alert of the stack goes to: the budget, the token alarm, and the operational
# alarms (modules/alarms) through the alerts_topic_arn output.
resource "aws_sns_topic" "alerts" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; the messages carry only an alarm's name and state.
  count = local.topic_enabled ? 1 : 0

  name = "${var.name}-spend-alerts"
  tags = var.tags
}

# Budgets and CloudWatch publish as services of this account only.
data "aws_iam_policy_document" "alerts" {
  count = local.topic_enabled ? 1 : 0

  statement {
    sid       = "BudgetsPublish"
    effect    = "Allow"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:budgets::${data.aws_caller_identity.current.account_id}:*"]
    }
  }

  statement {
    sid       = "AlarmsPublish"
    effect    = "Allow"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  count = local.topic_enabled ? 1 : 0

  arn    = aws_sns_topic.alerts[0].arn
  policy = data.aws_iam_policy_document.alerts[0].json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alert_emails)

  topic_arn = aws_sns_topic.alerts[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# Input plus output tokens of the agent's model in one hour, summed by metric math. The AWS/Bedrock
# metrics are per account, region and model id: every caller of the same model counts.
resource "aws_cloudwatch_metric_alarm" "model_tokens" {
  count = local.alarm_enabled ? 1 : 0

  lifecycle {
    precondition {
      condition     = var.bedrock_model_id != null && length(var.alert_emails) > 0
      error_message = "hourly_token_alarm_threshold needs bedrock_model_id (the model to watch) and at least one address in alert_emails."
    }
  }

  alarm_name          = "${var.name}-model-tokens"
  alarm_description   = "The agent's Bedrock model used more than ${var.hourly_token_alarm_threshold} tokens in an hour."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = var.hourly_token_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = aws_sns_topic.alerts[*].arn
  ok_actions          = aws_sns_topic.alerts[*].arn

  metric_query {
    id          = "tokens"
    expression  = "input + output"
    label       = "model tokens per hour"
    return_data = true
  }

  metric_query {
    id = "input"

    metric {
      namespace   = "AWS/Bedrock"
      metric_name = "InputTokenCount"
      dimensions  = { ModelId = var.bedrock_model_id }
      period      = 3600
      stat        = "Sum"
    }
  }

  metric_query {
    id = "output"

    metric {
      namespace   = "AWS/Bedrock"
      metric_name = "OutputTokenCount"
      dimensions  = { ModelId = var.bedrock_model_id }
      period      = 3600
      stat        = "Sum"
    }
  }

  tags = var.tags
}
