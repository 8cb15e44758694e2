variable "region" {
  type        = string
  description = "AWS region (AgentCore Runtime and the Bedrock model must be available there)."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name prefix of every resource (lowercase letters, digits, hyphens; AgentCore names use '_' for '-')."
  default     = "agentarch-p1"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,23}$", var.name))
    error_message = "name must be 3-24 lowercase letters, digits or hyphens, starting with a letter: the longest derived names (<name>-conversations, <name>_memory) must fit their services' limits."
  }
}

variable "web_origin" {
  type        = string
  description = "Origin the web page is served from (scheme://host[:port]); Cognito redirects back to <origin>/ and CORS allows it."
  default     = "http://localhost:8000"
}

variable "bedrock_model_id" {
  type        = string
  description = "Bedrock model or cross-region inference profile the agent uses (enable access to it in the Bedrock console first)."
  default     = "us.amazon.nova-lite-v1:0"
}

variable "artifacts_dir" {
  type        = string
  description = "Directory holding the zips `agentarch build` writes; null means lambda_build/dist of this repository."
  default     = null
}

variable "log_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key (ARN, rotation on) for the API's access and WAF log groups; its key policy must allow logs.<region>.amazonaws.com (modules/front_door README). null uses CloudWatch Logs' AWS managed encryption."
  default     = null
}

variable "api_gateway_logging" {
  type        = bool
  description = "API Gateway access and execution logs. They need the account's CloudWatch Logs role: apply terraform/examples/account-logging once per account and region first (see ../README.md), then set true."
  default     = false
}

variable "policy_mode" {
  type        = string
  description = "Tool policy mode of the agent: ENFORCE refuses the tool calls its Cedar policy denies, LOG_ONLY records the decision and lets them run."
  default     = "ENFORCE"
}
