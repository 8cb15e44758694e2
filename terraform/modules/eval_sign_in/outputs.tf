output "function_name" {
  description = "Name of the trigger Lambda (for logs: aws logs tail /aws/lambda/<name>)."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the trigger Lambda."
  value       = module.function.function_arn
}
