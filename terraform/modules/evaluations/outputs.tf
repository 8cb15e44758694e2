output "evaluator_id" {
  description = "ID of the code-based evaluator (what evaluation calls and online configurations name)."
  value       = aws_bedrockagentcore_evaluator.trajectory.evaluator_id
}

output "evaluator_arn" {
  description = "ARN of the code-based evaluator."
  value       = aws_bedrockagentcore_evaluator.trajectory.evaluator_arn
}

output "online_evaluation_config_id" {
  description = "ID of the online evaluation configuration; null while online evaluation is off."
  value       = try(aws_bedrockagentcore_online_evaluation_config.runtime[0].online_evaluation_config_id, null)
}

output "evaluation_role_arn" {
  description = "ARN of the role AgentCore Evaluations assumes; null while online evaluation is off."
  value       = try(aws_iam_role.evaluation[0].arn, null)
}
