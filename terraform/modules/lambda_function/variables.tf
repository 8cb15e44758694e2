# --- naming and tags ---
variable "name" {
  type        = string
  description = "Function name (also the prefix of its role, <first 37 characters of name>-<unique suffix>, and the name of its log group)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, '-' or '_'."
  }
}

variable "description" {
  type        = string
  description = "What the function is for."
  default     = ""
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource."
  default     = {}
}

# --- code ---
variable "artifact_path" {
  type        = string
  description = "Path of the deployment zip (built by `agentarch build` into lambda_build/dist/)."
}

variable "handler" {
  type        = string
  description = "Handler as the runtime expects it: module.function for Python (agentarch.handlers.chat.lambda_handler), file.function for Node.js and Ruby, package.Class::method for Java, Assembly::Namespace.Class::Method for .NET, anything (often bootstrap) for provided runtimes. At most 128 characters, no whitespace."

  validation {
    condition     = can(regex("^\\S{1,128}$", var.handler))
    error_message = "handler must be 1-128 characters without whitespace."
  }

  validation {
    condition     = !startswith(var.runtime, "python") || can(regex("^[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler))
    error_message = "A Python handler must look like package.module.function."
  }
}

variable "response_streaming" {
  type = object({
    web_adapter_layer_arn = string
    port                  = optional(number, 8080)
  })
  description = "Stream the function's responses (API Gateway STREAM routes): the managed Python runtime cannot stream by itself, so the Lambda Web Adapter layer (web_adapter_layer_arn, e.g. arn:aws:lambda:<region>:753240598075:layer:LambdaAdapterLayerArm64:25) runs the zip's run.sh, an ASGI server on port, in response_stream mode; the handler becomes run.sh. null (default): a plain handler, buffered responses."
  default     = null

  validation {
    condition     = var.response_streaming == null ? true : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.response_streaming.web_adapter_layer_arn))
    error_message = "response_streaming.web_adapter_layer_arn must be a layer version ARN: arn:aws:lambda:<region>:<account>:layer:<name>:<version>."
  }
}

variable "runtime" {
  type        = string
  description = "Lambda managed runtime. agentarch's zips are built for python3.13 (python3.12 also works); any current managed runtime is accepted for other functions (the Powertools layer needs Python)."
  default     = "python3.13"

  validation {
    condition = contains([
      "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
      "nodejs20.x", "nodejs22.x", "nodejs24.x", "java17", "java21", "java25",
      "dotnet8", "dotnet10", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023",
    ], var.runtime)
    error_message = "runtime must be a current Lambda managed runtime: python3.10-3.14, nodejs20.x/22.x/24.x, java17/21/25, dotnet8/10, ruby3.3/3.4, provided.al2 or provided.al2023."
  }
}

variable "botocore_data_path" {
  type        = bool
  description = "Set AWS_DATA_PATH=/var/task/botocore_data so botocore reads the API descriptions agentarch's zips carry. Turn off for any other function."
  default     = true
}

variable "architecture" {
  type        = string
  description = "Instruction set. One of arm64, x86_64 (must match the wheels in the zip)."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be one of arm64, x86_64."
  }
}

variable "powertools_layer_version" {
  type        = number
  description = "Version N of the public layer AWSLambdaPowertoolsPythonV3-<python>-<arch>:N; null adds no Powertools layer."
  default     = null

  validation {
    condition     = var.powertools_layer_version == null || try(var.powertools_layer_version >= 1, false)
    error_message = "powertools_layer_version must be a positive layer version, or null."
  }
}

variable "extra_layer_arns" {
  type        = list(string)
  description = "Further layer ARNs, after the Powertools layer."
  default     = []
}

# --- sizing and limits ---
variable "memory_size" {
  type        = number
  description = "Memory in MB (128-10240); CPU scales with it."
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "Function timeout in seconds. Behind API Gateway keep it below the 29 s integration timeout."
  default     = 28

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900."
  }
}

variable "reserved_concurrent_executions" {
  type        = number
  description = "Concurrency reserved for (and capping) the function; -1 reserves none. Reserving needs the account's concurrency quota (L-B99A9384) to keep 100 unreserved: new accounts (quota 10) must keep -1; the plan reads the quota (servicequotas:GetServiceQuota) and refuses a reservation it cannot hold."
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1
    error_message = "reserved_concurrent_executions must be -1 (no reservation) or a non-negative number."
  }
}

