# --- naming and tags ---
variable "name" {
  type        = string
  description = "Name of the REST API; prefixes its log groups and web ACL."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$", var.name))
    error_message = "name must be letters, digits, '-' or '_' (max 100), starting with a letter or digit."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource."
  default     = {}
}

# --- routes ---
variable "routes" {
  type = map(object({
    path              = string
    method            = string
    integration       = optional(string, "lambda")
    lambda_invoke_arn = optional(string)
    http_uri          = optional(string)
    request_template  = optional(string)
  }))
  description = "Routes by name: path (e.g. /api/conversations/{session_id}), method, and an integration: \"lambda\" (Lambda proxy, lambda_invoke_arn), \"http\" (HTTP passthrough to http_uri with the Authorization header forwarded and the JSON body mapped by request_template, pattern 1) or \"http_proxy\" (HTTP proxy to http_uri). Every route requires the Cognito authorizer and the API scope; OPTIONS is added per path without it."

  validation {
    condition = alltrue([
      for r in var.routes : contains(["GET", "POST", "PUT", "PATCH", "DELETE"], r.method)
      && can(regex("^(/[A-Za-z0-9_.{}-]+){1,4}$", r.path))
      && contains(["lambda", "http", "http_proxy"], r.integration)
      && (r.integration == "lambda" ? r.lambda_invoke_arn != null : r.http_uri != null)
      && (r.integration == "http" ? r.request_template != null : true)
    ])
    error_message = "Each route needs a method in GET, POST, PUT, PATCH, DELETE; a path of 1 to 4 segments starting with '/'; integration lambda (with lambda_invoke_arn), http (with http_uri and request_template) or http_proxy (with http_uri)."
  }

  validation {
    condition     = length(distinct([for r in var.routes : "${r.method} ${r.path}"])) == length(var.routes)
    error_message = "Two routes share the same method and path."
  }
}

variable "integration_timeout_ms" {
  type        = number
  description = "Integration timeout in milliseconds (50-29000); keep it above the Lambda timeout."
  default     = 29000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 29000
    error_message = "integration_timeout_ms must be between 50 and 29000."
  }
}

# --- authentication ---
variable "user_pool_arn" {
  type        = string
  description = "ARN of the Cognito user pool whose tokens the authorizer accepts."
}

variable "authorization_scopes" {
  type        = list(string)
  description = "Scopes every route requires. With scopes the Cognito authorizer takes access tokens (and refuses ID tokens)."

  validation {
    condition     = length(var.authorization_scopes) > 0
    error_message = "At least one scope is required: the API is called with access tokens."
  }
}

# --- CORS ---
variable "allowed_origins" {
  type        = list(string)
  description = "Origins of the web page. The first answers preflight requests and gateway errors; the Lambdas check the full list."

  validation {
    condition     = length(var.allowed_origins) > 0 && alltrue([for o in var.allowed_origins : can(regex("^(https?://[^/]+|\\*)$", o))])
    error_message = "allowed_origins needs at least one origin like https://app.example.com (scheme and host, no path)."
  }
}

variable "cors_allow_headers" {
  type        = list(string)
  description = "Request headers the browser may send."
  default     = ["Content-Type", "Authorization", "Idempotency-Key", "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"]
}

# --- stage, logs and throttling ---
variable "stage_name" {
  type        = string
  description = "Name of the stage (appears in the URL)."
  default     = "prod"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_]{1,128}$", var.stage_name))
    error_message = "stage_name must be letters, digits or underscores."
  }
}

variable "throttling_rate_limit" {
  type        = number
  description = "Steady-state requests per second allowed across the stage."
  default     = 10

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive."
  }
}

variable "throttling_burst_limit" {
  type        = number
  description = "Burst of requests allowed across the stage."
  default     = 20

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be positive."
  }
}

variable "execution_logging_level" {
  type        = string
  description = "API Gateway execution logs. One of OFF, ERROR, INFO (needs the account's CloudWatch role)."
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be one of OFF, ERROR, INFO."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the access and WAF log groups, in days."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653)."
  }
}

variable "manage_account_cloudwatch_role" {
  type        = bool
  description = "Set the account-wide API Gateway CloudWatch Logs role (needed once per account and region for access/execution logs). Turn off if something else manages it."
  default     = false
}

# --- WAF ---
variable "rate_limit_per_5_minutes" {
  type        = number
  description = "Requests one IP may send in 5 minutes before WAF blocks it (429)."
  default     = 300

  validation {
    condition     = var.rate_limit_per_5_minutes >= 10
    error_message = "rate_limit_per_5_minutes must be at least 10 (the WAF minimum)."
  }
}

variable "max_body_bytes" {
  type        = number
  description = "Largest request body accepted; WAF blocks larger ones (413). Feed the same value to the Lambdas' MAX_BODY_BYTES."
  default     = 32768

  validation {
    condition     = var.max_body_bytes >= 1024 && var.max_body_bytes <= 65536
    error_message = "max_body_bytes must be between 1024 and 65536 (the largest body WAF can inspect for API Gateway)."
  }
}
