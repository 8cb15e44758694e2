# --- API Gateway ---
variable "api_integration_ms" {
  type        = number
  description = "API Gateway integration timeout in milliseconds (50-29000)."
  default     = 29000

  validation {
    condition     = var.api_integration_ms >= 50 && var.api_integration_ms <= 29000
    error_message = "api_integration_ms must be between 50 and 29000."
  }
}

# --- the chat Lambda and its agent client ---
variable "lambda_seconds" {
  type        = number
  description = "Chat Lambda timeout in seconds: below the integration timeout, at least agent_total_seconds + 2."
  default     = 28

  validation {
    condition     = var.lambda_seconds >= 3 && var.lambda_seconds <= 900
    error_message = "lambda_seconds must be between 3 and 900."
  }
}

variable "agent_total_seconds" {
  type        = number
  description = "One deadline for every attempt of the agent client together (AGENT_TOTAL_TIMEOUT_SECONDS): a retry starts only if a whole attempt still fits before it."
  default     = 25

  validation {
    condition     = var.agent_total_seconds > 0
    error_message = "agent_total_seconds must be positive."
  }
}

variable "agent_connect_seconds" {
  type        = number
  description = "Connect timeout of one attempt (AGENT_CONNECT_TIMEOUT_SECONDS)."
  default     = 3

  validation {
    condition     = var.agent_connect_seconds > 0
    error_message = "agent_connect_seconds must be positive."
  }
}

variable "agent_read_seconds" {
  type        = number
  description = "Read timeout of one attempt (AGENT_READ_TIMEOUT_SECONDS)."
  default     = 20

  validation {
    condition     = var.agent_read_seconds > 0
    error_message = "agent_read_seconds must be positive."
  }
}

variable "agent_max_attempts" {
  type        = number
  description = "Attempts on throttling or connection errors, never on read timeouts (AGENT_MAX_ATTEMPTS, 1-5)."
  default     = 2

  validation {
    condition     = var.agent_max_attempts >= 1 && var.agent_max_attempts <= 5
    error_message = "agent_max_attempts must be between 1 and 5."
  }
}

# --- the conversations Lambda ---
variable "conversations_lambda_seconds" {
  type        = number
  description = "Conversations Lambda timeout in seconds (10-28); DELETE removes Memory events until 3 s before it (DELETE_DEADLINE_SECONDS)."
  default     = 28

  validation {
    condition     = var.conversations_lambda_seconds >= 10 && var.conversations_lambda_seconds <= 28
    error_message = "conversations_lambda_seconds must be between 10 and 28: below API Gateway's 29 s integration timeout, with room for the delete deadline (timeout - 3 s)."
  }
}

# --- streamed answers (the chat route in STREAM mode) ---
variable "streaming" {
  type        = bool
  description = "Whether the chat routes stream (API Gateway STREAM): then the 29 s integration limit does not bound them; stream_integration_ms and the chat Lambda's own timeout (stream_lambda_seconds) do."
  default     = false
}

variable "stream_integration_ms" {
  type        = number
  description = "Timeout of the STREAM routes in milliseconds (50-900000: a stream lasts at most 15 minutes)."
  default     = 900000

  validation {
    condition     = var.stream_integration_ms >= 50 && var.stream_integration_ms <= 900000
    error_message = "stream_integration_ms must be between 50 and 900000."
  }
}

variable "stream_lambda_seconds" {
  type        = number
  description = "Chat Lambda timeout in seconds when it streams (10-900): a streamed turn ends with an error event a second before it, and the turn must still be stored (2 s) after its last event."
  default     = 120

  validation {
    condition     = var.stream_lambda_seconds >= 10 && var.stream_lambda_seconds <= 900
    error_message = "stream_lambda_seconds must be between 10 and 900."
  }
}
