locals {
  actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  period  = 300
  # The metrics the chat function publishes (aws-lambda-powertools, EMF): a contract test holds these
  # names to the ones the Python code emits.
  chat_dimensions = { service = var.chat_service_name }
}

# The API answered 5xx: throttled functions (503), agent failures (502), timeouts (504), gateway errors.
resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "The API answered more than ${var.api_5xx_threshold} requests with a 5xx status in 5 minutes. Runbook: README.md, \"Alarms and what to do\"."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = var.api_name, Stage = var.stage_name }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# A function was throttled: its reserved concurrency, or the account's concurrency quota, is used up.
resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = var.function_names

  alarm_name          = "${var.name}-${each.key}-throttles"
  alarm_description   = "The ${each.key} function (${each.value}) was throttled in the last 5 minutes: callers got 503. Runbook: README.md, \"Alarms and what to do\"."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# An answer was given but its tokens could not be charged to the user's quota: quotas under-count.
resource "aws_cloudwatch_metric_alarm" "quota_charge_failures" {
  alarm_name          = "${var.name}-quota-charge-failures"
  alarm_description   = "The chat function answered turns whose tokens it could not charge to the user's daily quota (QuotaChargeFailures). Runbook: README.md, \"Alarms and what to do\"."
  namespace           = var.metrics_namespace
  metric_name         = "QuotaChargeFailures"
  dimensions          = local.chat_dimensions
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# The agent failed or timed out, as the chat function saw it (502 agent_error, 504 agent_timeout).
resource "aws_cloudwatch_metric_alarm" "agent_errors" {
  alarm_name          = "${var.name}-agent-errors"
  alarm_description   = "The agent failed or timed out on more than ${var.agent_error_threshold} turns in 5 minutes (AgentErrors + AgentTimeouts of the chat function). Runbook: README.md, \"Alarms and what to do\"."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = var.agent_error_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "failed"
    expression  = "FILL(errors, 0) + FILL(timeouts, 0)"
    label       = "agent errors and timeouts"
    return_data = true
  }

  metric_query {
    id = "errors"

    metric {
      namespace   = var.metrics_namespace
      metric_name = "AgentErrors"
      dimensions  = local.chat_dimensions
      period      = local.period
      stat        = "Sum"
    }
  }

  metric_query {
    id = "timeouts"

    metric {
      namespace   = var.metrics_namespace
      metric_name = "AgentTimeouts"
      dimensions  = local.chat_dimensions
      period      = local.period
      stat        = "Sum"
    }
  }

  tags = var.tags
}

# A stream-fed function falls behind (the audit notary): records it has not signed yet age, and the
# stream drops them after 24 hours. Alarm long before.
resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  for_each = var.stream_consumers

  alarm_name          = "${var.name}-${each.key}-iterator-age"
  alarm_description   = "The ${each.key} function (${each.value}) is behind its stream by over ${var.iterator_age_threshold_seconds} s; the stream keeps 24 hours. Runbook: README.md, \"Alarms and what to do\"."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = each.value }
  statistic           = "Maximum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_threshold_seconds * 1000
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}
