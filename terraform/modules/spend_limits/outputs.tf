output "quotas_table_name" {
  description = "Name of the quota counters table (QUOTAS_TABLE)."
  value       = aws_dynamodb_table.quotas.name
}

output "quotas_table_arn" {
  description = "ARN of the quota counters table."
  value       = aws_dynamodb_table.quotas.arn
}

output "idempotency_table_name" {
  description = "Name of the Powertools idempotency table (IDEMPOTENCY_TABLE)."
  value       = aws_dynamodb_table.idempotency.name
}

output "idempotency_table_arn" {
  description = "ARN of the Powertools idempotency table."
  value       = aws_dynamodb_table.idempotency.arn
}

output "chat_quotas_json" {
  description = "The limits as the chat Lambda reads them (CHAT_QUOTAS)."
  value       = jsonencode(var.chat_quotas)
}

output "budget_name" {
  description = "Name of the monthly cost budget, or null when none was asked for."
  value       = try(aws_budgets_budget.monthly[0].name, null)
}

output "alerts_topic_arn" {
  description = "ARN of the SNS topic every alert of the stack notifies (budget, token alarm, modules/alarms), or null when alert_emails is empty."
  value       = try(aws_sns_topic.alerts[0].arn, null)
}
