output "runtime_arn" {
  description = "ARN of the agent runtime (what callers invoke)."
  value       = aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn
}

output "runtime_id" {
  description = "ID of the agent runtime."
  value       = aws_bedrockagentcore_agent_runtime.this.agent_runtime_id
}

output "runtime_name" {
  description = "Name of the agent runtime."
  value       = aws_bedrockagentcore_agent_runtime.this.agent_runtime_name
}

output "runtime_version" {
  description = "Version the DEFAULT endpoint serves; it changes with every new artifact."
  value       = aws_bedrockagentcore_agent_runtime.this.agent_runtime_version
}

output "endpoint_url" {
  description = "AgentCore data-plane endpoint of the region; SDK callers POST to <endpoint_url>/runtimes/<url-encoded runtime_arn>/invocations."
  value       = "https://bedrock-agentcore.${local.region}.amazonaws.com"
}

output "invocation_url" {
  description = "HTTPS URL of the runtime's invocations endpoint by runtime id and account (DEFAULT qualifier): the form that works behind API Gateway (the URL-encoded ARN form answers 404 UnknownOperationException there)."
  value       = "https://bedrock-agentcore.${local.region}.amazonaws.com/runtimes/${aws_bedrockagentcore_agent_runtime.this.agent_runtime_id}/invocations?qualifier=DEFAULT&accountId=${local.account_id}"
}

output "role_arn" {
  description = "ARN of the runtime's execution role (created, or the one passed in role_arn)."
  value       = local.role_arn
}

output "policy_json" {
  description = "The permissions the runtime needs, as a policy document: attach it to a role you bring (role_arn)."
  value       = data.aws_iam_policy_document.runtime.json
}

output "log_group_name" {
  description = "CloudWatch log group the runtime writes to (managed here unless create_log_group = false: retention, KMS, removed on destroy)."
  value       = var.create_log_group ? aws_cloudwatch_log_group.runtime[0].name : local.log_group_name
}

output "artifact_bucket" {
  description = "S3 bucket holding the code artifact."
  value       = local.bucket
}

output "artifact_key" {
  description = "S3 key of the deployed artifact (carries the content hash)."
  value       = aws_s3_object.agent.key
}
