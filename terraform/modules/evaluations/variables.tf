# --- naming and tags ---
variable "name" {
  type        = string
  description = "Name prefix of the evaluator, the online evaluation configuration and the role. Letters, digits and '_' (AgentCore evaluator names allow no '-')."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,47}$", var.name))
    error_message = "name must start with a letter and hold 1-48 letters, digits or '_'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource."
  default     = {}
}

# --- the code-based evaluator ---
variable "evaluator_lambda_arn" {
  type        = string
  description = "ARN of the evaluator Lambda (agentarch.handlers.evaluator.lambda_handler, evaluator.zip) that runs agentarch's trajectory checks."

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]+(:[a-zA-Z0-9_$-]+)?$", var.evaluator_lambda_arn))
    error_message = "evaluator_lambda_arn must be a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)."
  }
}

variable "evaluation_level" {
  type        = string
  description = "What one verdict is about: a TRACE (one turn) or a SESSION (a conversation). agentarch's checks read whole turns, so TOOL_CALL is not offered."
  default     = "TRACE"

  validation {
    condition     = contains(["TRACE", "SESSION"], var.evaluation_level)
    error_message = "evaluation_level must be TRACE or SESSION."
  }
}

variable "lambda_timeout_seconds" {
  type        = number
  description = "How long AgentCore Evaluations waits for the evaluator Lambda (the service allows at most 300 s)."
  default     = 60

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 300 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be a whole number from 1 to 300."
  }
}

# --- online evaluation of the runtime's sessions ---
variable "online_evaluation_enabled" {
  type        = bool
  description = "Sample the runtime's sessions and evaluate them online. Off by default: it needs CloudWatch Transaction Search on in the account (see README) and costs an evaluator call per sampled session."
  default     = false
}

variable "sampling_percentage" {
  type        = number
  description = "Percent of the runtime's sessions evaluated online (0.01-100)."
  default     = 1

  validation {
    condition     = var.sampling_percentage >= 0.01 && var.sampling_percentage <= 100
    error_message = "sampling_percentage must be from 0.01 to 100."
  }
}

variable "session_timeout_minutes" {
  type        = number
  description = "Minutes without a new turn after which a session counts as finished and is evaluated."
  default     = 15

  validation {
    condition     = var.session_timeout_minutes >= 1 && var.session_timeout_minutes <= 1440 && floor(var.session_timeout_minutes) == var.session_timeout_minutes
    error_message = "session_timeout_minutes must be a whole number from 1 to 1440."
  }
}

variable "runtime_log_group_names" {
  type        = list(string)
  description = "CloudWatch log groups holding the runtime's spans and logs: the runtime's log group (agent_runtime's log_group_name output) and aws/spans, where Transaction Search puts spans."
  default     = []

  validation {
    condition     = alltrue([for group in var.runtime_log_group_names : can(regex("^[a-zA-Z0-9_./#-]{1,512}$", group))])
    error_message = "runtime_log_group_names must be CloudWatch log group names."
  }
}

variable "runtime_service_names" {
  type        = list(string)
  description = "The service.name the runtime's spans carry: '<runtime name>.<endpoint>', e.g. 'myapp_agent.DEFAULT'."
  default     = []
}

variable "permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary of the evaluation execution role, if the account requires one."
  default     = null
}
