output "table_name" {
  description = "Name of the kill switch's locks table (LOCKS_TABLE)."
  value       = aws_dynamodb_table.locks.name
}

output "table_arn" {
  description = "ARN of the locks table (BatchGetItem for the chat Lambda and the agent; PutItem, DeleteItem, Scan for the audit Lambda or an admin)."
  value       = aws_dynamodb_table.locks.arn
}
