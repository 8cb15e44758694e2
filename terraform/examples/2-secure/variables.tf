# --- where and what ---
variable "region" {
  type        = string
  description = "AWS region (AgentCore Runtime and the Bedrock model must be available there)."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name prefix of every resource (lowercase letters, digits, hyphens)."
  default     = "agentarch-p2"

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

# --- Lambdas ---
variable "powertools_layer_version" {
  type        = number
  description = "Version N of the public Powertools layer AWSLambdaPowertoolsPythonV3-python313-arm64:N (see README: aws ssm get-parameter --name /aws/service/powertools/python/arm64/python3.13/latest)."

  validation {
    condition     = var.powertools_layer_version >= 1
    error_message = "powertools_layer_version must be a published layer version (a positive number)."
  }
}

variable "lambda_reserved_concurrency" {
  type        = number
  description = "Reserved (and maximum) concurrency of each Lambda; -1 reserves none (required on new accounts whose concurrency quota is 10)."
  default     = -1
}

variable "chat_timeouts" {
  type = object({
    api_integration_ms    = optional(number, 29000)
    lambda_seconds        = optional(number, 28)
    agent_total_seconds   = optional(number, 25)
    agent_connect_seconds = optional(number, 3)
    agent_read_seconds    = optional(number, 20)
    agent_max_attempts    = optional(number, 2)
  })
  description = "The timeout chain: API Gateway integration > chat Lambda > the agent client's total deadline >= one attempt (connect + read). The client starts a retry only if a whole attempt still fits in the deadline, so agent_total_seconds bounds every attempt together; the Lambda keeps 2 s after it to store the turn and answer a clear 504. Set only what you change."
  default     = {}

  validation {
    condition     = var.chat_timeouts.api_integration_ms <= 29000 && var.chat_timeouts.api_integration_ms > var.chat_timeouts.lambda_seconds * 1000
    error_message = "api_integration_ms must be at most 29000 and above lambda_seconds * 1000, or API Gateway cuts the Lambda off with a bare 504."
  }

  validation {
    condition     = var.chat_timeouts.lambda_seconds >= var.chat_timeouts.agent_total_seconds + 2
    error_message = "lambda_seconds must be at least agent_total_seconds + 2: all the client's attempts end by agent_total_seconds, and the Lambda needs the rest to answer a clear 504 before it is killed (502)."
  }

  validation {
    condition     = var.chat_timeouts.agent_total_seconds >= var.chat_timeouts.agent_connect_seconds + var.chat_timeouts.agent_read_seconds
    error_message = "agent_total_seconds must be at least agent_connect_seconds + agent_read_seconds: one whole attempt must fit in the deadline."
  }

  validation {
    condition     = var.chat_timeouts.agent_max_attempts >= 1 && var.chat_timeouts.agent_max_attempts <= 5
    error_message = "agent_max_attempts must be between 1 and 5."
  }
}