variable "environment" {
  type        = map(string)
  description = "Environment variables (names from agentarch.config.Env, plus POWERTOOLS_*). Names Lambda reserves (AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, _HANDLER, ...: the reserved list in the Lambda developer guide) are refused: Lambda sets them itself and the apply would fail."
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.environment) : can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", name))])
    error_message = "Environment variable names must start with a letter and hold only letters, digits and '_'."
  }

  validation {
    condition = length(setintersection(keys(var.environment), [
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
    ])) == 0
    error_message = "environment sets a variable Lambda reserves (_HANDLER, _X_AMZN_TRACE_ID, AWS_DEFAULT_REGION, AWS_REGION, AWS_EXECUTION_ENV, AWS_LAMBDA_FUNCTION_*, AWS_LAMBDA_INITIALIZATION_TYPE, AWS_LAMBDA_LOG_*, AWS credentials, AWS_LAMBDA_RUNTIME_API, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, TZ)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for environment variables and the log group; null uses AWS managed keys. Its key policy must allow logs.<region>.amazonaws.com (kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe* with kms:EncryptionContext:aws:logs:arn) or the log group cannot be created; see README."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...), or null: CloudWatch Logs accepts only a key ARN."
  }
}

# --- logs ---
variable "log_retention_days" {
  type        = number
  description = "Retention of the function's log group, in days."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653)."
  }
}

variable "log_level" {
  type        = string
  description = "Application log level. One of DEBUG, INFO, WARN, ERROR."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARN, ERROR."
  }
}

# --- permissions ---
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
  description = "What the function may do beyond writing its logs and traces: one statement per concern, least privilege, with optional conditions ({ test, variable, values })."
  default     = []

  validation {
    condition     = alltrue([for s in var.policy_statements : contains(["Allow", "Deny"], s.effect) && can(regex("^[A-Za-z0-9]+$", s.sid)) && length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "Each statement needs an alphanumeric sid, effect Allow or Deny, at least one action and one resource."
  }
}

variable "role_arn" {
  type        = string
  description = "Bring your own execution role (trusting lambda.amazonaws.com); null creates one named <name>-<unique suffix>. The module still attaches its inline policy (own log group, traces, policy_statements) to it."
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

variable "api_gateway_source_arn" {
  type        = string
  description = "execute-api ARN pattern allowed to invoke the function (e.g. <execution_arn>/*/POST/api/chat); null adds no permission. For several routes use api_gateway_routes."
  default     = null
}

variable "api_gateway_execution_arn" {
  type        = string
  description = "Execution ARN of the REST API (front_door's execution_arn) that api_gateway_routes are on."
  default     = null
}

variable "api_gateway_routes" {
  type        = map(string)
  description = "The routes that may invoke the function, by name => \"METHOD/path\" as API Gateway names them in the source ARN (a path parameter is *): e.g. { chat = \"POST/api/chat\", history = \"GET/api/conversations/*\" }. One permission each, on any stage of api_gateway_execution_arn; nothing wider than the routes the function serves."
  default     = {}

  validation {
    condition     = alltrue([for route in values(var.api_gateway_routes) : can(regex("^(GET|POST|PUT|PATCH|DELETE)(/[A-Za-z0-9_.*-]+)+$", route))])
    error_message = "Each api_gateway_routes value must be METHOD/path, e.g. POST/api/chat or GET/api/conversations/* (methods GET, POST, PUT, PATCH, DELETE)."
  }
}

# --- stream triggers ---
variable "stream_sources" {
  type = map(object({
    event_source_arn        = string
    batching_window_seconds = optional(number, 60)
    batch_size              = optional(number, 1000)
  }))
  description = "DynamoDB streams that invoke the function (key: a short name): the audit notary reads the audit table's. A failed batch is retried whole until the stream's 24 hours run out."
  default     = {}

  validation {
    condition     = alltrue([for s in values(var.stream_sources) : s.batching_window_seconds >= 0 && s.batching_window_seconds <= 300 && s.batch_size >= 1 && s.batch_size <= 10000])
    error_message = "batching_window_seconds must be 0-300 and batch_size 1-10000."
  }
}
