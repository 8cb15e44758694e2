# --- naming and tags ---
variable "name" {
  type        = string
  description = "Memory name: a letter, then letters, digits or underscores (max 48). No hyphens."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,47}$", var.name))
    error_message = "name must match [a-zA-Z][a-zA-Z0-9_]{0,47}: AgentCore refuses hyphens."
  }
}

variable "description" {
  type        = string
  description = "What the memory holds."
  default     = "agentarch conversation history (USER/ASSISTANT events per turn)"
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource."
  default     = {}
}

# --- short-term memory (events) ---
variable "event_expiry_days" {
  type        = number
  description = "Days after which conversation events expire (7-365)."
  default     = 30

  validation {
    condition     = var.event_expiry_days >= 7 && var.event_expiry_days <= 365
    error_message = "event_expiry_days must be between 7 and 365."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the memory; null uses a service-owned key."
  default     = null
}

# --- long-term memory (optional strategies) ---
variable "strategies" {
  type = map(object({
    type        = string
    namespaces  = list(string)
    description = optional(string)
  }))
  description = "Long-term strategies by name (built-in types SEMANTIC, SUMMARIZATION, USER_PREFERENCE), e.g. { facts = { type = \"SEMANTIC\", namespaces = [\"/facts/{actorId}\"] } }. Empty keeps events only."
  default     = {}

  validation {
    condition = alltrue([
      for name, s in var.strategies : contains(["SEMANTIC", "SUMMARIZATION", "USER_PREFERENCE"], s.type) && can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,47}$", name))
    ])
    error_message = "Each strategy needs a type in SEMANTIC, SUMMARIZATION, USER_PREFERENCE and a name matching [a-zA-Z][a-zA-Z0-9_]{0,47}."
  }
}
