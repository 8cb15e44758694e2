output "conversations_table_name" {
  description = "Name of the conversation index table (CONVERSATIONS_TABLE)."
  value       = aws_dynamodb_table.conversations.name
}

output "conversations_table_arn" {
  description = "ARN of the conversation index table."
  value       = aws_dynamodb_table.conversations.arn
}

output "conversations_index_name" {
  description = "Name of the index that lists a user's conversations (hash actor_id, range updated_at)."
  value       = local.conversations_index
}

output "conversations_index_arn" {
  description = "ARN of that index (for Query permissions)."
  value       = "${aws_dynamodb_table.conversations.arn}/index/${local.conversations_index}"
}

output "sweep_index_arn" {
  description = "ARN of the index of deleted conversations the scheduled sweep has yet to go over (for Query permissions)."
  value       = "${aws_dynamodb_table.conversations.arn}/index/${local.sweep_index}"
}

output "conversations_expiry_attribute" {
  description = "TTL attribute of the conversation index (epoch seconds); the chat Lambda sets it from CONVERSATION_EXPIRY_DAYS."
  value       = local.expiry_attribute
}

output "tickets_table_name" {
  description = "Name of the tickets table the agent's create_ticket tool writes (TICKETS_TABLE)."
  value       = aws_dynamodb_table.tickets.name
}

output "tickets_table_arn" {
  description = "ARN of the tickets table (for the agent runtime's ticket tools: PutItem, Scan, UpdateItem)."
  value       = aws_dynamodb_table.tickets.arn
}

output "locks_table_name" {
  description = "Name of the kill switch's locks table (LOCKS_TABLE)."
  value       = module.kill_switch.table_name
}

output "locks_table_arn" {
  description = "ARN of the locks table (BatchGetItem for the chat Lambda and the agent; PutItem, DeleteItem, Scan for the audit Lambda)."
  value       = module.kill_switch.table_arn
}
