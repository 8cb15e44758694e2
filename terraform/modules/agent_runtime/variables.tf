# --- naming and tags ---
variable "name" {
  type        = string
  description = "Agent runtime name: a letter, then letters, digits or underscores (max 48). No hyphens."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,47}$", var.name))
    error_message = "name must match [a-zA-Z][a-zA-Z0-9_]{0,47}: AgentCore refuses hyphens."
  }
}

variable "description" {
  type        = string
  description = "What the agent is for."
  default     = "agentarch agent (LangGraph on Bedrock)"
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource."
  default     = {}
}

# --- code artifact ---
variable "artifact_path" {
  type        = string
  description = "Path of the agent zip (aarch64 wheels, main.py at the root), built into lambda_build/dist/agent.zip."
}

variable "artifact_bucket_name" {
  type        = string
  description = "Existing S3 bucket for the code artifact; null creates a private, versioned, encrypted bucket."
  default     = null
}

variable "entry_point" {
  type        = list(string)
  description = "Entry point inside the zip, e.g. [\"main.py\"] or [\"opentelemetry-instrument\", \"main.py\"]."
  default     = ["main.py"]

  validation {
    condition     = length(var.entry_point) >= 1 && length(var.entry_point) <= 2
    error_message = "entry_point must have 1 or 2 elements."
  }
}

variable "python_runtime" {
  type        = string
  description = "Managed Python runtime. One of PYTHON_3_10, PYTHON_3_11, PYTHON_3_12, PYTHON_3_13."
  default     = "PYTHON_3_13"

  validation {
    condition     = contains(["PYTHON_3_10", "PYTHON_3_11", "PYTHON_3_12", "PYTHON_3_13"], var.python_runtime)
    error_message = "python_runtime must be one of PYTHON_3_10, PYTHON_3_11, PYTHON_3_12, PYTHON_3_13."
  }
}

variable "environment_variables" {
  type        = map(string)
  description = "Environment of the agent (names from agentarch.config.Env). Empty is sent as null: the provider fails on {}."
  default     = {}
}

# --- network and lifecycle ---
variable "network_mode" {
  type        = string
  description = "Network mode. One of PUBLIC, VPC."
  default     = "PUBLIC"

  validation {
    condition     = contains(["PUBLIC", "VPC"], var.network_mode)
    error_message = "network_mode must be one of PUBLIC, VPC."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets for network_mode VPC."
  default     = []
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups for network_mode VPC."
  default     = []
}

variable "idle_session_timeout_seconds" {
  type        = number
  description = "How long an idle session's microVM is kept (60-28800 s); shorter is cheaper, longer keeps context warm."
  default     = 900

  validation {
    condition     = var.idle_session_timeout_seconds >= 60 && var.idle_session_timeout_seconds <= 28800
    error_message = "idle_session_timeout_seconds must be between 60 and 28800."
  }
}

variable "max_lifetime_seconds" {
  type        = number
  description = "Maximum lifetime of a session's microVM (60-28800 s)."
  default     = 28800

  validation {
    condition     = var.max_lifetime_seconds >= 60 && var.max_lifetime_seconds <= 28800
    error_message = "max_lifetime_seconds must be between 60 and 28800."
  }
}

# --- inbound auth ---
variable "jwt_authorizer" {
  type = object({
    discovery_url    = string
    allowed_clients  = optional(list(string), [])
    allowed_audience = optional(list(string), [])
  })
  description = "Patterns 0 and 1 only: trust bearer JWTs from this issuer. Null (the default) means IAM (SigV4) inbound auth."
  default     = null

  validation {
    condition     = var.jwt_authorizer == null || can(regex("/\\.well-known/openid-configuration$", var.jwt_authorizer.discovery_url))
    error_message = "jwt_authorizer.discovery_url must end with /.well-known/openid-configuration."
  }
}

# --- what the agent may call ---
variable "bedrock_model_id" {
  type        = string
  description = "Model or inference profile the agent invokes (e.g. us.amazon.nova-lite-v1:0); null grants no model access."
  default     = null
}

variable "memory_arn" {
  type        = string
  description = "ARN of the AgentCore Memory the agent reads; null grants no memory access."
  default     = null
}

variable "memory_actions" {
  type        = list(string)
  description = "Memory data-plane actions granted on memory_arn (exactly the calls the agent code makes)."
  default     = []

  validation {
    condition     = alltrue([for a in var.memory_actions : can(regex("^bedrock-agentcore:[A-Za-z]+$", a))])
    error_message = "memory_actions must be bedrock-agentcore:<Action> names."
  }
}
