output "memory_id" {
  description = "ID of the memory (MEMORY_ID for the Lambdas and the agent)."
  value       = aws_bedrockagentcore_memory.this.id
}

output "memory_arn" {
  description = "ARN of the memory (scope of the event permissions)."
  value       = aws_bedrockagentcore_memory.this.arn
}

output "memory_name" {
  description = "Name of the memory."
  value       = aws_bedrockagentcore_memory.this.name
}

output "strategy_ids" {
  description = "IDs of the long-term strategies, by name."
  value       = { for name, s in aws_bedrockagentcore_memory_strategy.this : name => s.memory_strategy_id }
}
