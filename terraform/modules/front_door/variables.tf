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
    path                 = string
    method               = string
    integration          = optional(string, "lambda")
    lambda_invoke_arn    = optional(string)
    http_uri             = optional(string)
    request_template     = optional(string)
    authorization        = optional(string, "COGNITO_USER_POOLS")
    authorization_scopes = optional(list(string))
    relax_waf_body_rules = optional(bool, false)
    transfer_mode        = optional(string, "BUFFERED")
  }))
  description = "Routes by name: path (e.g. /api/conversations/{session_id}), method, and an integration: \"lambda\" (Lambda proxy, lambda_invoke_arn), \"http\" (a non-proxy HTTP integration to http_uri: the Authorization header is forwarded, the JSON body mapped by request_template, 401/403 become 401 and other errors 502; pattern 1) or \"http_proxy\" (HTTP proxy to http_uri). authorization: COGNITO_USER_POOLS (default; with authorization_scopes, else the module's), AWS_IAM or NONE. relax_waf_body_rules: the route carries free text (a chat prompt), so WAF's XSS/LFI/RFI/SSRF body rules only count there (paths without {parameters}). transfer_mode: BUFFERED (default) or STREAM, a lambda route whose function streams its response (Lambda Web Adapter): API Gateway calls the function's response-streaming-invocations and passes the chunks on as they come, bounded by stream_timeout_ms instead of integration_timeout_ms. OPTIONS is added per path, never authorized."

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
    condition = alltrue([
      for r in var.routes : contains(["COGNITO_USER_POOLS", "AWS_IAM", "NONE"], r.authorization)
      && (r.authorization_scopes == null ? true : length(r.authorization_scopes) > 0)
      && (r.relax_waf_body_rules ? !strcontains(r.path, "{") : true)
    ])
    error_message = "Each route's authorization must be COGNITO_USER_POOLS, AWS_IAM or NONE; authorization_scopes, when set, must not be empty; relax_waf_body_rules needs a path without {parameters}."
  }

  validation {
    condition     = alltrue([for r in var.routes : contains(["BUFFERED", "STREAM"], r.transfer_mode) && (r.transfer_mode == "STREAM" ? r.integration == "lambda" : true)])
    error_message = "Each route's transfer_mode must be BUFFERED or STREAM; only a lambda (proxy) route can stream (HTTP APIs and non-proxy integrations cannot)."
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

variable "stream_timeout_ms" {
  type        = number
  description = "Timeout of a STREAM route in milliseconds (50-900000: API Gateway ends a stream after 15 minutes, and after 5 idle minutes on a regional endpoint); keep it above the streaming function's timeout."
  default     = 900000

  validation {
    condition     = var.stream_timeout_ms >= 50 && var.stream_timeout_ms <= 900000
    error_message = "stream_timeout_ms must be between 50 and 900000 (15 minutes)."
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
  description = "Origins of the web page. Preflight requests and mapped answers get the request's Origin when it is listed; gateway errors echo the Origin when several are listed; WAF's own blocks (429, 413) carry the first. The Lambdas check the full list."

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

variable "log_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key (ARN) for the access and WAF log groups; null uses CloudWatch Logs' AWS managed encryption. The key policy must allow logs.<region>.amazonaws.com (kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe* with kms:EncryptionContext:aws:logs:arn), or the log groups cannot be created."
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:...), or null: CloudWatch Logs accepts only a key ARN."
  }
}

variable "logging_enabled" {
  type        = bool
  description = "Access logs and execution logs. They need the account's API Gateway CloudWatch Logs role, a one-time step per account and region that this module does not take (terraform/examples/account-logging); false keeps both off so the stage deploys in an account without that role."
  default     = true
}

# --- WAF ---
variable "web_acl_arn" {
  type        = string
  description = "A central (REGIONAL) web ACL to associate with the stage instead of creating one; its owner then decides its rules, limits and logs (rate_limit_per_5_minutes, max_body_bytes and relax_waf_body_rules no longer apply)."
  default     = null

  validation {
    condition     = var.web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/", var.web_acl_arn))
    error_message = "web_acl_arn must be a REGIONAL WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/...), or null."
  }
}

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
