# --- where and what ---
variable "region" {
  type        = string
  description = "AWS region (AgentCore Runtime and the Bedrock model must be available there)."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name prefix of every resource (lowercase letters, digits, hyphens)."
  default     = "agentarch-p1"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,23}$", var.name))
    error_message = "name must be 3-24 lowercase letters, digits or hyphens, starting with a letter (AgentCore names derive from it with '_' for '-')."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider adds them as default tags)."
  default     = {}
}

# --- the web page ---
variable "web_origin" {
  type        = string
  description = "Origin the web page is served from (scheme://host[:port]); Cognito redirects back to it and CORS allows it."
  default     = "http://localhost:8000"

  validation {
    condition     = can(regex("^(https://[^/]+|http://localhost(:[0-9]+)?)$", var.web_origin))
    error_message = "web_origin must be https://host[:port] or http://localhost[:port], without a path."
  }
}

variable "web_redirect_path" {
  type        = string
  description = "Path of the page Cognito redirects to after sign-in and sign-out."
  default     = "/"

  validation {
    condition     = startswith(var.web_redirect_path, "/")
    error_message = "web_redirect_path must start with '/'."
  }
}

# --- the agent ---
variable "bedrock_model_id" {
  type        = string
  description = "Bedrock model or cross-region inference profile the agent uses (enable access to it in the Bedrock console first)."
  default     = "us.amazon.nova-lite-v1:0"
}

variable "artifacts_dir" {
  type        = string
  description = "Directory holding the zips `agentarch build` writes (agent.zip, chat.zip, ...); null means lambda_build/dist of this repository."
  default     = null
}

# --- front door ---
variable "rate_limit_per_5_minutes" {
  type        = number
  description = "Requests one IP may send in 5 minutes before WAF blocks it."
  default     = 300

  validation {
    condition     = var.rate_limit_per_5_minutes >= 10
    error_message = "rate_limit_per_5_minutes must be at least 10 (the WAF minimum)."
  }
}

variable "max_body_bytes" {
  type        = number
  description = "Largest request body: WAF blocks larger ones, and the Lambdas get the same value as MAX_BODY_BYTES."
  default     = 32768

  validation {
    condition     = var.max_body_bytes >= 1024 && var.max_body_bytes <= 65536
    error_message = "max_body_bytes must be between 1024 and 65536."
  }
}

variable "api_gateway_logging" {
  type        = bool
  description = "API Gateway access and execution logs. They need the account's CloudWatch Logs role: apply terraform/examples/account-logging once per account and region first (see README), then set true."
  default     = false
}
