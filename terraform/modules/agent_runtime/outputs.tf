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
  description = "AgentCore data-plane endpoint of the region; callers POST to <endpoint_url>/runtimes/<url-encoded runtime_arn>/invocations."
  value       = "https://bedrock-agentcore.${local.region}.amazonaws.com"
}

output "invocation_url" {
  description = "HTTPS URL of the runtime's invocations endpoint (DEFAULT qualifier)."
  value       = "https://bedrock-agentcore.${local.region}.amazonaws.com/runtimes/${urlencode(aws_bedrockagentcore_agent_runtime.this.agent_runtime_arn)}/invocations?qualifier=DEFAULT"
}

output "role_arn" {
  description = "ARN of the runtime's execution role."
  value       = aws_iam_role.runtime.arn
}

output "log_group_name" {
  description = "CloudWatch log group the runtime writes to."
  value       = "/aws/bedrock-agentcore/runtimes/${aws_bedrockagentcore_agent_runtime.this.agent_runtime_id}-DEFAULT"
}

output "artifact_bucket" {
  description = "S3 bucket holding the code artifact."
  value       = local.bucket
}

output "artifact_key" {
  description = "S3 key of the deployed artifact (carries the content hash)."
  value       = aws_s3_object.agent.key
}
