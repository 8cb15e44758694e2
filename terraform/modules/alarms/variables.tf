# --- naming and tags ---
variable "name" {
  type        = string
  description = "Prefix of the alarm names (<name>-api-5xx, <name>-<function>-throttles, ...)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,200}$", var.name))
    error_message = "name must be 1-200 letters, digits, '_', '-' or '.'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every alarm."
  default     = {}
}

# --- where alarms go ---
variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic every alarm notifies when it fires and when it recovers (spend_limits' alerts_topic_arn, the budget's topic); null keeps the alarms without actions (their state shows in the CloudWatch console)."
  default     = null
}

# --- what is watched ---
variable "api_name" {
  type        = string
  description = "Name of the REST API (front_door's api_name output): its 5XXError metric."
}

variable "stage_name" {
  type        = string
  description = "Stage of the REST API (front_door's stage_name output)."
}

variable "function_names" {
  type        = map(string)
  description = "The stack's Lambda functions by role (chat, conversations, ...) => function name: one Throttles alarm each. Keys must be known at plan (literals)."
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace the functions' Powertools metrics go to (their POWERTOOLS_METRICS_NAMESPACE)."
}

variable "chat_service_name" {
  type        = string
  description = "The chat function's Powertools service (its POWERTOOLS_SERVICE_NAME): the `service` dimension of QuotaChargeFailures, AgentErrors and AgentTimeouts."
  default     = "chat"
}

# --- thresholds (per 5 minutes) ---
variable "api_5xx_threshold" {
  type        = number
  description = "API answers with a 5xx status in 5 minutes above which the alarm fires (throttled functions answer 503, an agent failure 502, a timeout 504)."
  default     = 5

  validation {
    condition     = var.api_5xx_threshold >= 0
    error_message = "api_5xx_threshold must be 0 or more."
  }
}

variable "agent_error_threshold" {
  type        = number
  description = "Agent errors and timeouts the chat function answered (AgentErrors + AgentTimeouts) in 5 minutes above which the alarm fires."
  default     = 3

  validation {
    condition     = var.agent_error_threshold >= 0
    error_message = "agent_error_threshold must be 0 or more."
  }
}

variable "stream_consumers" {
  type        = map(string)
  description = "Stream-fed functions (key: a short name, value: the function name) whose IteratorAge is watched: the audit notary. A stream keeps records 24 hours."
  default     = {}
}

variable "iterator_age_threshold_seconds" {
  type        = number
  description = "Alarm when a stream-fed function's oldest unprocessed record is older than this (well under the stream's 24 hours)."
  default     = 3600

  validation {
    condition     = var.iterator_age_threshold_seconds >= 60 && var.iterator_age_threshold_seconds <= 43200
    error_message = "iterator_age_threshold_seconds must be 60 to 43200 (12 hours: half the stream's retention)."
  }
}
