locals {
  # Epoch seconds after which DynamoDB deletes an item: a day's counters two days after the day
  # ends; an idempotency record when Powertools' expiry passes (its default attribute name).
  quotas_expiry_attribute      = "expires_at"
  idempotency_expiry_attribute = "expiration"

  alarm_enabled  = var.hourly_token_alarm_threshold != null
  budget_enabled = var.monthly_budget_usd != null
}

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

# --- the account-wide caps: a monthly cost budget and an alarm on the model's tokens ---

resource "aws_budgets_budget" "monthly" {
  count = local.budget_enabled ? 1 : 0

  lifecycle {
    precondition {
      condition     = length(var.alert_emails) > 0
      error_message = "monthly_budget_usd needs at least one address in alert_emails to notify."
    }
  }

  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = var.alert_emails
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = var.alert_emails
  }

  tags = var.tags
}

resource "aws_sns_topic" "alerts" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; the messages carry only an alarm's name and state.
  count = local.alarm_enabled ? 1 : 0

  name = "${var.name}-spend-alerts"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.alarm_enabled ? toset(var.alert_emails) : toset([])

  topic_arn = aws_sns_topic.alerts[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# Input plus output tokens of the agent's model in one hour, summed by metric math.
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
  alarm_actions       = [aws_sns_topic.alerts[0].arn]
  ok_actions          = [aws_sns_topic.alerts[0].arn]

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
