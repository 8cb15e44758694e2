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
  description = "Existing S3 bucket for the code artifact; null creates a private, versioned, encrypted bucket. A bucket another resource creates in the same run (another runtime's artifact_bucket output) is known only after apply: set create_artifact_bucket = false with it."
  default     = null
}

variable "create_artifact_bucket" {
  type        = bool
  description = "Create the artifact bucket. Null decides from artifact_bucket_name, which must then be known at plan (a literal or a variable); set false when artifact_bucket_name comes from another resource, or Terraform cannot count the bucket's resources at plan (\"Invalid count argument\")."
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
  description = "Environment of the agent (names from agentarch.config.Env). Empty is sent as null: the provider fails on {}. POLICY_MODE, POLICY_DIR and AGENT_INBOUND_AUTH come from policy_mode, policy_dir and jwt_authorizer."
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.environment_variables), ["POLICY_MODE", "POLICY_DIR", "AGENT_INBOUND_AUTH", "AGENT_JWT_DISCOVERY_URL", "AGENT_JWT_ALLOWED_CLIENTS"])) == 0
    error_message = "Set the tool policy with policy_mode and policy_dir, not environment_variables; AGENT_INBOUND_AUTH and the AGENT_JWT_ settings follow jwt_authorizer."
  }
}

# --- tool policy (Cedar, evaluated by the agent before every tool call) ---
variable "policy_mode" {
  type        = string
  description = "What the agent does with a tool call its Cedar policy denies. One of ENFORCE (refuse it), LOG_ONLY (record the decision and let it run, to try a new policy on real traffic)."
  default     = "ENFORCE"

  validation {
    condition     = contains(["ENFORCE", "LOG_ONLY"], var.policy_mode)
    error_message = "policy_mode must be ENFORCE or LOG_ONLY."
  }
}

variable "policy_dir" {
  type        = string
  description = "Policy folder (one *.cedarschema, *.cedar files) inside the agent zip, relative to its root, e.g. \"policies\" for `agentarch build --policies DIR`; null lets the zip decide: the folder it was built with, else agentarch's default policy."
  default     = null

  validation {
    condition     = var.policy_dir == null || (can(regex("^[A-Za-z0-9_./-]+$", var.policy_dir)) && !startswith(var.policy_dir, "/") && !contains(split("/", var.policy_dir), ".."))
    error_message = "policy_dir must be a relative path inside the zip (letters, digits, '_', '.', '/' or '-'; no leading '/', no '..' segment), or null."
  }
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
  description = "Patterns 0 and 1 only: trust bearer JWTs from this issuer (the agent is told AGENT_INBOUND_AUTH=JWT: the payload's actor is then not trusted; the runtime forwards the Authorization header and the agent verifies the token again against this issuer and allowed_clients, so name the clients). Null (the default) means IAM (SigV4) inbound auth."
  default     = null

  validation {
    condition     = var.jwt_authorizer == null || can(regex("/\\.well-known/openid-configuration$", var.jwt_authorizer.discovery_url))
    error_message = "jwt_authorizer.discovery_url must end with /.well-known/openid-configuration."
  }
}

# --- logs ---
variable "log_retention_days" {
  type        = number
  description = "Retention of the runtime's log group, in days."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653)."
  }
}

variable "create_log_group" {
  type        = bool
  description = "Declare the runtime's log group here (retention, KMS, removed on destroy). Set false with a brought role_arn that may logs:CreateLogGroup: the group's name holds the runtime's id, so Terraform creates it just after the runtime, and an invocation in between lets the service create it first and fails the apply."
  default     = true
}

variable "log_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the runtime's log group (its key policy must allow logs.<region>.amazonaws.com); null uses the AWS managed key."
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:...), or null."
  }
}

# --- execution role ---
variable "role_arn" {
  type        = string
  description = "Bring your own execution role (trusting bedrock-agentcore.amazonaws.com); null creates one. A brought role gets no policy from this module: attach the policy_json output."
  default     = null

  validation {
    condition     = var.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.role_arn))
    error_message = "role_arn must be an IAM role ARN, or null."
  }
}

variable "permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary for the created role (many organisations require one); null sets none."
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN, or null."
  }
}

variable "policy_statements" {
  type = list(object({
    sid       = string
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  description = "Further statements for the runtime role (a tool's API, a secret): one per concern, least privilege, with optional conditions."
  default     = []

  validation {
    condition     = alltrue([for s in var.policy_statements : contains(["Allow", "Deny"], s.effect) && can(regex("^[A-Za-z0-9]+$", s.sid)) && length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "Each statement needs an alphanumeric sid, effect Allow or Deny, at least one action and one resource."
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

variable "memory_kms_key_arn" {
  type        = string
  description = "The Memory's customer managed KMS key, if it has one: the role gets kms:Decrypt and kms:GenerateDataKey through bedrock-agentcore only (the key policy must allow the role too)."
  default     = null

  validation {
    condition     = var.memory_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.memory_kms_key_arn))
    error_message = "memory_kms_key_arn must be a KMS key ARN (arn:aws:kms:...), or null."
  }
}

variable "restrict_invokers" {
  type        = bool
  description = "Attach a resource policy to the runtime that allows invoker_role_arns and explicitly denies InvokeAgentRuntime to every other principal. Within one account an Allow in either the caller's identity policy or the resource policy grants access, so only the Deny narrows who may call: a role of the account with broad bedrock-agentcore rights is then refused too. A bool of its own so the plan knows whether the policy exists while the roles' ARNs are known only after apply. For IAM (SigV4) inbound auth only."
  default     = false
}

variable "invoker_role_arns" {
  type        = list(string)
  description = "With restrict_invokers: the IAM roles that alone may invoke the runtime (e.g. the chat Lambda's)."
  default     = []

  validation {
    condition     = alltrue([for arn in var.invoker_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "invoker_role_arns must be IAM role ARNs (arn:aws:iam::<account>:role/...)."
  }
}
